"""Composition: machines + ND packet rules + network -> the System IR (``build_system``).

Every machine transition (and each of its binding variants) becomes one or more guarded
commands: a received TCP segment first passes the receiver's inbound filter (ND-16..ND-20), a
sent TCP segment passes the sender's outbound filter (ND-6..ND-15), and an outbound branch that
triggers IKE composes with the initiator's ``acquire`` transitions (coalesced while a negotiation
runs, A-4).  Stages compose sequentially by substitution, so a later stage sees the updates of
an earlier one.  Inbound drops are commands of their own (the TCP machine never sees the
segment).  Unmatched send/receive events are rejected at build time.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from .ir import FALSE, TRUE, C, Command, Expr, F, Field, Limits, Packet, System, and_, eq, not_, substitute
from .machines import ike_initiator, ike_responder, tcp_client, tcp_server
from .machines.base import Binding, BoundMachine, Ctx, ModelError, Variant, state_index
from .messages import HOSTS, is_ike, other
from .nd_rules import ge_marking, inbound_branches, outbound_branches
from .network import Key, Network
from .scenario import Scenario

# host -> machine key suffix -> module
MACHINES: dict[str, dict[str, ModuleType]] = {
    "client": {"tcp": tcp_client, "ike": ike_initiator},
    "server": {"tcp": tcp_server, "ike": ike_responder},
}

HOST_FIELDS = (
    ("sa_in", "SAD: inbound QM SA installed"),
    ("sa_out", "SAD: outbound QM SA installed (usable)"),
    ("sa_boundary", "SAD: SA.Boundary (peer's inbound rule is boundary, ND-21/23)"),
    ("sa_ge", "SAD: SA.GE (encryption SA usable by GE flows, ND-21)"),
    ("secure", "flow table: Secure (ND-14, ND-19)"),
    ("acquire", "flow table: Acquire (ND-8)"),
    ("flow_ge", "flow table: GE (ND-7, ND-20)"),
)


@dataclass
class _Acc:
    """Sequential composition of stages: guard and updates, later stages see earlier updates."""

    guard: Expr
    ups: dict[str, Expr]

    def cond(self, g: Expr) -> _Acc:
        return _Acc(and_(self.guard, substitute(g, self.ups)), self.ups)

    def set(self, ups) -> _Acc:
        items = ups.items() if isinstance(ups, dict) else ups
        new = dict(self.ups)
        for k, v in items:
            new[k] = substitute(v, self.ups)
        return _Acc(self.guard, new)


def build_system(sc: Scenario) -> System:
    """Compose the scenario's four machines, ND rules and network into a :class:`System`."""
    holder: dict[str, Network] = {}

    def in_flight(host: str, msgs) -> Expr:
        net = holder["net"]
        keys = [k for src in HOSTS for k in net.alphabet[src] if k.msg in msgs]
        return net.none_in_flight(keys)

    # First pass: bindings with placeholder timeout guards, to learn the message alphabet.
    probe = {h: Ctx(h, sc, lambda host, msgs: TRUE) for h in HOSTS}
    bindings: dict[str, Binding] = {}
    for h in HOSTS:
        for m, mod in MACHINES[h].items():
            bindings[f"{h}.{m}"] = mod.bind(probe[h])

    # ---- alphabet and send/receive matching -------------------------------------------------
    sends: dict[str, list[str]] = {h: [] for h in HOSTS}
    recvs: dict[str, list[str]] = {h: [] for h in HOSTS}
    for key, b in bindings.items():
        h = key.split(".")[0]
        for variants in b.effects.values():
            for v in variants:
                for msg in v.send:
                    if msg not in sends[h]:
                        sends[h].append(msg)
                if v.recv and v.recv not in recvs[h]:
                    recvs[h].append(v.recv)
    for h in HOSTS:
        p = other(h)
        unmatched = [m for m in sends[h] if m not in recvs[p]]
        if unmatched:
            raise ModelError(f"{h} sends {', '.join(unmatched)} but no {p} machine event receives it")
        unheard = [m for m in recvs[p] if m not in sends[h]]
        if unheard:
            raise ModelError(f"{p} receives {', '.join(unheard)} but no {h} machine event sends it")
    alphabet: dict[str, list[Key]] = {}
    for h in HOSTS:
        acts = {r.action for r in _out_rows(sc, h)}
        prots = [p for p in ("clear", "esp") if p in acts]
        keys = []
        for msg in sends[h]:
            if is_ike(msg):
                keys.append(Key(h, msg, ""))
            else:
                keys.extend(Key(h, msg, p) for p in prots)
        alphabet[h] = keys
    net = Network(sc, alphabet)
    holder["net"] = net
    # Second pass: the real bindings, whose timeout guards read the channels.
    ctxs = {h: Ctx(h, sc, in_flight) for h in HOSTS}
    for h in HOSTS:
        for m, mod in MACHINES[h].items():
            bindings[f"{h}.{m}"] = mod.bind(ctxs[h])

    # ---- fields ---------------------------------------------------------------------------
    fields: list[Field] = []
    machines: dict[str, type] = {}
    for h in HOSTS:
        for m, mod in MACHINES[h].items():
            cls = machine_class(mod)
            key = f"{h}.{m}"
            machines[key] = cls
            states = list(cls.states)
            init = next(i for i, s in enumerate(states) if s.initial)
            fields.append(Field(key, 0, len(states) - 1, init, "control",
                                tuple(s.name for s in states), doc=f"{cls.__name__} control state"))
    for h in HOSTS:
        for m, mod in MACHINES[h].items():
            fields.extend(mod.fields(ctxs[h]))
        for name, doc in HOST_FIELDS:
            fields.append(Field(f"{h}.{name}", 0, 1, 0, "bool", doc=doc))
        if getattr(sc, h).allow_clear_timeout:
            fields.append(Field(f"{h}.grace_over", 0, 1, 0, "bool",
                                doc="A-14: the SA's allow-clear grace timer has expired"))
    fields.extend(net.fields)
    if sc.ike.sa_expiry:
        fields.append(Field("sad.expired", 0, 1, 0, "bool", doc="the QM SAs have expired once (L-5)"))

    # ---- commands -------------------------------------------------------------------------
    cmds: list[Command] = []
    for h in HOSTS:
        for m in MACHINES[h]:
            key = f"{h}.{m}"
            cls = machines[key]
            b = bindings[key]
            for st in cls.states:
                for t in st.transitions:
                    if getattr(t, "initial", False) and not t.events:
                        continue
                    for ev in t.events:
                        ev = str(ev)
                        if ev in getattr(cls, "DRIVEN_EVENTS", ()):
                            continue  # composed into the ND branch that raises it (_acquire)
                        variants = b.variants(ev, st.id)
                        for v in variants:
                            cmds.extend(_transition_commands(sc, net, machines, bindings, h, key, cls,
                                                             st, t, ev, v))
        cmds.extend(_drop_commands(sc, net, h))
    cmds.extend(net.fault_commands())
    cmds.extend(_expiry_commands(sc, net, machines, bindings))
    cmds.extend(_grace_commands(sc))
    cmds = [c for c in cmds if not (c.guard.op == "const" and c.guard.args[0] == 0)]
    names = set()
    for c in cmds:
        if c.name in names:
            raise ModelError(f"duplicate command name {c.name!r}")
        names.add(c.name)
    limits = Limits(sc.bounds.max_states, sc.bounds.timeout, sc.bounds.max_memory,
                    sc.network.capacity)
    system = System(sc.name, fields, cmds, machines, description=sc.description, limits=limits,
                    conds={k: b.conds for k, b in bindings.items()}, alphabet=alphabet,
                    scenario=sc, rebuild=lambda values: build_system(sc.with_knobs(values)))
    _check_fields(system)
    return system


