"""The System IR: a flat state vector of finite fields and guarded commands over a tiny expression AST.

Every engine is generated from this IR (DESIGN.md "one model, several engines"): the explicit
explorer compiles it to Python source, the symbolic engine translates it to z3 terms, and the
Promela exporter prints it.  Expressions are immutable trees of :class:`Expr` nodes; the helper
constructors below fold constants so that scenario constants (policies, peer kind, knobs)
disappear from guards at build time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# --------------------------------------------------------------------------------------------
# Expressions
# --------------------------------------------------------------------------------------------

OPS = ("eq", "ne", "lt", "le", "add", "sub", "and", "or", "not", "ite", "min", "max")

# The operator tables every renderer shares (Python source, Promela, z3, :func:`show`).
CMP_SYMBOLS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<="}   # comparisons, as infix symbols
ARITH_SYMBOLS = {"add": "+", "sub": "-"}                          # infix arithmetic
INFIX_SYMBOLS = {**CMP_SYMBOLS, **ARITH_SYMBOLS}
BOOL_OPS = frozenset({*CMP_SYMBOLS, "and", "or", "not"})         # the truth-valued operators
# ``a <sym> b`` is ``b <MIRRORED_CMP[sym]> a``
MIRRORED_CMP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


@dataclass(frozen=True, slots=True)
class Expr:
    """A node: ``op`` is ``"field"``, ``"const"`` or one of :data:`OPS`."""

    op: str
    args: tuple = ()
    #: the hash, computed once: the code generators hash every subtree many times (a
    #: recursive hash per lookup cost 0.3 s of fig7-both-capable's 1.9 s compile)
    _hash: int | None = field(default=None, init=False, repr=False, compare=False)
    #: the names of the fields the tree reads, computed once (:func:`fields_of`): composition
    #: substitutes the updates so far into every guard and update, and a subtree that reads
    #: none of the substituted fields is returned as it is (:func:`substitute`)
    _fields: frozenset | None = field(default=None, init=False, repr=False, compare=False)

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = hash((self.op, self.args))
            object.__setattr__(self, "_hash", h)
        return h

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if other.__class__ is not Expr:
            return NotImplemented
        # two trees whose hashes are known and differ are different (no deep comparison)
        if self._hash is not None and other._hash is not None and self._hash != other._hash:
            return False
        return self.op == other.op and self.args == other.args

    def __repr__(self) -> str:  # compact, readable
        return show(self)


def F(name: str) -> Expr:
    """Reference to a state field by name."""
    return Expr("field", (name,))


def C(value: int | bool) -> Expr:
    """An integer (booleans are 0/1) constant."""
    return Expr("const", (int(value),))


def P(value: int, name: str) -> Expr:
    """A scenario parameter (a retransmission budget such as ``tcp.syn_retries``).

    Every engine reads it as the constant ``value`` (``args[0]``, like :func:`C`); the name in
    ``args[1]`` only lets the z3 engine replace it by a symbolic parameter (``--lift-budgets``).
    """
    return Expr("const", (int(value), name))


TRUE = C(1)
FALSE = C(0)


def _c(e: Expr | int | bool) -> Expr:
    return e if isinstance(e, Expr) else C(e)


def is_const(e: Expr) -> bool:
    return e.op == "const"


def cval(e: Expr) -> int:
    return e.args[0]


def eq(a: Expr | int, b: Expr | int) -> Expr:
    a, b = _c(a), _c(b)
    if is_const(a) and is_const(b):
        return C(cval(a) == cval(b))
    if a == b:
        return TRUE
    return Expr("eq", (a, b))


def ne(a: Expr | int, b: Expr | int) -> Expr:
    return not_(eq(a, b))


def lt(a: Expr | int, b: Expr | int) -> Expr:
    a, b = _c(a), _c(b)
    if is_const(a) and is_const(b):
        return C(cval(a) < cval(b))
    return Expr("lt", (a, b))


def le(a: Expr | int, b: Expr | int) -> Expr:
    a, b = _c(a), _c(b)
    if is_const(a) and is_const(b):
        return C(cval(a) <= cval(b))
    return Expr("le", (a, b))


def add(a: Expr | int, b: Expr | int) -> Expr:
    a, b = _c(a), _c(b)
    if is_const(a) and is_const(b):
        return C(cval(a) + cval(b))
    if is_const(b) and cval(b) == 0:
        return a
    if is_const(a) and cval(a) == 0:
        return b
    return Expr("add", (a, b))


def sub(a: Expr | int, b: Expr | int) -> Expr:
    a, b = _c(a), _c(b)
    if is_const(a) and is_const(b):
        return C(cval(a) - cval(b))
    if is_const(b) and cval(b) == 0:
        return a
    return Expr("sub", (a, b))


def max_(a: Expr | int, b: Expr | int) -> Expr:
    a, b = _c(a), _c(b)
    if is_const(a) and is_const(b):
        return C(max(cval(a), cval(b)))
    return Expr("max", (a, b))


def _junction(op: str, xs: tuple[Expr | bool, ...], unit: Expr, zero: Expr) -> Expr:
    """``xs`` joined by ``op`` ("and"/"or"; ``unit`` its neutral constant, ``zero`` its absorbing
    one): constants fold, nested ``op`` nodes are flattened and repeated operands dropped; a
    conjunction pinning one field to two constants is false."""
    out: list[Expr] = []
    seen: set[Expr] = set()
    for x in xs:
        x = _c(x)
        if is_const(x):
            if bool(cval(x)) == bool(cval(zero)):
                return zero
            continue
        parts = x.args if x.op == op else (x,)
        for p in parts:
            if p not in seen:       # a set: the list's linear scan compared trees deeply
                seen.add(p)
                out.append(p)
    if not out:
        return unit
    if op == "and" and _contradicts(out):
        return zero
    if len(out) == 1:
        return out[0]
    return Expr(op, tuple(out))


def _contradicts(conjuncts: list[Expr]) -> bool:
    """Two conjuncts pin one field to different constants (``x == 1 and x == 3``)."""
    pinned: dict[str, int] = {}
    for p in conjuncts:
        if p.op != "eq":
            continue
        a, b = p.args
        if a.op == "const":
            a, b = b, a
        if a.op == "field" and b.op == "const" and pinned.setdefault(a.args[0], b.args[0]) != b.args[0]:
            return True
    return False


def and_(*xs: Expr | bool) -> Expr:
    return _junction("and", xs, TRUE, FALSE)


def or_(*xs: Expr | bool) -> Expr:
    return _junction("or", xs, FALSE, TRUE)


def not_(a: Expr | bool) -> Expr:
    a = _c(a)
    if is_const(a):
        return C(cval(a) == 0)
    if a.op == "not":
        return a.args[0]
    return Expr("not", (a,))


def ite(c: Expr | bool, t: Expr | int, e: Expr | int) -> Expr:
    c, t, e = _c(c), _c(t), _c(e)
    if is_const(c):
        return t if cval(c) else e
    if t == e:
        return t
    return Expr("ite", (c, t, e))


def implies(a: Expr, b: Expr) -> Expr:
    return or_(not_(a), b)


def fields_of(e: Expr) -> set[str]:
    """Names of the fields an expression reads."""
    return set(_fields(e))


_NO_FIELDS: frozenset[str] = frozenset()


def _fields(e: Expr) -> frozenset[str]:
    """:func:`fields_of` as a frozenset, cached on the node."""
    got = e._fields
    if got is None:
        if e.op == "field":
            got = frozenset(e.args[:1])
        elif e.op == "const":
            got = _NO_FIELDS
        else:
            got = frozenset().union(*[_fields(a) for a in e.args])
        object.__setattr__(e, "_fields", got)
    return got


_REBUILD = {
    "eq": eq, "lt": lt, "le": le, "add": add, "sub": sub, "max": max_,
    "and": and_, "or": or_, "not": not_, "ite": ite,
}


def substitute(e: Expr, env: Mapping[str, Expr]) -> Expr:
    """Replace field references by expressions (sequential composition), folding constants."""
    if not env:
        return e
    if e.op == "field":
        return env.get(e.args[0], e)
    if e.op == "const":
        return e
    if env.keys().isdisjoint(_fields(e)):
        # nothing to replace below: the tree as it is (rebuilding it would give an equal tree,
        # every constructor having simplified it already; fig7-both-capable's composition made
        # 1.5 million such calls)
        return e
    args = [substitute(a, env) for a in e.args]
    if e.op == "ne":
        return ne(*args)
    if e.op == "min":
        return Expr("min", tuple(args))
    return _REBUILD[e.op](*args)


def evaluate(e: Expr, get) -> int:
    """Interpret an expression; ``get(name)`` returns a field's current value."""
    op = e.op
    if op == "const":
        return e.args[0]
    if op == "field":
        return get(e.args[0])
    a = e.args
    if op == "eq":
        return int(evaluate(a[0], get) == evaluate(a[1], get))
    if op == "ne":
        return int(evaluate(a[0], get) != evaluate(a[1], get))
    if op == "lt":
        return int(evaluate(a[0], get) < evaluate(a[1], get))
    if op == "le":
        return int(evaluate(a[0], get) <= evaluate(a[1], get))
    if op == "add":
        return evaluate(a[0], get) + evaluate(a[1], get)
    if op == "sub":
        return evaluate(a[0], get) - evaluate(a[1], get)
    if op == "max":
        return max(evaluate(a[0], get), evaluate(a[1], get))
    if op == "min":
        return min(evaluate(a[0], get), evaluate(a[1], get))
    if op == "and":
        return int(all(evaluate(x, get) for x in a))
    if op == "or":
        return int(any(evaluate(x, get) for x in a))
    if op == "not":
        return int(not evaluate(a[0], get))
    if op == "ite":
        return evaluate(a[1], get) if evaluate(a[0], get) else evaluate(a[2], get)
    raise ValueError(f"unknown expression operator {op!r}")


