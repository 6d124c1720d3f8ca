"""Trace renderers: the message-sequence reading (msc), text, JSON, Mermaid and SVG."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest

from ndcheck import CATALOG, build_system, explore
from ndcheck.checking.conform import conform
from ndcheck.reports.mermaid import render_mermaid
from ndcheck.reports.render import FORMATS, render, render_json, trace_document
from ndcheck.reports.svg import render_svg
from ndcheck.reports.text import render_text
from ndcheck.traces.msc import LANES, chart
from ndcheck.traces.trace import trace_from_commands, trace_to_state
from ndcheck.traces.wire import read_wire

WIRE_DIR = Path(__file__).resolve().parents[1] / "wire"
SVG = "{http://www.w3.org/2000/svg}"


@cache
def graph(name: str):
    return explore(build_system(CATALOG[name]))


@cache
def figure_trace(scenario: str, wire_file: str):
    g = graph(scenario)
    r = conform(g, read_wire(WIRE_DIR / wire_file).packets)
    assert r.accepted
    return g.system, r.witness


def first_trace(scenario: str, pred):
    """BFS-shortest trace to the first state whose incoming BFS edge satisfies ``pred(command)``."""
    g = graph(scenario)
    cmds = g.system.commands
    sid = next(i for i in range(1, g.n_states) if pred(cmds[g.parent_act[i]]))
    return g.system, trace_to_state(g, sid)


def state_trace(scenario: str, **want: str):
    g = graph(scenario)
    s = g.system
    sid = next(i for i, st in enumerate(g.states)
               if all(s.field(k).label(st[s.index[k]]) == v for k, v in want.items()))
    return s, trace_to_state(g, sid)


# ---- msc: matching sends to the steps that consume them -------------------------------------

def test_chart_matches_each_packet_to_the_step_that_consumed_it():
    system, t = figure_trace("fig19-require-inbound", "fig19.txt")
    c = chart(t, system)
    assert [m.wire for m in c.messages if not m.duplicate] == t.wire
    syns = [m for m in c.messages if m.wire == "client>server SYN clear"]
    assert [(m.sent, m.ended, m.fate, m.rule) for m in syns] == [
        (1, 2, "dropped", "ND-17/drop-new"), (6, 7, "dropped", "ND-17/drop-new")]
    for m in c.messages:
        assert m.ended is None or m.ended > m.sent
        if m.fate == "delivered":
            consumer = t.steps[m.ended - 1].action
            assert consumer.startswith(f"{m.receiver}.")
    connected = next(m for m in c.messages if m.message == "CONNECTED")
    assert t.steps[connected.ended - 1].action == "client.ike_i.recv_connected@qm3_sent"
    assert (connected.src_lane, connected.dst_lane) == ("server.ike", "client.ike")
    syn_esp = next(m for m in c.messages if m.wire == "client>server SYN esp")
    assert (syn_esp.src_lane, syn_esp.dst_lane, syn_esp.fate) == ("client.tcp", "server.tcp", "delivered")
    assert c.messages[-1].fate == "in flight"   # the last DATA was sent, not yet received
    kinds = [(n.step, n.kind, n.text) for n in c.notes if n.kind in ("success", "tcp")]
    assert (14, "success", "IPsec Successful Negotiation") in kinds
    assert any(k == "tcp" and text == "ESTABLISHED" for _, k, text in kinds)


def test_chart_marks_losses_duplicates_held_packets_and_failures():
    system, t = first_trace("fig8-silent-lossy", lambda c: c.kind == "lose")
    lost = [m for m in chart(t, system).messages if m.fate == "lost"]
    assert len(lost) == 1 and lost[0].ended == len(t.steps)

    system, t = first_trace("fig7-duplicates", lambda c: c.kind == "dup")
    c = chart(t, system)
    dups = [m for m in c.messages if m.duplicate]
    assert len(dups) == 1 and dups[0].fate == "in flight"
    assert any(n.kind == "dup" and n.step == len(t.steps) for n in c.notes)

    system, t = first_trace("fig7-both-capable", lambda c: "/held" in c.name)
    held = [n for n in chart(t, system).notes if n.kind == "held"]
    assert len(held) == 1 and held[0].step == len(t.steps)
    assert held[0].text.endswith("held (ND-10/held)")

    system, t = state_trace("fig8-silent-peer", **{"client.ike_i": "FAILED"})
    notes = [(n.kind, n.text) for n in chart(t, system).notes]
    assert ("failure", "IPsec Unsuccessful Negotiation") in notes


def test_chart_reads_fifo_channels_too():
    system, t = state_trace("fig7-fifo", **{"client.secure": "1", "server.secure": "1"})
    c = chart(t, system)
    assert [m.wire for m in c.messages] == t.wire
    for direction in ("client", "server"):
        delivered = [m for m in c.messages if m.sender == direction and m.ended is not None]
        assert [m.ended for m in delivered] == sorted(m.ended for m in delivered)  # FIFO order


@pytest.mark.parametrize("scenario", ["fig7-fifo", "fig7-duplicates", "fig8-silent-lossy", "fig19-lossy",
                                      "qm3-race"])
def test_chart_accounts_for_every_packet(scenario):
    """Every consumed channel entry was sent (or duplicated) earlier: on the BFS path to the
    deepest state and to the first state of each command kind (deliver, drop, lose, dup)."""
    g = graph(scenario)
    cmds = g.system.commands
    targets = {g.n_states - 1}
    for kind in ("deliver", "drop", "lose", "dup"):
        targets |= {next((i for i in range(1, g.n_states) if cmds[g.parent_act[i]].kind == kind), 0)}
    for sid in sorted(targets):
        t = trace_to_state(g, sid)
        c = chart(t, g.system)
        assert c.unmatched == ()
        assert [m.wire for m in c.messages if not m.duplicate] == t.wire
        ended = sum(m.ended is not None for m in c.messages)
        consumed = sum(cmds[s.command].kind in ("deliver", "drop", "lose") for s in t.steps)
        assert ended == consumed  # each delivery, drop or loss ends exactly one copy
        assert all(m.fate in ("delivered", "dropped", "lost", "ignored", "in flight") for m in c.messages)


# ---- text and JSON ----------------------------------------------------------------------------

def test_text_table_lists_steps_wire_and_changed_fields():
    _system, t = figure_trace("fig19-require-inbound", "fig19.txt")
    text = render_text(t)
    lines = text.splitlines()
    assert lines[0] == f"fig19-require-inbound: witness, {len(t.steps)} steps"
    assert lines[1].split() == ["step", "action", "wire", "changes"]
    row2 = next(line for line in lines if line.lstrip().startswith("2  "))
    assert row2.split() == ["2", "server.nd.drop[SYN", "clear:", "ND-17/drop-new]", "-", "-"]
    assert "client>server MM1" in lines[3]  # the second packet of step 1 on its own line
    assert "net." not in text
    assert "net.c2s.SYN.clear=1" in render_text(t, network=True)


def test_json_document_follows_the_design_step_format():
    _system, t = figure_trace("fig19-require-inbound", "fig19.txt")
    doc = json.loads(render_json(t))
    assert doc == json.loads(json.dumps(trace_document(t)))
    assert (doc["scenario"], doc["property"], doc["kind"], doc["length"]) == (
        "fig19-require-inbound", None, "witness", len(t.steps))
    steps = doc["steps"]
    assert [s["step"] for s in steps] == list(range(1, len(t.steps) + 1))
    assert set(steps[0]) == {"step", "action", "wire", "changes"}
    assert steps[0]["wire"] == "client>server SYN clear; client>server MM1"
    assert steps[1]["wire"] is None
    assert steps[0]["changes"]["client.tcp"] == "SYN-SENT"
    assert doc["wire"] == t.wire


# ---- Mermaid ----------------------------------------------------------------------------------

def test_mermaid_sequence_diagram_lanes_arrows_and_notes():
    system, t = figure_trace("fig19-require-inbound", "fig19.txt")
    text = render_mermaid(t, system)
    lines = text.splitlines()
    body = lines[lines.index("sequenceDiagram") + 1:]
    assert body[:4] == ["    participant cT as client TCP", "    participant cI as client IPsec/IKE",
                        "    participant sI as server IPsec/IKE", "    participant sT as server TCP"]
    arrows = [line.strip() for line in body if ":" in line and not line.strip().startswith(("Note", "participant"))]
    assert len(arrows) == len(t.wire)
    assert arrows[0] == "cT--xsT: 1 SYN clear (dropped at step 2)"
    assert arrows[1] == "cI->>sI: 1 MM1"
    esp = [a for a in arrows if " ESP" in a]
    assert esp and all(a.startswith(("cT-)sT", "sT-)cT")) for a in esp)
    assert "    Note over sI: 2 SYN clear dropped by ND-17/drop-new" in lines
    assert "    Note over cI,sI: 14 IPsec Successful Negotiation" in lines
    assert not any(ch in line for line in body for ch in ";#")


def test_mermaid_lasso_has_a_loop_block_or_a_final_note():
    system, t = figure_trace("fig7-both-capable", "fig7.txt")
    cyc = dataclasses.replace(t, kind="lasso", loop_start=len(t.steps) - 2)
    text = render_mermaid(cyc, system)
    assert "    loop repeats forever" in text and text.rstrip().endswith("end")
    stay = dataclasses.replace(t, kind="lasso", loop_start=len(t.steps))
    text = render_mermaid(stay, system)
    assert "loop" not in text.split("sequenceDiagram")[1].replace("the run stays", "")
    assert "the run stays here forever" in text


# ---- SVG --------------------------------------------------------------------------------------

def _svg(system, t) -> ET.Element:
    root = ET.fromstring(render_svg(t, system))
    assert root.tag == f"{SVG}svg"
    return root


def _groups(root, cls_word: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if cls_word in g.get("class", "").split()]


def _texts(root) -> list[str]:
    return ["".join(e.itertext()) for e in root.iter(f"{SVG}text")]


def test_svg_chart_has_lanes_styled_arrows_crosses_notes_and_legend():
    system, t = figure_trace("fig19-require-inbound", "fig19.txt")
    root = _svg(system, t)
    texts = _texts(root)
    for title in ("client TCP", "client IPsec/IKE", "server IPsec/IKE", "server TCP"):
        assert title in texts
    msgs = _groups(root, "msg")
    assert len(msgs) == len(t.wire)
    esp = _groups(root, "esp")
    assert len(esp) == sum(p.endswith(" esp") for p in t.wire)
    for g in esp:  # thick coloured arrows with a lock (an in-flight stub is dotted)
        if "in-flight" in g.get("class"):
            continue
        line = g.find(f"{SVG}line")
        assert float(line.get("stroke-width")) >= 3 and line.get("stroke-dasharray") is None
        assert g.find(f"{SVG}g[@class='lock']") is not None
    for g in _groups(root, "clear"):  # thin dashed black arrows
        if "in-flight" in g.get("class"):
            continue
        line = g.find(f"{SVG}line")
        assert float(line.get("stroke-width")) < 2 and line.get("stroke-dasharray")
    dropped = _groups(root, "dropped")
    assert len(dropped) == 2
    assert all(g.find(f"{SVG}path[@class='cross']") is not None for g in dropped)
    assert texts.count("dropped (ND-17/drop-new)") == 2
    assert "IPsec Successful Negotiation" in texts
    assert _groups(root, "legend")
    # one row per step: the step numbers down the left
    assert [str(i) for i in range(len(t.steps) + 1)] == [x for x in texts if x.isdigit()][:len(t.steps) + 1]


def test_svg_marks_failure_loss_and_held_packets():
    system, t = state_trace("fig8-silent-peer", **{"client.ike_i": "FAILED"})
    root = _svg(system, t)
    assert "IPsec Unsuccessful Negotiation" in _texts(root)
    assert _groups(root, "failure")

    system, t = first_trace("fig8-silent-lossy", lambda c: c.kind == "lose")
    root = _svg(system, t)
    lost = _groups(root, "lost")
    assert len(lost) == 1 and lost[0].find(f"{SVG}path[@class='cross']") is not None

    system, t = first_trace("fig7-both-capable", lambda c: "/held" in c.name)
    assert _groups(_svg(system, t), "held")


def test_svg_escapes_text_and_stays_valid_xml():
    system, t = figure_trace("fig8-silent-peer", "fig8-silent.txt")
    odd = dataclasses.replace(t, scenario='a<b & "c"', property="S-1 <x>")
    root = _svg(system, odd)
    assert root.find(f"{SVG}title").text == 'a<b & "c": witness of S-1 <x>'


def test_svg_of_an_empty_trace_is_valid():
    g = graph("fig19-require-inbound")
    t = trace_from_commands(g.system, [])
    root = _svg(g.system, t)
    assert not _groups(root, "msg")


# ---- dispatch ---------------------------------------------------------------------------------

def test_render_dispatches_every_format_and_rejects_others():
    system, t = figure_trace("fig8-no-credential", "fig8-no-credential.txt")
    outs = {fmt: render(t, system, fmt) for fmt in FORMATS}
    assert outs["text"].startswith("fig8-no-credential: witness")
    assert json.loads(outs["json"])["scenario"] == "fig8-no-credential"
    assert "sequenceDiagram" in outs["mermaid"]
    ET.fromstring(outs["svg"])
    with pytest.raises(ValueError, match="unknown trace format 'png'; allowed: text, json, mermaid, svg"):
        render(t, system, "png")


def test_lanes_are_in_figure_order():
    assert LANES == ("client.tcp", "client.ike", "server.ike", "server.tcp")


@pytest.mark.parametrize("module", ["traces.msc", "reports.render", "reports.text", "reports.mermaid",
                                    "reports.svg"])
def test_module_examples(module):
    """The Examples in each module docstring run (STYLE.md: doctested examples)."""
    import doctest
    import importlib

    mod = importlib.import_module(f"ndcheck.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