def machine_class(mod: ModuleType) -> type:
    for obj in vars(mod).values():
        if isinstance(obj, type) and issubclass(obj, BoundMachine) and obj is not BoundMachine \
                and obj.__module__ == mod.__name__:
            return obj
    raise ModelError(f"{mod.__name__} defines no machine class")


def _out_rows(sc: Scenario, h: str):
    from .nd_rules import outbound_table
    return outbound_table(getattr(sc, h))


def _cond_expr(b: Binding, t) -> Expr:
    parts = []
    for c in t.cond:
        name = str(c)
        neg = name.startswith("!")
        name = name.lstrip("!")
        if name not in b.conds:
            raise ModelError(f"condition {name!r} has no IR binding")
        parts.append(not_(b.conds[name]) if neg else b.conds[name])
    return and_(*parts)


def _transition_commands(sc, net: Network, machines, bindings, h, key, cls, st, t, ev,
                         v: Variant) -> list[Command]:
    b = bindings[key]
    base = _Acc(TRUE, {})
    base = base.cond(eq(F(key), state_index(cls, st.id)))
    base = base.cond(_cond_expr(b, t))
    base = base.cond(v.guard)
    sources = {s.id for s in cls.states for tr in s.transitions if ev in [str(x) for x in tr.events]}
    label = f"{key}.{ev}" + (f"@{st.id}" if len(sources) > 1 else "") + (
        f"[{v.label}]" if v.label else "")
    # (acc, name suffix, rules, wire, extra events)
    forks: list[tuple[_Acc, str, tuple, tuple, tuple]] = [(base, "", v.rules, (), ())]

    # -- receive ---------------------------------------------------------------------------
    if v.recv:
        src = other(h)
        keys = [k for k in net.alphabet[src] if k.msg == v.recv]
        new_forks = []
        for acc, sfx, rules, wire, evs in forks:
            for k in keys:
                a = acc.cond(net.has(k)).set(net.consume(k))
                if k.prot:
                    for br in inbound_branches(h, sc, k.prot == "esp", _new_flow(h)):
                        if br.row.action != "accept":
                            continue
                        a2 = a.cond(br.guard).set(br.updates)
                        new_forks.append((a2, sfx + f" <{k.label()} {br.row.id}>",
                                          rules + (br.row.id,), wire, evs))
                else:
                    new_forks.append((a, sfx, rules, wire, evs))
        forks = new_forks

    # -- machine step -----------------------------------------------------------------------
    target = t.target.id
    forks = [(a.set({key: C(state_index(cls, target))}).set(v.updates), sfx, r, w, e)
             for a, sfx, r, w, e in forks]

    # -- sends ------------------------------------------------------------------------------
    for msg in v.send:
        new_forks = []
        for acc, sfx, rules, wire, evs in forks:
            if is_ike(msg):
                k = Key(h, msg, "")
                new_forks.append((acc.set(net.produce(k)), sfx, rules, wire + (k.packet(),), evs))
                continue
            pre = acc
            if sc.ike.ge_marking == "before":
                pre = pre.set(ge_marking(h, sc))  # ND-7 before ND-8/ND-9 (A-7 default)
            for br in outbound_branches(h, sc):
                a = pre.cond(br.guard).set(br.updates)
                tag = f"{msg} {br.row.id}"
                w = wire
                if br.row.action != "held":
                    k = Key(h, msg, br.row.action)
                    a = a.set(net.produce(k))
                    w = w + (k.packet(),)
                r = rules + (br.row.id,)
                if br.row.acquire or br.row.trigger:
                    for a2, tag2, w2, e2, r2 in _acquire(sc, net, machines, bindings, h, a):
                        if sc.ike.ge_marking == "after":
                            a2 = a2.set(ge_marking(h, sc))
                        new_forks.append((a2, sfx + f" [{tag}{tag2}]", r + r2, w + w2, evs + e2))
                else:
                    if sc.ike.ge_marking == "after":
                        a = a.set(ge_marking(h, sc))
                    new_forks.append((a, sfx + f" [{tag}]", r, w, evs))
        forks = new_forks

    out = []
    for acc, sfx, rules, wire, evs in forks:
        out.append(Command(
            name=label + sfx, guard=acc.guard, updates=tuple(sorted(acc.ups.items())),
            wire=wire, events=((key, ev, st.id),) + evs, rules=tuple(dict.fromkeys(rules)),
            kind=_kind(v), tags=(h,)))
    return out


