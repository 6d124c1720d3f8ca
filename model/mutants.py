"""Seeded faults: documented variants of the model that the property catalog must catch.

A mutant is a transformation of a scenario's composed :class:`~ndcheck.model.ir.System`, applied
at the depth where the fault lives, never by editing a model file:

* **IR rewrites** select guarded commands by what they do -- the ND decision-table rows they
  exercise (``Command.rules``, e.g. ``ND-8/clear``), the machine events they perform
  (``Command.events``), the packets they send (``Command.wire``: sender, message id, outbound
  row) or the fields they update (channel fields named by :class:`~ndcheck.model.network.Network`,
  never parsed) -- and drop a guard conjunct, drop or change an
  update, or remove the command.  Machine control states are never touched, so every mutated
  step is still a transition of the python-statemachine classes and counterexamples replay
  through the mutated IR *and* through the machine instances.
* **Implementation-versus-policy faults** compose the system from an altered scenario (the
  host behaves as if its policy were another) while the system keeps the original scenario as
  its specification (``system.scenario``): properties and expected verdicts are
  those of the original.

Each mutant names the digest rules it breaks and the catalog scenarios that can show it.  A
mutant is *caught* when checking its system gives a verdict that differs from the scenario's
expectation (``ndcheck mutants``; ``tests/model/test_mutants.py`` requires every one caught).

>>> m = get_mutant("outbound-ignores-secure")
>>> m.scenarios
('fig7-lossy',)
>>> system = m.system("fig7-lossy")
>>> system.mutant
'outbound-ignores-secure'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from .compose import build_system
from .ir import C, Command, Expr, F, System, and_, conjuncts, eq, fields_of, sub
from .machines import tcp_segments
from .machines.base import state_index
from .machines.ike_initiator import IkeInitiator
from .messages import HOSTS, qm1, short
from .network import Key, Network
from .scenario import Scenario, get_scenario

__all__ = ["MUTANTS", "Mutant", "UnknownMutant", "get_mutant"]


class UnknownMutant(KeyError):
    """A mutant name the catalog does not define."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class Mutant:
    """One seeded fault: ``build(scenario) -> System`` with the fault in it."""

    name: str
    description: str
    rules: tuple[str, ...]
    scenarios: tuple[str, ...]
    build: Callable[[Scenario], System]

    def system(self, scenario: str | Scenario) -> System:
        sc = get_scenario(scenario) if isinstance(scenario, str) else scenario
        system = self.build(sc)
        system.mutant = self.name
        return system


# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------

Rewrite = Callable[[Command], Command | None]


def _rewritten(system: System, rewrite: Rewrite) -> System:
    """A copy of ``system`` with every command passed through ``rewrite`` (None drops it)."""
    cmds = []
    changed = 0
    for c in system.commands:
        new = rewrite(c)
        if new is not c:
            changed += 1
        if new is not None:
            cmds.append(new)
    if not changed:
        raise ValueError(f"the mutant changes no command of {system.name!r}")
    return _copy(system, cmds)


def _copy(system: System, commands: list[Command]) -> System:
    """``system`` with other commands, not rebuildable (a rebuild from the scenario would lose
    the fault).  ``system`` is a fresh copy from :func:`~.compose.build_system`, which composes
    each scenario once per process (``ndcheck mutants``: 27 of the 33 mutant-scenario pairs
    start from one of 11 scenarios), so its lists and engine cache are this mutant's own."""
    return dataclasses.replace(system, commands=commands, rebuild=None)


def _ir(rewrite: Rewrite) -> Callable[[Scenario], System]:
    return lambda sc: _rewritten(build_system(sc), rewrite)


def _as_if(change: Callable[[Scenario], Scenario]) -> Callable[[Scenario], System]:
    """Compose the hosts from an altered scenario; keep the original as the specification."""

    def build(sc: Scenario) -> System:
        system = build_system(change(sc))
        system.scenario = sc
        system.rebuild = None   # rebuilt from ``sc`` it would lose the fault
        return system

    return build


def _has_rule(c: Command, *prefixes: str) -> bool:
    return any(r.startswith(p) for r in c.rules for p in prefixes)


def _does(c: Command, machine: str, event: str) -> bool:
    return any(k == machine and e == event for k, e, _ in c.events)


def _drop_conjuncts(c: Command, mentions: str) -> Command:
    """Drop the guard's top-level conjuncts that read field ``mentions``."""
    kept = [cj for cj in conjuncts(c.guard) if mentions not in fields_of(cj)]
    if len(kept) == len(list(conjuncts(c.guard))):
        return c
    return dataclasses.replace(c, guard=and_(*kept))


