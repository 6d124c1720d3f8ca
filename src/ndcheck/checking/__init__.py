"""Checking: properties decided on scenarios, compared with their expectations.

Owns :mod:`.results` (verdicts and check results), :mod:`.expectations` (a scenario's
``[expect]`` table), :mod:`.explicit` (property kinds decided on an explored graph),
:mod:`.symbolic` (the z3 engine driven with catalog properties; its counterexamples replayed),
:mod:`.check` (the public entry points ``check``, ``check_graph``, ``shortest_trace``),
:mod:`.conform` (is a wire trace a behaviour of the model?) and :mod:`.coverage` (transitions
and rule branches exercised).

May import: :mod:`ndcheck.model`, :mod:`ndcheck.properties`, :mod:`ndcheck.engines`,
:mod:`ndcheck.traces`.  Imported by reports, cli and viz.
"""
