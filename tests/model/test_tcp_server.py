"""TcpServer: the passive opener's control states (RFC 9293 names)."""

from __future__ import annotations

from ndcheck.model.machines import TcpServer


def test_states():
    assert [s.name for s in TcpServer.states] == [
        "LISTEN", "SYN-RECEIVED", "ESTABLISHED", "LAST-ACK", "CLOSED"]