def _kind(v: Variant) -> str:
    if v.recv:
        return "deliver"
    if v.send:
        return "send"
    return "local"


def _new_flow(h: str) -> Expr:
    """A segment starts a new flow at the server while its TCP is still in LISTEN (no entry)."""
    if h != "server":
        return FALSE
    return eq(F("server.tcp"), state_index(tcp_server.TcpServer, "listen"))


def _drive(net: Network, machines, bindings, key: str, event: str, acc: _Acc):
    """Forks of ``acc`` composed with each transition of ``key`` on the driven ``event``."""
    cls = machines[key]
    b = bindings[key]
    out, sources = [], []
    h = key.split(".")[0]
    for st in cls.states:
        for t in st.transitions:
            if event not in [str(e) for e in t.events]:
                continue
            sources.append(st.id)
            for v in b.variants(event, st.id):
                a = acc.cond(eq(F(key), state_index(cls, st.id))).cond(_cond_expr(b, t)).cond(v.guard)
                a = a.set({key: C(state_index(cls, t.target.id))}).set(v.updates)
                wire: tuple[Packet, ...] = ()
                for msg in v.send:
                    k = Key(h, msg, "")
                    a = a.set(net.produce(k))
                    wire += (k.packet(),)
                out.append((a, f" +{key}.{event}@{st.id}" + (f"[{v.label}]" if v.label else ""), wire,
                            ((key, event, st.id),), v.rules))
    return out, sources


