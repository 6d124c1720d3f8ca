"""Traces: paths of the product graph as named, replayed steps, and the wire traces of captures.

Owns :mod:`.trace` (a path of commands replayed through the IR and the python-statemachine
instances), :mod:`.wire` (the wire-trace text format: parse and print), :mod:`.msc` (a trace
laid out as a message sequence chart, for every renderer), :mod:`.capture` (pcap and pcapng files
decoded into the wire vocabulary, with dpkt), :mod:`.isakmp` (IKEv1 messages named from the
ISAKMP header) and :mod:`.sides` (a capture's addresses assigned to client and server).

May import: :mod:`ndcheck.model`.  Imported by checking, reports, cli and viz; never by the
engines (they return command sequences, which checking turns into traces).
"""
