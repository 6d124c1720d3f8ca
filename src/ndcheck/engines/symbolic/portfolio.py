"""Houdini on two cores: a forked partner with another z3 seed, the two sharing refutations.

Houdini's answer does not depend on the order of its refutations: every candidate a
counterexample to induction falsifies is outside *every* inductive subset of the active
candidates, so dropping it is always right, and the fixpoint is the unique largest inductive
subset.  Two searches may therefore run side by side and send each other what they drop; the
first that finds the active candidates inductive (z3: unsat) has the answer for both.

z3's time per round varies a lot from seed to seed (fig7-both-capable: 9.6-17 s of Houdini
for the same candidates, seeds only; BENCHMARKS.md), and the two searches find different
counterexamples, so sharing them saves rounds as well.  :class:`Partner` forks the process after
the solver is built (the child inherits the solver with its assertions: nothing is rebuilt),
sets another ``smt.random_seed`` there and runs the same loop (:meth:`.lemmas._Search.houdini`).
Messages are JSON lines over two pipes: ``{"drop": [k, ...]}`` both ways and
``{"done": [k, ...]}`` (the child's inductive set) to the parent, which looks at them between
its rounds (a reader thread collects them).  It does not interrupt the parent's running check:
an interrupt that lands just after a check has returned cancels the next z3 call instead (a
model could not be read: seen in a test), so the parent may finish one more check after its
partner is done.  The parent adopts a child's answer only if it contains it
(each side's drops are sound, so the child's answer, the largest inductive subset, lies inside
every active set); anything else is a bug, and the parent then goes on alone.

The child never outlives the parent (``PR_SET_PDEATHSIG``, and it stops on the pipe's end of
file) and is killed when the parent has its answer.  Only POSIX ``fork`` is used; where it is
missing, :func:`available` is False and Houdini runs alone.
"""

from __future__ import annotations

import json
import os
import select
import signal
import threading
import warnings
from collections.abc import Callable, Iterable


def available() -> bool:
    """Whether a partner can be forked here (POSIX) and a second core is there to run it."""
    if not hasattr(os, "fork"):
        return False
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:      # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return cores >= 2


def die_with_parent() -> None:
    """Linux: the kernel sends SIGKILL to this (child) process when its parent exits."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))      # PR_SET_PDEATHSIG
    except (OSError, AttributeError):           # pragma: no cover - not Linux
        pass


def fork_child(work: Callable[[int], None]) -> tuple[int, int]:
    """Fork a child that runs ``work(wr)``, ``wr`` the write end of a pipe, and exits (status 1
    if it raised); returns ``(pid, read end)``.  The child dies with this process and shows
    nothing on its terminal (warnings ignored; it exits without flushing inherited buffers)."""
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(rd)
            die_with_parent()
            warnings.simplefilter("ignore")
            work(wr)
        except BaseException:   # noqa: BLE001 - the parent sees the status or the end of file
            code = 1
        finally:
            os._exit(code)
    os.close(wr)
    return pid, rd


class _Pipe:
    """JSON lines over a pair of file descriptors."""

    def __init__(self, rd: int, wr: int) -> None:
        self.rd, self.wr = rd, wr
        self._buf = b""
        self.closed = False

    def send(self, msg: dict) -> None:
        try:
            os.write(self.wr, (json.dumps(msg) + "\n").encode())
        except OSError:     # the other side is gone
            self.closed = True

    def poll(self, block: bool = False) -> list[dict]:
        """The messages that have arrived (``block``: wait for at least some bytes or EOF)."""
        out: list[dict] = []
        while not self.closed:
            try:
                ready = select.select([self.rd], [], [], None if block and not out else 0)[0]
                if not ready:
                    break
                chunk = os.read(self.rd, 1 << 16)
            except OSError:     # closed under us
                chunk = b""
            if not chunk:
                self.closed = True
                break
            self._buf += chunk
            *lines, self._buf = self._buf.split(b"\n")
            out.extend(json.loads(line) for line in lines if line)
            if out:
                block = False
        return out


class Partner:
    """A forked copy of a :class:`~.lemmas._Search` running Houdini with z3 seed ``seed``."""

    def __init__(self, search, seed: int = 1) -> None:
        p2c_r, p2c_w = os.pipe()
        c2p_r, c2p_w = os.pipe()
        pid = os.fork()
        if pid == 0:    # the child: Houdini, then exit without running the parent's cleanups
            code = 0
            try:
                os.close(p2c_w)
                os.close(c2p_r)
                die_with_parent()
                _child(search, _Pipe(p2c_r, c2p_w), seed)
            except BaseException:   # noqa: BLE001 - the parent goes on alone
                code = 1
            finally:
                os._exit(code)
        os.close(p2c_r)
        os.close(c2p_w)
        self.pid = pid
        self.pipe = _Pipe(c2p_r, p2c_w)
        self._lock = threading.Lock()
        self._drops: list[int] = []
        self.answer: list[int] | None = None
        self._reader = threading.Thread(target=self._read, daemon=True, name="ndcheck-houdini-partner")
        self._reader.start()

    def _read(self) -> None:
        while not self.pipe.closed:
            for msg in self.pipe.poll(block=True):
                with self._lock:
                    if "drop" in msg:
                        self._drops.extend(msg["drop"])
                    elif "done" in msg:
                        self.answer = list(msg["done"])
                if "done" in msg:
                    return

    def take(self) -> tuple[list[int], list[int] | None]:
        """The partner's drops since the last call, and its answer if it has one."""
        with self._lock:
            drops, self._drops = self._drops, []
            return drops, self.answer

    def send(self, gone: Iterable[int]) -> None:
        gone = sorted(gone)
        if gone:
            self.pipe.send({"drop": gone})

    def close(self) -> None:
        """Stop the child (if it still runs) and release the pipes."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        # the child's end of the pipe died with it: the reader sees EOF and returns.  Only then
        # is the descriptor closed (closed under a select, it raised EBADF in the reader, and
        # its number could have been reused by a file opened meanwhile)
        self._reader.join(timeout=5.0)
        for fd in (self.pipe.rd, self.pipe.wr):
            try:
                os.close(fd)
            except OSError:
                pass
        self.pipe.closed = True


class _ChildLink:
    """The child's side: the same calls as :class:`Partner` over a polled pipe."""

    def __init__(self, pipe: _Pipe) -> None:
        self.pipe = pipe

    def take(self) -> tuple[list[int], list[int] | None]:
        drops: list[int] = []
        for msg in self.pipe.poll():
            drops.extend(msg.get("drop", ()))
        if self.pipe.closed:
            raise SystemExit(0)     # the parent is done or gone
        return drops, None

    def send(self, gone: Iterable[int]) -> None:
        gone = sorted(gone)
        if gone:
            self.pipe.send({"drop": gone})


def _child(search, pipe: _Pipe, seed: int) -> None:
    search.sol.set(random_seed=seed)
    search.walk.off = True      # no background compilation here: both cores run z3
    search.partner = _ChildLink(pipe)
    if search.houdini() is not None:
        pipe.send({"done": sorted(search.idx.active)})   # the pipe keeps it after this exits
