"""Reports: traces and verdicts rendered for people and for other tools.

Owns :mod:`.render` (one entry point per format), :mod:`.text`, :mod:`.mermaid`, :mod:`.svg`
(sequence charts like the specification's figures), :mod:`.junit` (JUnit XML for CI) and
:mod:`.findings` (FINDINGS.md: the catalog's expected violations by cause).

May import: :mod:`ndcheck.model`, :mod:`ndcheck.traces`, :mod:`ndcheck.checking`.  Imported by
cli and viz.
"""
