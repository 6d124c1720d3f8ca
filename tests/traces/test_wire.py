"""Wire traces (DESIGN.md "Wire traces"): parsing and one-line errors naming file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ndcheck.model.ir import Packet
from ndcheck.traces.wire import WireError, format_wire, parse_packet, parse_wire, read_wire

WIRE_DIR = Path(__file__).resolve().parents[1] / "wire"


def test_packets_comments_and_blank_lines():
    text = "# capture\n\nclient>server SYN clear   # ND-8\n  client>server MM1\nserver>client SYN-ACK esp\n"
    t = parse_wire(text, "cap.txt")
    assert t.packets == (Packet("client", "server", "SYN", "clear"), Packet("client", "server", "MM1"),
                         Packet("server", "client", "SYN-ACK", "esp"))
    assert t.lines == (3, 4, 5)
    assert t.wire() == ["client>server SYN clear", "client>server MM1", "server>client SYN-ACK esp"]
    assert len(t) == 3


def test_every_message_of_the_vocabulary_parses():
    for m in ("MM1", "MM2", "MM3", "MM4", "MM5", "MM6", "QM1", "QM2", "QM3", "CONNECTED", "NOTIFY", "ICMP"):
        assert parse_packet(f"server>client {m}").message == m
    for m in ("SYN", "SYN-ACK", "ACK", "DATA", "FIN", "RST"):
        for prot in ("clear", "esp"):
            assert parse_packet(f"client>server {m} {prot}").wire() == f"client>server {m} {prot}"


def test_what_a_capture_shows_parses_too():
    """'*' (a TCP segment of unknown kind, as ESP shows it), DELETE and INFO (an encrypted
    Informational exchange)."""
    assert parse_packet("client>server * esp") == Packet("client", "server", "*", "esp")
    assert parse_packet("server>client * clear").wire() == "server>client * clear"
    assert parse_packet("server>client DELETE") == Packet("server", "client", "DELETE")
    assert parse_packet("server>client INFO").protection is None
    t = parse_wire("client>server * esp\nserver>client INFO\n")
    assert parse_wire(format_wire(t.packets)).packets == t.packets


@pytest.mark.parametrize("observed, sent, expected", [
    ("client>server * esp", "client>server DATA esp", True),
    ("client>server * esp", "client>server SYN esp", True),
    ("client>server * esp", "client>server DATA clear", False),
    ("client>server * esp", "server>client DATA esp", False),
    ("client>server * esp", "client>server MM1", False),
    ("client>server * clear", "client>server FIN clear", True),
    ("server>client INFO", "server>client NOTIFY", True),
    ("server>client INFO", "server>client DELETE", True),
    ("server>client INFO", "server>client CONNECTED", False),
    ("server>client INFO", "client>server NOTIFY", False),
    ("server>client DELETE", "server>client NOTIFY", False),
    ("client>server SYN clear", "client>server SYN clear", True),
    ("client>server SYN clear", "client>server SYN esp", False),
])
def test_matches(observed, sent, expected):
    from ndcheck.traces.wire import matches

    assert matches(observed, sent) is expected


def test_spaces_around_the_arrow_are_tolerated():
    assert parse_packet("client > server DATA esp") == Packet("client", "server", "DATA", "esp")


def test_format_round_trips():
    t = parse_wire("client>server SYN clear\nserver>client MM2\n")
    assert parse_wire(format_wire(t.packets)).packets == t.packets
    assert format_wire(["client>server MM1"]) == "client>server MM1\n"


@pytest.mark.parametrize("line, message", [
    ("alice>server SYN clear", "c.txt:2: unknown sender 'alice'; hosts are client, server"),
    ("client>bob SYN clear", "c.txt:2: unknown receiver 'bob'; hosts are client, server"),
    ("Client>server SYN clear", "c.txt:2: unknown sender 'Client' (did you mean 'client'?)"),
    ("client>client SYN clear", "c.txt:2: client sends to itself"),
    ("client>server PING", "c.txt:2: unknown message 'PING'; messages are MM1, MM2"),
    ("client>server syn clear", "c.txt:2: unknown message 'syn' (did you mean 'SYN'?)"),
    ("client>server SYN", "c.txt:2: TCP segment SYN needs a protection: clear or esp"),
    ("client>server DATA ah", "c.txt:2: unknown protection 'ah' for DATA; allowed: clear, esp"),
    ("client>server DATA ESP", "c.txt:2: unknown protection 'ESP' (did you mean 'esp'?)"),
    ("client>server MM1 esp", "c.txt:2: IKE message MM1 takes no protection (got 'esp')"),
    ("client>server SYN clear extra", "c.txt:2: unexpected text 'extra' after the protection"),
    ("client server SYN clear", "c.txt:2: expected SENDER>RECEIVER MESSAGE [clear|esp]"),
    ("client>server", "c.txt:2: missing message after 'client>server'"),
    ("client>server SYN\x07 clear", "c.txt:2: control character"),
    ("client>server *", "c.txt:2: '*' (a TCP segment of unknown kind) needs a protection: clear or esp"),
    ("client>server INFO esp", "c.txt:2: IKE message INFO takes no protection (got 'esp')"),
    ("client>server delete", "c.txt:2: unknown message 'delete' (did you mean 'DELETE'?)"),
])
def test_bad_lines_name_file_line_problem_and_what_is_allowed(line, message):
    with pytest.raises(WireError) as e:
        parse_wire(f"client>server MM1\n{line}\n", "c.txt")
    text = str(e.value)
    assert text.startswith(message), text
    assert "\n" not in text


def test_an_empty_trace_is_an_error():
    for text in ("", "\n\n", "# only a comment\n   # another\n"):
        with pytest.raises(WireError, match=r"^e.txt: no packets"):
            parse_wire(text, "e.txt")


def test_binary_and_non_utf8_files_are_rejected(tmp_path):
    b = tmp_path / "capture.pcap"
    b.write_bytes(b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00")
    with pytest.raises(WireError, match=r"capture.pcap: binary data .*expected a text wire trace"):
        read_wire(b)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("client>server SYN clear # caf\xe9\n".encode("latin-1"))
    with pytest.raises(WireError, match=r"latin.txt: not UTF-8 text \(byte 0xe9 at offset 29\)"):
        read_wire(latin)
    nul = tmp_path / "nul.txt"
    nul.write_text("client>server SYN clear\x00\n")
    with pytest.raises(WireError, match=r"nul.txt: binary data \(NUL byte\)"):
        read_wire(nul)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(WireError, match=r"nope.txt: cannot read wire trace: No such file"):
        read_wire(tmp_path / "nope.txt")
    with pytest.raises(WireError, match=r"is a directory"):
        read_wire(tmp_path)


def test_a_byte_order_mark_is_harmless(tmp_path):
    f = tmp_path / "bom.txt"
    f.write_bytes("\ufeffclient>server SYN clear\n".encode("utf-8"))
    assert read_wire(f).wire() == ["client>server SYN clear"]


def test_wire_error_is_a_value_error():
    """The CLI maps WireError (a ValueError) to exit status 2."""
    assert issubclass(WireError, ValueError)


@pytest.mark.parametrize("name", ["fig7", "fig8-silent", "fig8-no-credential", "fig18", "fig19",
                                  "qm-refused"])
def test_figure_files_parse(name):
    t = read_wire(WIRE_DIR / f"{name}.txt")
    assert len(t) >= 10
    assert t.source.endswith(f"{name}.txt")


def test_module_examples():
    import doctest

    from ndcheck.traces import wire

    result = doctest.testmod(wire)
    assert result.attempted > 0 and result.failed == 0