def _add_conjunct(c: Command, cond: Expr) -> Command:
    return dataclasses.replace(c, guard=and_(c.guard, cond))


def _set(c: Command, **ups: Expr) -> Command:
    """Replace or add updates (field names with ``.`` given as ``client__sa_out``)."""
    new = dict(c.updates)
    for k, v in ups.items():
        new[k.replace("__", ".")] = v
    return dataclasses.replace(c, updates=tuple(sorted(new.items())))


def _drop_update(c: Command, name: str) -> Command:
    if name not in dict(c.updates):
        return c
    return dataclasses.replace(c, updates=tuple((k, v) for k, v in c.updates if k != name))


def _forget_test(flag: str, *rows: str) -> Rewrite:
    """Steps taking one of the filter ``rows`` (prefixes) no longer test either host's ``flag``."""

    def rewrite(c: Command) -> Command:
        if not _has_rule(c, *rows):
            return c
        for h in HOSTS:
            c = _drop_conjuncts(c, f"{h}.{flag}")
        return c

    return rewrite


def _never_sets(flag: str, *rows: str) -> Rewrite:
    """Steps (taking one of ``rows``, if any are given) no longer set either host's ``flag`` to 1."""

    def rewrite(c: Command) -> Command:
        if rows and not _has_rule(c, *rows):
            return c
        for h in HOSTS:
            if dict(c.updates).get(f"{h}.{flag}") == C(1):
                c = _drop_update(c, f"{h}.{flag}")
        return c

    return rewrite


def _also_sets(machine: str, event: str, **ups: Expr) -> Rewrite:
    """Steps performing ``machine``'s ``event`` also make the updates ``ups`` (as :func:`_set`)."""
    return lambda c: _set(c, **ups) if _does(c, machine, event) else c


def _client_clear_send(c: Command) -> bool:
    """The client's outbound filter sends the step's segment in the clear (ND-8)."""
    return any(p.sender == "client" and p.rule.startswith("ND-8/clear") for p in c.wire)


def _channel_fields(src: str, msgs) -> frozenset[str]:
    """The (multiset) channel fields holding the IKE messages ``msgs`` sent by ``src``."""
    return frozenset(Network.counter(Key(src, m, "")) for m in msgs)


# --------------------------------------------------------------------------------------------
# The faults
# --------------------------------------------------------------------------------------------

# ND-8 reads "no SA and Secure = 0"; the fault forgets the Secure test.
_outbound_ignores_secure = _forget_test("secure", "ND-8/clear")

# ND-18 accepts a clear packet of an existing flow only while Secure = 0.
_inbound_clear_after_secure = _forget_test("secure", "ND-18/accept")

# ND-8: with Acquire = 1 the packet goes out clear and IKE is NOT triggered; the fault
# triggers IKE for every clear packet (the Acquire test is forgotten).
_acquire_gate_ignored = _forget_test("acquire", "ND-8/clear+acquire", "ND-12/clear+acquire")

# The initiator installs its SAs on receiving QM #6 (QM2); the fault installs them when it
# sends QM #5 (on MM #6).
_sa_before_qm2 = _also_sets("client.ike_i", "recv_mm6", client__sa_in=C(1), client__sa_out=C(1))

# ND-24 / RFC 2408 §3.1: with the commit bit the initiator waits for CONNECTED before using
# its outbound SA; the fault uses it as soon as QM2 arrives.
_ignores_commit_bit = _also_sets("client.ike_i", "recv_qm2", client__sa_out=C(1))


# QM #5 as the client sends it, with and without the GE flag (ND-9), and the channel fields
# holding each: a step touching one sends, receives, loses or duplicates that form.
_QM1_GE = _channel_fields("client", [qm1(b, 1) for b in (0, 1)])
_QM1_ANY = _channel_fields("client", [qm1(b, g) for b in (0, 1) for g in (0, 1)])


def _ge_flag_dropped(c: Command) -> Command | None:
    # ND-9: QM #5 carries EXCHANGE_INFO bit 0x2 iff flow.GE; the fault drops the bit, so the
    # initiator always sends the variant without it (no step handles a QM #5 with the flag).
    ups = dict(c.updates)
    if _QM1_GE.intersection(ups):
        return None
    if _QM1_ANY.intersection(ups):
        return _drop_conjuncts(c, "client.flow_ge")
    return c