def _acquire(sc, net: Network, machines, bindings, h, acc: _Acc):
    """Compose an ND trigger with the host's IKE initiator (``acquire``); A-4 coalescing.

    The server has no initiator: the digest's figures show no server-initiated negotiation for
    a flow the client opened (A-6/A-13), so a server-side trigger only records Acquire.
    """
    key = f"{h}.ike"
    if "acquire" not in getattr(machines[key], "DRIVEN_EVENTS", ()):
        return [(acc, "", (), (), ())]
    out, sources = _drive(net, machines, bindings, key, "acquire", acc)
    cls = machines[key]
    others = and_(*[not_(eq(F(key), state_index(cls, s))) for s in sources])
    out.append((acc.cond(others), f" +{key}.acquire:coalesced", (), (), ("A-4",)))
    return out


def _expiry_commands(sc: Scenario, net: Network, machines, bindings) -> list[Command]:
    """SA lifetime expiry (knob ``ike.sa_expiry``): once both ends completed Quick Mode, their
    QM SAs can be deleted together (one expiry per run).  Flow flags stay (A-5), so a secured flow
    is held by ND-10 until IKE re-keys — or forever if the peer can no longer negotiate (L-5)."""
    if not sc.ike.sa_expiry:
        return []
    acc = _Acc(eq(F("sad.expired"), 0), {"sad.expired": C(1)})
    out = []
    for a1, s1, w1, e1, r1 in _drive(net, machines, bindings, "client.ike", "sa_expire", acc)[0]:
        for a2, s2, w2, e2, r2 in _drive(net, machines, bindings, "server.ike", "sa_expire", a1)[0]:
            out.append(Command(name="sad.expire" + s1 + s2, guard=a2.guard,
                               updates=tuple(sorted(a2.ups.items())), wire=w1 + w2,
                               events=e1 + e2, rules=("A-5",) + r1 + r2, kind="local",
                               tags=("fault",)))
    return out


def _grace_commands(sc: Scenario) -> list[Command]:
    """A-14: the allow-clear grace timer of a host's inbound SA may expire at any time."""
    out = []
    for h in HOSTS:
        if getattr(sc, h).allow_clear_timeout:
            g = and_(eq(F(f"{h}.sa_in"), 1), eq(F(f"{h}.grace_over"), 0))
            out.append(Command(name=f"{h}.sad.allow_clear_timeout", guard=g,
                               updates=((f"{h}.grace_over", C(1)),), rules=("A-14",),
                               kind="local", tags=(h,)))
    return out


def _drop_commands(sc: Scenario, net: Network, h: str) -> list[Command]:
    """Inbound-filter drops: the segment is consumed and never reaches TCP (ND-17/18/19, ND-15)."""
    out = []
    for k in net.alphabet[other(h)]:
        if not k.prot:
            continue
        for br in inbound_branches(h, sc, k.prot == "esp", _new_flow(h)):
            if br.row.action != "drop":
                continue
            acc = _Acc(TRUE, {}).cond(net.has(k)).set(net.consume(k)).cond(br.guard).set(br.updates)
            out.append(Command(
                name=f"{h}.nd.drop[{k.label()}: {br.row.id}]", guard=acc.guard,
                updates=tuple(sorted(acc.ups.items())), rules=(br.row.id,), kind="drop",
                tags=(h, k.msg)))
    return out


def _check_fields(system: System) -> None:
    for c in system.commands:
        for name, _ in c.updates:
            if name not in system.index:
                raise ModelError(f"command {c.name!r} updates unknown field {name!r}")
