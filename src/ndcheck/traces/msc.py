"""Message sequence charts: a replayed trace read as packets with a send step and an end step.

Renderers that draw a trace like figures 7 and 8 of MS-IKEE §3.7 need more than the wire
column: which step consumed each packet, and how (delivered, dropped by an ND inbound filter,
lost by the network, ignored by a peer without IKE).  :func:`chart` recovers that from the
trace's state vectors: each step's change of channel contents (per channel entry: direction,
message, protection) is matched against the packets the step put on the wire; a consumed entry
ends the oldest copy of it still in flight.  Packets never consumed are still in flight at the
end of the trace.  The chart also collects the notes a reader needs: packets held by ND-10/ND-15,
the IKE outcome ("IPsec Successful/Unsuccessful Negotiation", as in figures 7 and 8), the flows'
Secure flag (ND-14, ND-19), TCP reaching ESTABLISHED, closing, giving up, aborting or being
reset, duplications, and the start of a lasso's cycle.  :func:`mark_of` names the step a reader should look at first (the violating
step of a counterexample, the start of a lasso's cycle, the last step of a witness); every
renderer highlights it.

>>> from ndcheck import CATALOG, build_system, explore
>>> from ndcheck.traces.trace import trace_to_state
>>> system = build_system(CATALOG["fig19-require-inbound"])
>>> g = explore(system)
>>> t = trace_to_state(g, 3)   # SYN + MM #1 at once, then the server's ND filter drops the SYN
>>> [(m.wire, m.sent, m.ended, m.fate, m.rule) for m in chart(t, system).messages]
[('client>server SYN clear', 1, 2, 'dropped', 'ND-17/drop-new'), ('client>server MM1', 1, None, 'in flight', '')]
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..model.ir import System
from ..model.messages import HOSTS, flow_label, flow_of, other, plain, unflowed, wire_name
from ..model.network import Key, channel_reader
from .trace import Trace

__all__ = ["LANES", "LANE_TITLES", "Chart", "Mark", "Message", "Note", "chart", "lane_of", "mark_of"]

#: The four lanes of figures 7/8, left to right: each host's TCP and its IPsec/IKE (the host's
#: initiator and responder share the lane, as the figures draw one IKE column per host).
LANES = ("client.tcp", "client.ike", "server.ike", "server.tcp")
LANE_TITLES = {
    "client.tcp": "client TCP",
    "client.ike": "client IPsec/IKE",
    "server.ike": "server IPsec/IKE",
    "server.tcp": "server TCP",
}

FATES = ("delivered", "dropped", "lost", "ignored", "in flight")

#: TCP control states a chart notes when a host enters them (the label shown).
TCP_NOTES = {
    "ESTABLISHED": "ESTABLISHED",
    "FAILED": "TCP FAILED",                        # SYN budget spent (no RST)
    "ABORTED": "TCP ABORTED (RST)",                # data/FIN budget spent, RST sent
    "RESET": "TCP RESET",                          # RST received while synchronized
    "LISTEN-AGAIN": "half-open connection dropped",
    "TIME-WAIT": "TIME-WAIT",
    "CLOSED-DONE": "TCP CLOSED",
    "CLOSED": "TCP CLOSED",
}


def lane_of(host: str, ike: bool) -> str:
    return f"{host}.{'ike' if ike else 'tcp'}"


@dataclass(frozen=True, slots=True)
class Message:
    """One packet copy: sent at step ``sent`` (1-based), consumed at step ``ended`` (or None)."""

    sender: str
    receiver: str
    message: str              # wire name: SYN, DATA, MM1, ...
    internal: str             # model message id: DATA2, ACK1, QM1/B, ...
    protection: str | None    # "clear" / "esp" for TCP segments, None for IKE
    sent: int
    ended: int | None
    fate: str                 # one of FATES
    rule: str = ""            # the inbound rule row that dropped it (ND-17/drop-new, ...)
    duplicate: bool = False   # a copy made by the network (duplication fault)

    @property
    def ike(self) -> bool:
        return self.protection is None

    @property
    def esp(self) -> bool:
        return self.protection == "esp"

    @property
    def wire(self) -> str:
        return f"{self.sender}>{self.receiver} {self.message}" + (
            f" {self.protection}" if self.protection else "")

    @property
    def label(self) -> str:
        """Short text: ``DATA2 clear``, ``MM1``; the wire name keeps the data/ack number."""
        name = plain(unflowed(self.internal))
        if name == "ACKF":
            name = "ACK (FIN)"
        n = flow_of(self.internal)
        return name + (f" {self.protection}" if self.protection else "") + (f" (flow {n})" if n > 1 else "")

    @property
    def src_lane(self) -> str:
        return lane_of(self.sender, self.ike)

    @property
    def dst_lane(self) -> str:
        return lane_of(self.receiver, self.ike)


@dataclass(frozen=True, slots=True)
class Note:
    """Something that happens at one step on one or more lanes (not a packet)."""

    step: int
    lanes: tuple[str, ...]
    text: str
    kind: str   # held / success / failure / secure / tcp / dup / loop


@dataclass(frozen=True, slots=True)
class Mark:
    """The step a reader looks at first, with the words that say why (see :func:`mark_of`)."""

    step: int   # 1-based; 0 is the initial state
    kind: str   # violation / witness / loop
    text: str   # "violates S-7", "witness of W-5 reached", "violates L-3: cycle starts"


def mark_of(trace: Trace) -> Mark | None:
    """The step to highlight in a drawing of ``trace``.

    * a counterexample: its last step violates the property (for ``always`` the state it reaches
      is bad, for ``never_action`` the step itself is forbidden); an empty one marks the initial
      state;
    * a lasso: the first step of the cycle that repeats forever (``loop_start + 1``), or the last
      step when the run stays in its last state;
    * a witness: its last step, the one that reaches the witness state.

    >>> from ndcheck.traces.trace import Trace
    >>> mark_of(Trace("s", "S-7", "counterexample", (), ((0,),)))
    Mark(step=0, kind='violation', text='violates S-7')
    """
    n, p = len(trace.steps), trace.property
    if trace.kind == "lasso" or trace.loop_start is not None:
        k = n if trace.loop_start is None else trace.loop_start
        head = f"violates {p}: " if p else ""
        if k < n:
            return Mark(k + 1, "loop", head + "cycle starts")
        return Mark(n, "loop", head + "stays here forever")
    if trace.kind == "witness":
        return Mark(n, "witness", f"witness of {p} reached" if p else "witness state reached")
    if trace.kind == "counterexample":
        return Mark(n, "violation", f"violates {p}" if p else "violating step")
    return None


@dataclass(frozen=True, slots=True)
class Chart:
    """A trace read as a message sequence chart: step actions, packet copies, notes."""

    # (defined before the ``property`` field, which shadows the builtin inside the class body)
    @property
    def n_steps(self) -> int:
        return len(self.actions)

    scenario: str
    property: str | None
    kind: str
    actions: tuple[str, ...]          # action of step i at index i-1
    messages: tuple[Message, ...]     # in send order
    notes: tuple[Note, ...]           # in step order
    loop_start: int | None = None
    unmatched: tuple[int, ...] = ()   # steps that consumed a copy no earlier step sent (a bug)
    mark: Mark | None = None          # the step to highlight (:func:`mark_of`)

    def messages_sent_at(self, step: int) -> list[Message]:
        return [m for m in self.messages if m.sent == step and not m.duplicate]

    def notes_at(self, step: int) -> list[Note]:
        return [n for n in self.notes if n.step == step]

    def ended_at(self, step: int) -> list[Message]:
        return [m for m in self.messages if m.ended == step]


# --------------------------------------------------------------------------------------------


def chart(trace: Trace, system: System) -> Chart:
    """Read a replayed trace of ``system`` as a message sequence chart."""
    read = channel_reader(system)
    flying: dict[Key, list[int]] = {}   # channel entry -> indices into msgs, oldest first
    msgs: list[dict] = []
    notes: list[Note] = []
    unmatched: list[int] = []
    idx = system.index
    for step in trace.steps:
        i = step.index
        cmd = system.commands[step.command]
        pre, post = trace.states[i - 1], trace.states[i]
        before, after = read(pre), read(post)
        delta = Counter(after)
        delta.subtract(before)
        # consumption (deliveries, drops, losses)
        for key in sorted(k for k, d in delta.items() if d < 0):
            for _ in range(-delta[key]):
                queue = flying.get(key)
                if not queue:
                    unmatched.append(i)
                    continue
                m = msgs[queue.pop(0)]
                m["ended"] = i
                if cmd.kind == "drop":
                    m["fate"] = "dropped"
                    m["rule"] = cmd.rules[0] if cmd.rules else ""
                elif cmd.kind == "lose":
                    m["fate"] = "lost"
                elif "ND-26" in cmd.rules:
                    m["fate"] = "ignored"
                else:
                    m["fate"] = "delivered"
        # production: the step's wire packets in order, then network duplicates
        produced = Counter({k: d for k, d in delta.items() if d > 0})
        for p in cmd.wire:
            key = Key.of(p)
            if produced[key] > 0:
                produced[key] -= 1
            # else the packet was produced and consumed in one step (cannot happen in this
            # model: a step never receives its own packet) or overflowed a capped channel
            msgs.append(_new(key, i))
            flying.setdefault(key, []).append(len(msgs) - 1)
        for key in sorted(k for k, d in produced.items() if d > 0):
            for _ in range(produced[key]):
                orig = flying.get(key, [])
                sent = msgs[orig[0]]["sent"] if orig else i
                msgs.append(_new(key, sent, duplicate=True))
                flying.setdefault(key, []).append(len(msgs) - 1)
                notes.append(Note(i, (lane_of(key.src, not key.prot),),
                                  f"network duplicates {plain(flow_label(key.msg))}"
                                  + (f" {key.prot}" if key.prot else ""), "dup"))
        # segments the outbound filter held (ND-10 / ND-12 / ND-15 row "held")
        for p in cmd.held:
            notes.append(Note(i, (lane_of(p.sender, False), lane_of(p.sender, True)),
                              f"{flow_label(p.internal)} held ({p.rule})", "held"))
        notes.extend(_state_notes(system, i, pre, post, idx))
    k, n = trace.loop_start, len(trace.steps)
    if k is not None:
        # A lasso (eventually): steps k+1..n return to the state after step k; with k == n the
        # run ends in a bottom SCC of one state (a final state) and stays there.
        if k < n:
            notes.append(Note(k + 1, LANES, f"cycle: steps {k + 1}..{n} repeat forever", "loop"))
        else:
            notes.append(Note(n, LANES, "the run stays here forever (no goal state reachable)",
                              "loop"))
        notes.sort(key=lambda x: x.step)
    messages = tuple(Message(**m) for m in msgs)
    return Chart(trace.scenario, trace.property, trace.kind, tuple(s.action for s in trace.steps),
                 messages, tuple(notes), trace.loop_start, tuple(unmatched), mark_of(trace))


def _new(key: Key, sent: int, duplicate: bool = False) -> dict:
    return {"sender": key.src, "receiver": key.dst,
            "message": wire_name(key.msg), "internal": key.msg, "protection": key.prot or None,
            "sent": sent, "ended": None, "fate": "in flight", "duplicate": duplicate}


def _state_notes(system: System, i: int, pre, post, idx) -> list[Note]:
    out = []

    def changed(name: str) -> str | None:
        j = idx.get(name)
        if j is None or pre[j] == post[j]:
            return None
        return system.fields[j].label(post[j])

    for host in HOSTS:
        # The negotiation's outcome as its initiator sees it (figures 7 and 8); the server's
        # own negotiation says whose it is.
        # the client's negotiation spans both IKE lanes as in figures 7/8; the server's own
        # is a short tag on its lane, beside the arrows of the two crossing negotiations
        ike = changed(f"{host}.ike_i")
        if host == "client":
            lanes = (lane_of(host, True), lane_of(other(host), True))
            texts = {"QM-DONE": "IPsec Successful Negotiation", "FAILED": "IPsec Unsuccessful Negotiation"}
        else:
            lanes = (lane_of(host, True),)
            texts = {"QM-DONE": "own IKE done", "FAILED": "own IKE failed"}
        if ike == "QM-DONE":
            out.append(Note(i, lanes, texts[ike], "success"))
        elif ike == "FAILED":
            out.append(Note(i, lanes, texts[ike], "failure"))
        if changed(f"{host}.ike_r") == "FAILED":
            out.append(Note(i, (lane_of(host, True),), "IKE failed (ND-27)", "failure"))
    for host in HOSTS:
        if changed(f"{host}.secure") == "1":
            out.append(Note(i, (f"{host}.ike",), "Secure := 1", "secure"))
        tcp = changed(f"{host}.tcp")
        if tcp in TCP_NOTES:
            out.append(Note(i, (f"{host}.tcp",), TCP_NOTES[tcp], "tcp"))
    return out
