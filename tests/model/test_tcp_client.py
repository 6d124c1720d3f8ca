"""TcpClient: the active opener's control states (RFC 9293 names)."""

from __future__ import annotations

from ndcheck.model.machines import TcpClient


def test_states():
    assert [s.name for s in TcpClient.states] == [
        "CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "TIME-WAIT", "CLOSED-DONE", "FAILED"]
