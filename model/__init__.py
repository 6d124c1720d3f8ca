"""What the system is: machines, ND rules, network, scenarios and their composition into the IR.

Owns :mod:`.machines` (one python-statemachine class per module), :mod:`.nd_rules` (the
§3.7.4 decision tables), :mod:`.messages` (message and host names), :mod:`.network` (channels
and faults), :mod:`.scenario` (TOML scenarios and the built-in catalog), :mod:`.compose` (the
product, built into a :class:`~.ir.System`), :mod:`.ir` (fields, expressions, guarded commands)
and :mod:`.mutants` (seeded faults: systems that differ from the model in one place).

May import: nothing else of ndcheck.  Everything else imports this package; the engines import
only :mod:`.ir`.
"""
