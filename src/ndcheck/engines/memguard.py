"""A memory bound for exploration: stop cleanly (truncated, partial statistics) past a resident-set limit.

The explicit explorer checks its bounds every few thousand states; :class:`MemoryGuard` is the
memory one.  It reads the process's resident set size from ``/proc/self/statm`` (Linux), or the
peak from :func:`resource.getrusage` elsewhere (the parallel explorer's guard also counts its
forked workers, ``pids``: the proportional set sizes of all of them together), and says when it exceeds the limit, so that the
search ends like a ``max-states`` or ``timeout`` stop: ``Graph.truncated`` with a reason, every
unrefuted property ``undetermined`` and exit status 3 — never a ``MemoryError`` traceback.

The limit comes from the scenario (``[bounds] max_memory`` in MB, ``--max-memory MB`` on the
command line) or from the ``NDCHECK_MAX_MEMORY`` environment variable (MB); 0 means no limit.

The explorer hook is two lines::

    guard = MemoryGuard.for_system(system)            # before the BFS loop
    ...
    if guard.exceeded():                              # beside the timeout check
        truncated, reason = True, guard.reason; break

Examples
--------
>>> g = MemoryGuard(0)
>>> g.exceeded()
False
>>> g = MemoryGuard(1)          # 1 MB: any Python process is past it
>>> g.exceeded(), g.reason.startswith("memory limit 1 MB reached")
(True, True)
"""

from __future__ import annotations

import os
import sys

ENV = "NDCHECK_MAX_MEMORY"

try:
    _PAGE = os.sysconf("SC_PAGE_SIZE")
except (AttributeError, ValueError, OSError):  # pragma: no cover - non-POSIX
    _PAGE = 4096


def rss_mb() -> float:
    """The resident set size of this process in MB (peak RSS where ``/proc`` is unavailable)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE / 1_048_576
    except (OSError, IndexError, ValueError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # ru_maxrss is in kilobytes on Linux, in bytes on macOS.
        return peak / 1_048_576 if sys.platform == "darwin" else peak / 1024


def pss_mb(pid: int | str = "self") -> float | None:
    """A process's proportional set size in MB (its private pages plus its share of the pages
    it shares, e.g. with a forked parent): ``/proc/PID/smaps_rollup``; None where unreadable."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) / 1024
    except (OSError, IndexError, ValueError):
        pass
    return None


def group_mb(pids) -> float:
    """The memory of this process and of ``pids`` (forked workers) together: the sum of their
    proportional set sizes, so pages shared since the fork count once; this process's resident
    set alone where ``smaps_rollup`` is unavailable (a worker that has exited counts 0)."""
    own = pss_mb()
    if own is None:
        return rss_mb()
    return own + sum(pss_mb(pid) or 0.0 for pid in pids)


def limit_from_env() -> int:
    """The ``NDCHECK_MAX_MEMORY`` limit in MB (0 when unset, empty or not a positive integer)."""
    text = os.environ.get(ENV, "").strip()
    try:
        value = int(text)
    except ValueError:
        return 0
    return max(value, 0)


class MemoryGuard:
    """Says when the process's resident memory exceeds ``limit_mb`` (0 = never)."""

    __slots__ = ("limit_mb", "peak_mb", "pids", "reason")

    def __init__(self, limit_mb: int) -> None:
        self.limit_mb = int(limit_mb)
        self.reason = ""
        self.peak_mb = 0.0
        #: forked worker processes whose memory counts as well (the parallel explorer's)
        self.pids: tuple[int, ...] = ()

    @classmethod
    def for_system(cls, system) -> MemoryGuard:
        """The guard for a system: its scenario's ``bounds.max_memory``, else the environment."""
        limit = system.limits.max_memory or limit_from_env()
        return cls(limit)

    def __bool__(self) -> bool:
        return self.limit_mb > 0

    def exceeded(self) -> bool:
        """True (and ``reason`` set) once the resident set is past the limit."""
        if self.limit_mb <= 0:
            return False
        used = group_mb(self.pids) if self.pids else rss_mb()
        self.peak_mb = max(self.peak_mb, used)
        if used > self.limit_mb:
            who = f" by {len(self.pids) + 1} processes" if self.pids else ""
            self.reason = f"memory limit {self.limit_mb} MB reached ({used:.0f} MB resident{who})"
            return True
        return False
