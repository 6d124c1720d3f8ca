"""TCP non-vacuity: the connection can be established and can carry its data (W-1, W-2)."""

from __future__ import annotations

from ..model.ir import F, eq
from .base import Concern
from .predicates import data_segments, in_state

tcp = Concern("tcp")

W1 = tcp.sometimes(
    "W-1", "tcp_can_establish",
    claim="Some run brings the client's TCP to ESTABLISHED.",
    rules=("ND-8", "ND-17", "ND-14"),
    state=lambda s: in_state(s, "client.tcp", "established"),
)

W2 = tcp.sometimes(
    "W-2", "all_data_delivered",
    claim="Some run delivers every data segment to the server in order.",
    rules=("ND-18", "ND-19"),
    state=lambda s: eq(F("server.rcv_nxt"), data_segments(s)),
    applies=lambda s: data_segments(s) > 0,
)

PROPERTIES = (W1, W2)