def _boundary_inverted(c: Command) -> Command:
    # ND-23: SA.Boundary := the ND_BOUNDARY flag of QM #6; the fault stores its negation.
    if not _does(c, "client.ike_i", "recv_qm2"):
        return c
    ups = dict(c.updates)
    b = ups.get("client.sa_boundary")
    if b is None:
        return c
    return _set(c, client__sa_boundary=sub(C(1), b))


def _responder_retransmits(system: System) -> System:
    """ND-28 broken: the responder re-sends its last IKE message on a timer of its own.

    For every responder step that answers with an IKE message, a new step re-sends that message
    from the state the answer left the responder in, without receiving anything.
    """
    extra: dict[str, Command] = {}
    for c in system.commands:
        ups = dict(c.updates)
        if c.kind != "deliver" or "server.ike_r" not in ups or ups["server.ike_r"].op != "const":
            continue
        answers = tuple(p for p in c.wire if p.sender == "server" and p.protection is None)
        # the answers' channel fields (multiset channels) -> the message ids they hold
        entry_of = {Network.counter(Key.of(p)): p.internal for p in answers}
        sent = {k: v for k, v in ups.items() if k in entry_of}
        if not sent:
            continue
        msg = ",".join(sorted(short(entry_of[k]) for k in sent))
        name = f"server.ike_r.retransmit[{msg}]@{ups['server.ike_r'].args[0]}"
        # Like a real timer, it fires once the previous copy has left the network.
        quiet = and_(*[eq(F(k), C(0)) for k in sorted(sent)])
        extra.setdefault(name, Command(name, and_(eq(F("server.ike_r"), ups["server.ike_r"]), quiet),
                                       tuple(sorted(sent.items())), answers,
                                       (), ("ND-28",), "send", ("server",)))
    if not extra:
        raise ValueError(f"the mutant changes no command of {system.name!r}")
    return _copy(system, list(system.commands) + list(extra.values()))


def _never_gives_up(c: Command) -> Command | None:
    # Figure 8 / RFC 2408 §5.1: the initiator gives up after its retransmission budget.
    return None if _does(c, "client.ike_i", "give_up") else c


# ND-14 (send over an SA) and ND-19 (ESP received) set Secure; the fault never does.
_secure_never_set = _never_sets("secure", "ND-14/esp", "ND-19/accept")

# ND-19 / RFC 4301 §5.2: ESP is decapsulated only with an inbound SA.
_esp_without_sa = _forget_test("sa_in", "ND-19/accept")

# the responder installs its outbound SA on QM #7 (QM3); the fault installs it with its
# inbound SA when it sends QM #6.
_responder_outbound_at_qm2 = _also_sets("server.ike_r", "recv_qm1", server__sa_out=C(1))

# §7.3: on QM #6 the initiator installs inbound and outbound SAs; the fault forgets inbound.
_initiator_no_inbound_sa = _also_sets("client.ike_i", "recv_qm2", client__sa_in=C(0))

# no rule clears Acquire; the fault clears it when IKE gives up, so the flow retries.
_acquire_reset_on_failure = _also_sets("client.ike_i", "give_up", client__acquire=C(0))


def _nd_vid_ignored(c: Command) -> Command:
    # ND-4: the initiator records NDSupported from MM #2's vendor ID; the fault does not.
    if not _does(c, "client.ike_i", "recv_mm2"):
        return c
    return _drop_update(c, "client.mm_nd")


def _failure_blocks_tcp(c: Command) -> Command:
    # ND-26/27 (H-1): after IKE failed the flow goes on in the clear; the fault stops sending
    # clear segments once the initiator is in FAILED.
    if not _client_clear_send(c):
        return c
    failed = C(state_index(IkeInitiator, "failed"))
    return _add_conjunct(c, Expr("not", (Expr("eq", (F("client.ike_i"), failed)),)))


def _secure_without_sa(c: Command) -> Command:
    # ND-14 sets Secure only when sending over a matching SA; the fault sets it on every clear
    # send as well (Secure without an SA, S-3).
    return _set(c, client__secure=C(1)) if _client_clear_send(c) else c


