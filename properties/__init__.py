"""What must hold: the property catalog, grouped by concern, and the language it is written in.

Owns :mod:`.base` (a property: id, kind, claim, rules, and its predicate as IR expressions),
:mod:`.predicates` (the vocabulary: flow flags, SA bits, control states, packets in flight),
one module per concern (:mod:`.downgrade`, :mod:`.upgrade`, :mod:`.fallback`, :mod:`.ge`,
:mod:`.policy`, :mod:`.ike`, :mod:`.rekey`, :mod:`.tcp`) and :mod:`.catalog` (every property in
report order, looked up by id or name).

May import: :mod:`ndcheck.model` only.  Properties are data over the IR: an engine receives a
property as an object and never imports this package.
"""
