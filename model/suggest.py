"""Close matches for a misspelt name: the "did you mean" of every bad-input message.

>>> did_you_mean("fig7-both-capabel", ["fig7-both-capable", "fig8-silent-peer"])
"; did you mean 'fig7-both-capable'?"
>>> did_you_mean("L3", ["L-1", "L-3", "S-3"])
"; did you mean 'L-3'?"
>>> did_you_mean("zzz", ["L-1", "L-3"])
''
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def _norm(s: str) -> str:
    return "".join(ch for ch in s.lower() if ch.isalnum())


def close_matches(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The choices ``word`` most likely meant: equal but for case and punctuation first
    (``l3`` → ``L-3``), then difflib's close matches."""
    choices = list(choices)
    same = [c for c in choices if _norm(c) == _norm(word) and c != word]
    if same:
        return same[:n]
    return difflib.get_close_matches(word, choices, n=n, cutoff=0.75)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` (or ``'x' or 'y'``) to append to a message, or ``""``."""
    found = close_matches(word, choices)
    if not found:
        return ""
    return "; did you mean " + " or ".join(repr(c) for c in found) + "?"
