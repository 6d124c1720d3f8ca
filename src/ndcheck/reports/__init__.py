"""Reports: traces and verdicts rendered for people and for other tools.

Owns :mod:`.render` (one entry point per format), :mod:`.text`, :mod:`.mermaid`, :mod:`.svg`
(sequence charts like the specification's figures) and :mod:`.junit` (JUnit XML for CI).

May import: :mod:`ndcheck.model`, :mod:`ndcheck.traces`, :mod:`ndcheck.checking`.  Imported by
cli and viz.
"""