def _initiator_sa_ge_wrong(c: Command) -> Command:
    # ND-9 / §3.5: an initiator's SA.GE comes from the GE flag of the QM #5 it sent; the fault
    # records the opposite flag (at both hosts' initiators), so a GE flow never finds a
    # matching GE SA.
    for h in HOSTS:
        key = f"{h}.ike_i"
        if not _does(c, key, "recv_mm6") and not _does(c, key, "acquire_qm"):
            continue
        ups = dict(c.updates)
        if f"{h}.qm_ge" in ups:
            c = _set(c, **{f"{h}__qm_ge": Expr("sub", (C(1), ups[f"{h}.qm_ge"]))})
    return c


# ND-7: a packet matching a GE rule sets flow.GE; the fault never marks the flow.
_flow_ge_never_set = _never_sets("flow_ge")


def _no_rekey(c: Command) -> Command:
    # L-5 / ND-10: a Secure flow whose SAs expired triggers a new Quick Mode; the fault's IKE
    # services (both hosts') start no negotiation once the SAs have expired.
    if not any(e in ("acquire_mm", "acquire_qm") and k.endswith(".ike_i") for k, e, _ in c.events):
        return c
    return _add_conjunct(c, eq(F("sad.expired"), C(0)))


def _delete_ignored(c: Command) -> Command:
    # L1 (IKEE-M §3.8.4.1): the peer of a DELETE removes the QM SAs it names; the fault's IKE
    # service reads the DELETE and keeps them (and its IKE machines in QM-DONE).
    if c.kind != "deliver" or "DELETE" not in c.tags:
        return c
    host = c.tags[0]
    ups = tuple((k, v) for k, v in c.updates if not k.startswith(f"{host}."))
    return dataclasses.replace(c, updates=ups, events=())


# ND-12: an SA whose SA.GE differs from flow.GE is treated as no SA; the fault encapsulates
# with it anyway (ND-14 without the GE comparison).
# (ND-7 marking composes before the decision, so the comparison may read SA.GE only.)
_ge_mismatch_encapsulates = _forget_test("sa_ge", "ND-14/esp")


def _responder_ignores_boundary(c: Command) -> Command:
    # ND-21: the responder sets SA.Boundary from QM #5's ND_BOUNDARY flag; the fault never does.
    if not _does(c, "server.ike_r", "recv_qm1") or "server.sa_boundary" not in dict(c.updates):
        return c
    return _set(c, server__sa_boundary=C(0))


def _as_boundary(sc: Scenario) -> Scenario:
    # A-10 / figure 19: the ND_SECURE server's ALE layer drops clear new flows; the fault
    # implements ND_SECURE as ND_BOUNDARY.
    return dataclasses.replace(sc, server=dataclasses.replace(sc.server, inbound="boundary"))


def _require_as_request(sc: Scenario) -> Scenario:
    # ND-15: a plain transport-mode PROTECT rule holds packets until an SA exists; the fault
    # treats the client's require rule as an ND request rule (clear fallback).
    return dataclasses.replace(sc, client=dataclasses.replace(sc.client, outbound="request"))


def _never_accept_secure(sc: Scenario) -> Scenario:
    # The ND_SECURE server fails IKE authentication (no-credential) and drops clear packets (require).
    return dataclasses.replace(sc, peer="no-credential",
                               server=dataclasses.replace(sc.server, outbound="none", inbound="require"))


def _server_never_initiates(sc: Scenario) -> Scenario:
    # A-13 / ND-8: the server's outbound ND rule triggers its own negotiation; the fault's
    # server only records Acquire (the model before both hosts negotiated).
    return dataclasses.replace(sc, ike=dataclasses.replace(sc.ike, server_initiator=False))


def _ignores_mm1_notify(sc: Scenario) -> Scenario:
    # ND-27 / ND-29: a NOTIFY answering MM #1 (NO-PROPOSAL-CHOSEN) ends the negotiation (the
    # model's choice, ike.notify_at_mm1 = "fail"); the fault's initiator ignores it and keeps
    # retransmitting MM #1 until its budget runs out, as libreswan does (N2/N8).
    return dataclasses.replace(sc, ike=dataclasses.replace(sc.ike, notify_at_mm1="ignore"))


def _server_never_answers(system: System) -> System:
    """Digest §8 / issue 12: the server answers the request with data of its own
    (``tcp.server_segments``); the fault's server never sends it -- the one-way TCP of the first
    model -- so it never closes either (it waits for its own data to go out)."""

    def rewrite(c: Command) -> Command | None:
        if any(k == "server.tcp" and ev == "send_data" for k, ev, _ in c.events):
            return None
        return c

    return _rewritten(system, rewrite)


