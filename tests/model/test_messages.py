"""Message ids: the model's names for its messages, and their inverse (``numbered``)."""

from __future__ import annotations

import doctest

import pytest

from ndcheck.model import messages
from ndcheck.model.messages import ack, data, in_flow, numbered


def test_doctests():
    result = doctest.testmod(messages)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("i", [0, 1, 9, 24, 5000])
def test_numbered_inverts_data_and_ack(i):
    assert numbered(ack(i)) == ("ACK", i)
    if i:
        assert numbered(data(i)) == ("DATA", i)


@pytest.mark.parametrize("msg", ["ACKF", "SYN", "SYN-ACK", "ACK", "DATA", "RST", "FIN", "MM1", "QM1/BG",
                                 in_flow(data(1), 2), in_flow(ack(2), 2), "DATA1/x"])
def test_numbered_is_none_for_every_other_id(msg):
    assert numbered(msg) is None