def show(e: Expr) -> str:
    """Human-readable rendering with field names (used in docs and invariants)."""
    if e.op == "field":
        return e.args[0]
    if e.op == "const":
        return str(e.args[0])
    if e.op in INFIX_SYMBOLS:
        return f"({show(e.args[0])} {INFIX_SYMBOLS[e.op]} {show(e.args[1])})"
    if e.op == "and":
        return "(" + " & ".join(show(a) for a in e.args) + ")"
    if e.op == "or":
        return "(" + " | ".join(show(a) for a in e.args) + ")"
    if e.op == "not":
        return f"!{show(e.args[0])}"
    if e.op == "ite":
        return f"({show(e.args[0])} ? {show(e.args[1])} : {show(e.args[2])})"
    return f"{e.op}({', '.join(show(a) for a in e.args)})"


# --------------------------------------------------------------------------------------------
# Fields, packets, commands, system
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    """One component of the state vector: integer domain ``lo..hi``.

    ``kind`` is ``"control"`` (a machine's control state; ``labels`` are the state ids),
    ``"bool"``, ``"counter"`` (bounded for exploration; z3 may lift ``hi``) or ``"enum"``.
    ``unbounded_ok`` marks counters whose cap is a search bound rather than a protocol fact
    (channel multiplicities, retransmission counters): the z3 engine lifts them in unbounded mode.
    """

    name: str
    lo: int
    hi: int
    init: int = 0
    kind: str = "counter"
    labels: tuple[str, ...] = ()
    unbounded_ok: bool = False
    doc: str = ""

    def label(self, v: int) -> str:
        if self.labels and 0 <= v < len(self.labels):
            return self.labels[v]
        return str(v)


