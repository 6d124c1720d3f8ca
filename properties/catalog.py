"""The property catalog: every property in report order, lookup by id or name, and what is not modelled.

Order: the two headline properties (H-1, H-2), the digest's safety properties S-1..S-14, its
liveness properties L-1..L-7, the TCP properties T-1, T-2, the SA-deletion property D-1, rules checked as properties of their own (ND-27, ND-28), then the
witnesses W-1.. (``sometimes``: each concern has at
least one, so a property that holds is known not to hold vacuously).  Properties the model cannot
express are listed in :data:`NOT_MODELLED` with the reason.
"""

from __future__ import annotations

import re

from ..model.suggest import did_you_mean
from . import downgrade, fallback, ge, ike, multiflow, policy, rekey, tcp, timing, upgrade
from .base import Property

_ALL = (fallback.PROPERTIES + upgrade.PROPERTIES + downgrade.PROPERTIES + ge.PROPERTIES
        + policy.PROPERTIES + ike.PROPERTIES + rekey.PROPERTIES + tcp.PROPERTIES
        + timing.PROPERTIES + multiflow.PROPERTIES)


def _order(p: Property) -> tuple[int, int]:
    m = re.fullmatch(r"(H|S|L|T|D|F|ND|W)-(\d+)", p.id)
    assert m, p.id
    return (("H", "S", "L", "T", "D", "F", "ND", "W").index(m.group(1)), int(m.group(2)))


#: Every property, in report order.
PROPERTIES: tuple[Property, ...] = tuple(sorted(_ALL, key=_order))

#: Digest properties the model cannot express, with the reason.
NOT_MODELLED: dict[str, str] = {
    "S-8": "every SA of the model is an ESP encryption SA: there is no transform choice that "
           "could make a GE SA integrity-only",
}

_BY_KEY: dict[str, Property] = {}
for _p in PROPERTIES:
    for _k in (_p.id, _p.name):
        if _k in _BY_KEY:
            raise ValueError(f"duplicate property id or name {_k!r}")
        _BY_KEY[_k] = _p


class UnknownProperty(KeyError):
    """A property id or name that the catalog does not define."""

    def __str__(self) -> str:
        return str(self.args[0])


def get_property(key: str) -> Property:
    """A property by id (``S-1``) or name (``secure_flow_never_sends_clear``)."""
    try:
        return _BY_KEY[key]
    except KeyError:
        extra = f" ({NOT_MODELLED[key]})" if key in NOT_MODELLED else ""
        raise UnknownProperty(
            f"unknown property {key!r}{extra}; available: {', '.join(p.id for p in PROPERTIES)}"
            f"{did_you_mean(key, list(_BY_KEY))}"
        ) from None
