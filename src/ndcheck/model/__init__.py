"""What the system is: machines, ND rules, network, scenarios and their composition."""