@dataclass(frozen=True, slots=True)
class Packet:
    """A packet put on the wire: ``sender>receiver MESSAGE [protection]``.

    Two packets are equal when a capture shows them the same (the four wire fields).  A packet
    the model makes also carries the facts the wire does not show: ``internal``, the model's
    message id (``DATA2``, ``ACK1``, ``ACKF``, ``QM1/BG``: the channel entry it occupies), and for a
    TCP segment ``rule``, the outbound decision-table row that chose its protection
    (``ND-8/clear+acquire``) or held it.
    """

    sender: str
    receiver: str
    message: str  # wire name: MM1..CONNECTED, NOTIFY, ICMP, SYN, SYN-ACK, ACK, DATA, FIN, RST
    protection: str | None = None  # "clear" / "esp" for TCP segments, None for IKE
    internal: str = field(default="", compare=False)  # model message id ("" when not known)
    rule: str = field(default="", compare=False)      # outbound row of a TCP segment

    def wire(self) -> str:
        s = f"{self.sender}>{self.receiver} {self.message}"
        return s + (f" {self.protection}" if self.protection else "")


@dataclass(frozen=True, slots=True)
class Command:
    """A guarded command: one atomic step of the composed system.

    ``events`` lists the machine events the step performs, as ``(machine key, event name,
    source state id)``, so that a trace can be replayed through python-statemachine instances.
    ``rules`` lists the digest rule branches (``ND-8``, ...) this step exercises; ``kind``
    classifies the step (``send``, ``deliver``, ``drop``, ``lose``, ``dup``, ``local``).
    ``held`` lists the TCP segments the sender's outbound filter kept back (a ``held`` row: ND-10,
    ND-12, ND-15): never on the wire, so their ``protection`` is None; ``rule`` names the row.
    """

    name: str
    guard: Expr
    updates: tuple[tuple[str, Expr], ...]
    wire: tuple[Packet, ...] = ()
    events: tuple[tuple[str, str, str], ...] = ()
    rules: tuple[str, ...] = ()
    kind: str = "local"
    tags: tuple[str, ...] = ()
    held: tuple[Packet, ...] = ()