def _ooo_discarded(system: System) -> System:
    """T16 / RFC 9293 SHLD-31: a data segment beyond ``rcv_nxt`` within the window is held; the
    fault discards it (the duplicate ACK still goes out), so the sender must send it again --
    the shortcut of the first TCP model."""
    held = {f for h in HOSTS for f in tcp_segments.held_fields(system.scenario, h)}
    return _rewritten(system, lambda c: _drop_sets(c, held))


def _drop_sets(c: Command, names: set[str]) -> Command:
    """``c`` without its updates that set one of the fields ``names`` to 1."""
    for name, e in c.updates:
        if name in names and e == C(1):
            c = _drop_update(c, name)
    return c


def _budget_not_restarted(c: Command) -> Command:
    # T10 / RFC 6298 §5: a new acknowledgement restarts the retransmission budget of the next
    # oldest segment; the fault keeps counting, one budget for the whole connection (the
    # shortcut of the first TCP model).
    for h in HOSTS:
        if _does(c, f"{h}.tcp", "recv_ack"):
            c = _drop_update(c, f"{h}.data_retx")
    return c


MUTANTS: tuple[Mutant, ...] = (
    Mutant("outbound-ignores-secure", "the ND outbound filter sends clear (ND-8) without testing "
           "flow.Secure, so a secured flow can downgrade", ("ND-8", "ND-10"),
           ("fig7-lossy",), _ir(_outbound_ignores_secure)),
    Mutant("inbound-accepts-clear-after-secure", "the inbound filter accepts a clear packet of a "
           "Secure flow (ND-18 without the Secure test)", ("ND-18",), ("fig7-lossy",),
           _ir(_inbound_clear_after_secure)),
    Mutant("acquire-gate-ignored", "ND-8 triggers IKE for every clear packet, whatever the "
           "Acquire flag says, so a failed negotiation starts again", ("ND-8", "A-4"),
           ("fig8-silent-peer",), _ir(_acquire_gate_ignored)),
    Mutant("sa-installed-before-qm2", "the initiator installs its QM SAs when it sends QM #5 "
           "instead of on receiving QM #6", ("ND-23", "ND-24"), ("fig7-lossy",),
           _ir(_sa_before_qm2)),
    Mutant("initiator-ignores-commit-bit", "the initiator uses its outbound SA on QM #6 although "
           "the responder set the commit bit (no wait for CONNECTED)", ("ND-24", "A-2"),
           ("fig7-fifo",), _ir(_ignores_commit_bit)),
    Mutant("ge-flag-dropped", "QM #5's EXCHANGE_INFO never carries the GE flag (0x2), even for "
           "a GE flow", ("ND-9", "ND-21"), ("guaranteed-encryption",), _ir(_ge_flag_dropped)),
    Mutant("boundary-flag-inverted", "the initiator stores the negation of QM #6's ND_BOUNDARY "
           "flag in SA.Boundary", ("ND-23",), ("fig7-fifo",), _ir(_boundary_inverted)),
    Mutant("responder-retransmits", "the IKE responder re-sends its last message on a timer of "
           "its own", ("ND-28",), ("fig19-require-inbound",),
           lambda sc: _responder_retransmits(build_system(sc))),
    Mutant("initiator-never-gives-up", "the IKE initiator never times out after its "
           "retransmission budget", ("ND-26",), ("fig8-silent-peer",), _ir(_never_gives_up)),
    Mutant("secure-never-set", "neither sending over an SA (ND-14) nor receiving ESP (ND-19) "
           "sets flow.Secure", ("ND-14", "ND-19"), ("fig7-fifo",), _ir(_secure_never_set)),
    Mutant("esp-accepted-without-sa", "ESP is accepted although no inbound SA is installed",
           ("ND-19",), ("qm3-race",), _ir(_esp_without_sa)),
    Mutant("responder-outbound-sa-at-qm2", "the responder installs its outbound SA when it sends "
           "QM #6 instead of on QM #7", ("A-2", "ND-24"), ("fig7-lossy",),
           _ir(_responder_outbound_at_qm2)),
    Mutant("initiator-no-inbound-sa", "on QM #6 the initiator installs only its outbound SA",
           ("ND-23",), ("fig7-fifo",), _ir(_initiator_no_inbound_sa)),
    Mutant("acquire-reset-on-failure", "IKE failure clears flow.Acquire, so a failed flow "
           "negotiates again", ("A-5", "ND-8"), ("fig8-silent-peer",),
           _ir(_acquire_reset_on_failure)),
    Mutant("nd-vendor-id-ignored", "the initiator does not record NDSupported from MM #2's "
           "vendor ID", ("ND-4",), ("fig7-fifo",), _ir(_nd_vid_ignored)),
    Mutant("ike-failure-blocks-tcp", "after IKE failed the outbound filter no longer sends the "
           "flow in the clear", ("ND-26", "ND-27"), ("fig8-silent-peer", "fig8-no-credential"),
           _ir(_failure_blocks_tcp)),
    Mutant("secure-without-sa", "a clear send (ND-8) sets flow.Secure although no SA exists",
           ("ND-14",), ("fig7-fifo",), _ir(_secure_without_sa)),
    Mutant("initiator-sa-ge-wrong", "the initiators record the opposite of the GE flag they sent "
           "in QM #5, so their SA.GE is wrong", ("ND-9", "ND-12"), ("guaranteed-encryption",),
           _ir(_initiator_sa_ge_wrong)),
    Mutant("ge-flow-never-marked", "a packet matching a GE rule never sets flow.GE", ("ND-7",),
           ("guaranteed-encryption",), _ir(_flow_ge_never_set)),
    Mutant("no-rekey-after-expiry", "after the SAs expire no IKE service starts a new "
           "negotiation, so the Secure flow stays blocked (ND-10)", ("ND-10", "A-5"), ("sa-expiry-rekey",),
           _ir(_no_rekey)),
    Mutant("delete-ignored", "the peer of a DELETE keeps the QM SAs it names (and its IKE "
           "machines stay in QM-DONE)", ("L1", "A-5"), ("qm-delete-rekey",), _ir(_delete_ignored)),
    Mutant("ge-mismatch-encapsulates", "a packet of a GE flow is encapsulated with an SA whose "
           "SA.GE differs (ND-12 ignored)", ("ND-12", "ND-14"), ("ge-server-only",),
           _ir(_ge_mismatch_encapsulates)),
    Mutant("responder-ignores-boundary-flag", "the responder never sets SA.Boundary from QM #5's "
           "ND_BOUNDARY flag", ("ND-21",), ("fig7-fifo",), _ir(_responder_ignores_boundary)),
    Mutant("secure-server-accepts-clear", "an ND_SECURE server accepts clear new flows (implemented "
           "as ND_BOUNDARY)", ("ND-17", "A-10"), ("fig19-require-inbound",), _as_if(_as_boundary)),
    Mutant("transport-mode-falls-back-to-clear", "a plain transport-mode (require) client falls "
           "back to clear like an ND request rule", ("ND-15",), ("transport-mode",),
           _as_if(_require_as_request)),
    Mutant("secure-server-never-completes-ike", "the ND_SECURE server's IKE always fails authentication "
           "and its filter drops clear packets like plain transport mode", ("ND-17", "ND-19"),
           ("fig19-require-inbound",), _as_if(_never_accept_secure)),
    Mutant("server-never-initiates", "the server's outbound ND rule records Acquire but never "
           "starts the server's own negotiation", ("ND-8", "A-13"),
           ("fig7-fifo", "ge-server-only"), _as_if(_server_never_initiates)),
    Mutant("initiator-ignores-mm1-notify", "the IKE initiator ignores a NOTIFY answering its MM #1 "
           "and retransmits MM #1 until its budget runs out", ("ND-27", "ND-29"),
           ("no-proposal-peer",), _as_if(_ignores_mm1_notify)),
    Mutant("server-never-answers", "the server's TCP never sends its answer (the one-way "
           "connection of the first model)", ("RFC 9293 §3.10.5",), ("fig7-fifo",),
           lambda sc: _server_never_answers(build_system(sc))),
    Mutant("out-of-order-segments-discarded", "the TCP receiver discards a segment that overtook "
           "its predecessor instead of holding it within the window (it still sends the "
           "duplicate ACK)", ("T16", "RFC 9293 SHLD-31"), ("fig8-silent-peer",),
           lambda sc: _ooo_discarded(build_system(sc))),
    Mutant("budgets-never-restarted", "a new acknowledgement does not restart the data "
           "retransmission budget: one budget for the whole connection", ("T10", "RFC 6298"),
           ("fig7-both-capable",), _ir(_budget_not_restarted)),
)

_BY_NAME = {m.name: m for m in MUTANTS}


def get_mutant(name: str) -> Mutant:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownMutant(f"unknown mutant {name!r}; available: {', '.join(_BY_NAME)}") from None
