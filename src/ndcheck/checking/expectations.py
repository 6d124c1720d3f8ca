"""Expectations: a scenario's ``[expect]`` table resolved against the property catalog.

Keys are property ids or names.  The built-in catalog lists every applicable property
explicitly; in a scenario with some ``[expect]`` entries a property without an entry is expected
to ``hold``.  A scenario with no entries at all has no expectation: every verdict is reported and
none is a mismatch (``strict=True``: a missing entry means ``holds`` there too).  An entry for
an unknown or inapplicable property is bad input.  An expected ``violated`` may carry its
:class:`~ndcheck.model.scenario.Cause` (:func:`causes`): ``spec`` or ``policy``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model.ir import System
from ..model.scenario import Cause, ScenarioError
from ..properties.base import Property
from ..properties.catalog import UnknownProperty, get_property


def _entries(system: System) -> dict[str, str]:
    """``{property id: [expect] key}``; an unknown or inapplicable property is a ScenarioError."""
    sc = system.scenario
    raw = dict(sc.expect) if sc is not None else {}
    source = sc.source if sc is not None else system.name
    out: dict[str, str] = {}
    for key in raw:
        try:
            p = get_property(key)
        except UnknownProperty as e:
            raise ScenarioError(f"{source}: [expect] {e}") from None
        if not p.applies(system):
            raise ScenarioError(
                f"{source}: [expect] {key}: property {p.id} ({p.name}) does not apply to scenario "
                f"{system.name!r}; remove the entry")
        out[p.id] = key
    return out


def expectations(system: System, props: Sequence[Property], strict: bool = False) -> dict[str, str | None]:
    """``{property id: expected verdict}`` for the applicable ``props`` from the scenario's [expect].

    A scenario without ``[expect]`` entries maps every property to None (no expectation) unless
    ``strict``; otherwise a property without an entry is expected to hold.  Raises
    :class:`ScenarioError` for an entry naming an unknown or inapplicable property.
    """
    sc = system.scenario
    out = {pid: sc.expect[key] for pid, key in _entries(system).items()} if sc is not None else {}
    default = "holds" if out or strict else None
    return {p.id: out.get(p.id, default) for p in props}


def causes(system: System, props: Sequence[Property]) -> dict[str, Cause | None]:
    """``{property id: cause}`` for ``props``: the cause of an expected ``violated`` (None where
    there is none, or the expectation is not ``violated``)."""
    sc = system.scenario
    keys = _entries(system) if sc is not None else {}
    return {p.id: sc.causes.get(keys[p.id]) if sc is not None and p.id in keys else None
            for p in props}