@dataclass(frozen=True, slots=True)
class FlowNames:
    """The names one flow owns (DESIGN.md "Flows"): its TCP ends' control fields and data, its
    flow-table flags, its channel counters and its message ids, in an order that corresponds
    position by position across the flows with the same ``opener``.  Two such flows are
    interchangeable: swapping their names maps the system onto itself (symmetry)."""

    number: int
    opener: str
    names: tuple[str, ...]
    #: the flow's GE rule at (client, server) (ND-7, ``[[flows]] guaranteed_encryption``): flows
    #: with the same opener but different GE rules correspond name by name (a property for the
    #: first flow renamed speaks for the other, properties/flows.py) but are not interchangeable
    #: (the swap does not map the system onto itself: no symmetry reduction between them)
    ge: tuple[bool, bool] = (False, False)

    @property
    def kind(self) -> tuple[str, tuple[bool, bool]]:
        """What makes two flows interchangeable (symmetry): the same opener and GE rules."""
        return self.opener, self.ge


def flow_swap(a: FlowNames, b: FlowNames) -> dict[str, str]:
    """The renaming that exchanges flows ``a`` and ``b`` (same opener): each name of one to the
    corresponding name of the other."""
    if a.opener != b.opener or len(a.names) != len(b.names):
        raise ValueError(f"flows {a.number} and {b.number} are not interchangeable")
    out = dict(zip(a.names, b.names))
    out.update(zip(b.names, a.names))
    return out


@dataclass(frozen=True, slots=True)
class Limits:
    """The bounds an engine honours when it explores a system (a scenario's ``[bounds]`` and
    ``network.capacity``): reaching one truncates the search, never passes it."""

    max_states: int = 2_000_000
    timeout: float = 300.0          # seconds
    max_memory: int = 0             # MB of resident memory; 0 = no limit
    capacity: int = 3               # copies of one message in flight (counter caps)


@dataclass(slots=True)
class System:
    """The composed model: fields, initial state, commands, plus what engines and replay need.

    Engines read ``fields``, ``commands``, ``limits``, ``description`` and keep their compiled
    artefacts in ``cache``.  ``machines`` and ``conds`` (machine key → condition name → IR
    expression) let a trace be replayed through python-statemachine instances; ``alphabet``
    (host → the message keys it sends) lays out sequence charts.  ``scenario`` is the model-level
    :class:`~ndcheck.model.scenario.Scenario` the system stands for (properties and expectations
    read it; engines never do), ``mutant`` the seeded fault it carries, if any.  ``rebuild``
    returns the system with lifted parameters (``section.knob`` → value) set, for replaying a
    z3 counterexample found with symbolic budgets; None when the system cannot be rebuilt.
    """

    name: str
    fields: list[Field]
    commands: list[Command]
    machines: dict[str, type] = field(default_factory=dict)  # key -> python-statemachine class
    description: str = ""
    limits: Limits = field(default_factory=Limits)
    conds: dict[str, dict[str, Expr]] = field(default_factory=dict)
    alphabet: dict[str, list] = field(default_factory=dict)
    scenario: object | None = None
    mutant: str | None = None
    rebuild: Callable[[Mapping[str, int]], System] | None = None
    #: the TCP connections and the names each owns (one entry per flow; empty: one flow)
    flows: tuple[FlowNames, ...] = ()
    cache: dict[str, object] = field(default_factory=dict)
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {f.name: i for i, f in enumerate(self.fields)}

    @property
    def init(self) -> tuple[int, ...]:
        return tuple(f.init for f in self.fields)

    def field(self, name: str) -> Field:
        return self.fields[self.index[name]]

    def getter(self, state: Sequence[int]):
        idx = self.index
        return lambda name: state[idx[name]]

    def eval(self, e: Expr, state: Sequence[int]) -> int:
        return evaluate(e, self.getter(state))

    def step(self, cmd: Command, state: Sequence[int]) -> tuple[int, ...] | None:
        """Apply one command by interpretation (the reference semantics); None if disabled."""
        get = self.getter(state)
        if not evaluate(cmd.guard, get):
            return None
        new = list(state)
        for name, e in cmd.updates:
            new[self.index[name]] = evaluate(e, get)
        return tuple(new)

    def control_field(self, machine: str) -> Field | None:
        """The field holding ``machine``'s control state (composition names it by the machine's
        key, kind ``control``), or None when the machine has none.

        With :attr:`Command.events` (whose first entry is the machine that takes the step) this is
        what an engine needs to lay the commands out per machine, e.g. one Promela process per
        machine with its control state as the process's location.
        """
        i = self.index.get(machine)
        if i is None or self.fields[i].kind != "control":
            return None
        return self.fields[i]

    def describe(self, state: Sequence[int]) -> dict[str, str]:
        return {f.name: f.label(state[i]) for i, f in enumerate(self.fields)}

    def diff(self, before: Sequence[int], after: Sequence[int]) -> dict[str, str]:
        return {
            f.name: f.label(after[i])
            for i, f in enumerate(self.fields)
            if before[i] != after[i]
        }


def conjuncts(e: Expr) -> Iterable[Expr]:
    return e.args if e.op == "and" else (e,)
