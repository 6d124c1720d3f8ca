"""BMC on two cores: the depths from one on split by parity between two forked processes.

BMC's time is its z3 checks at the deepest depths (crossing-ike-loss L-6: depths 14 and 15 took
2.4 and 1.3 s of its 6.3 s of z3; BENCHMARKS.md), one after the other on one core.  From depth
``first`` on, :func:`.bmc.bmc` forks two processes (:class:`Halves`), each inheriting the solver
with the unrolling so far and the explicit layers' hints: one checks ``first``, ``first + 2``,
…, the other ``first + 1``, ``first + 3``, …; each extends the unrolling at every depth and
checks only its own.  The parent only listens: the answer is the smallest depth at which one of
them found a bad state (or gave up) once every depth below it is answered unsat, and the parent
then kills both (the one still checking the next depth too: no z3 call has to be interrupted,
and nothing of it lingers in this process's z3 context).

Each child asserts the same formulas in the same order whatever the timing, so the trace is the
same from run to run on a machine with two cores; it may differ from the one-core trace (the
solver at a given depth has another history there: another counterexample of the same,
shortest, length) and, like any z3 answer, is replayed through the model and the machines.  A
child reports each of its depths as JSON lines (``{"k": 5, "r": "start"}`` before the check,
then ``"unsat"``, ``"sat"`` with the decoded commands and states, or ``"unknown"`` with z3's
reason) and ends after its first answer that is not unsat or at the maximal depth; it dies with
the parent.  A child that ends without answering a depth the answer needs raises :class:`Lost`:
the caller runs BMC again on one core.
"""

from __future__ import annotations

import json
import os
import select
import signal
import time
from collections.abc import Callable


class Lost(RuntimeError):
    """A child ended without answering a depth the answer needs."""


class Halves:
    """Two forked processes checking the depths ``first + o``, ``first + o + 2``, … (``o`` = 0,
    1) of the parent's unrolling ``u`` (at depth ``first``); ``check(u, k)`` is
    :func:`.bmc.check_depth` (``("unsat" | "sat" | "unknown", payload)``)."""

    def __init__(self, u, check, first: int, max_depth: int, min_depth: int = 0) -> None:
        self.first, self.max_depth = first, max_depth
        self.results: dict[int, tuple[str, object]] = {}
        self.started = first - 1
        self.kids: list[list] = []      # [pid, read end, buffer]
        for offset in (0, 1):
            if first + offset <= max_depth:
                self.kids.append(self._fork(u, check, first + offset, max_depth, min_depth))

    @staticmethod
    def _fork(u, check, start: int, max_depth: int, min_depth: int) -> list:
        from .portfolio import fork_child

        pid, rd = fork_child(lambda wr: _child(u, check, start, max_depth, min_depth, wr))
        return [pid, rd, b""]

    def answer(self, deadline: float | None = None, tell: Callable[[int], None] | None = None
               ) -> tuple[int, str, object] | None:
        """``(depth, "sat" | "unknown", payload)`` at the smallest depth that is not unsat, None
        when every depth up to the maximum is unsat; an unknown at the first unanswered depth
        when ``deadline`` passes.  ``tell(k)``: depth ``k`` has started (increasing).  Raises
        :class:`Lost` when a child ended without answering a depth the answer needs."""
        while True:
            for k in range(self.first, self.max_depth + 1):
                got = self.results.get(k)
                if got is None:
                    break
                if got[0] != "unsat":
                    return (k, *got)
            else:
                return None
            left = None if deadline is None else deadline - time.perf_counter()
            if left is not None and left <= 0:
                return (k, "unknown", f"bmc: time limit at depth {k} (two processes)")
            if not self._read(left):
                raise Lost(f"a BMC process ended before answering depth {k}")
            if tell is not None and self.started >= self.first:
                tell(self.started)

    def _read(self, timeout: float | None) -> bool:
        """Take what the children have written, waiting at most ``timeout`` seconds for some;
        False when they have all ended."""
        live = [kid for kid in self.kids if kid[1] >= 0]
        if not live:
            return False
        ready = select.select([kid[1] for kid in live], [], [], timeout)[0]
        for kid in live:
            if kid[1] not in ready:
                continue
            chunk = os.read(kid[1], 1 << 20)
            if not chunk:
                os.close(kid[1])
                kid[1] = -1
                continue
            kid[2] += chunk
            *lines, kid[2] = kid[2].split(b"\n")
            for line in lines:
                msg = json.loads(line)
                r = msg["r"]
                if r == "start":
                    self.started = max(self.started, msg["k"])
                    continue
                payload = msg.get("why") if r == "unknown" else \
                    (tuple(msg["cmds"]), tuple(map(tuple, msg["states"]))) if r == "sat" else None
                self.results[msg["k"]] = (r, payload)
        return True

    def close(self) -> None:
        """Kill the children still running, reap them, release the pipes."""
        for kid in self.kids:
            pid, rd, _ = kid
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass
                kid[0] = 0
            if rd >= 0:
                os.close(rd)
                kid[1] = -1


def _child(u, check, start: int, max_depth: int, min_depth: int, wr: int) -> None:
    with os.fdopen(wr, "w") as out:
        k = start
        while k <= max_depth:
            while u.depth < k:
                u.extend()      # the other child's depths are unrolled, not checked
            out.write(json.dumps({"k": k, "r": "start"}) + "\n")
            out.flush()
            r, payload = check(u, k) if k >= min_depth else ("unsat", None)
            msg: dict = {"k": k, "r": r}
            if r == "sat":
                cmds, states = payload
                msg.update(cmds=list(cmds), states=[list(s) for s in states])
            elif r == "unknown":
                msg["why"] = payload
            out.write(json.dumps(msg) + "\n")
            out.flush()
            if r != "unsat":
                return
            k += 2
