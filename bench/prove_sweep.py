"""One safety property proved (``ndcheck prove``, spacer, unbounded) on every catalog scenario it applies to.

Usage: ``python bench/prove_sweep.py PROPERTY [TIMEOUT_S] [--max-states N]`` (default 60 s; only
scenarios with at most N explored states).  Each proof runs in a fresh process (cold, as from
the command line); one line per scenario: explored states, wall seconds, the verdict, and the
head of the note (which stage decided it, or which did not), then the verdicts counted.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter

from ndcheck import CATALOG, build_system, explore
from ndcheck.properties.catalog import get_property


def main() -> None:
    argv = sys.argv[1:]
    if not argv or "-h" in argv or "--help" in argv:
        print(__doc__)
        return
    cap = None
    if "--max-states" in argv:
        k = argv.index("--max-states")
        cap = int(argv[k + 1])
        del argv[k:k + 2]
    prop = get_property(argv[0])
    timeout = float(argv[1]) if len(argv) > 1 else 60.0
    tally: Counter = Counter()
    for name in sorted(CATALOG):
        system = build_system(CATALOG[name])
        if not prop.applies(system):
            continue
        n = explore(system, symmetry=False).n_states
        if cap is not None and n > cap:
            print(f"{name:32} {n:7} states  skipped (--max-states {cap})", flush=True)
            continue
        t0 = time.perf_counter()
        out = subprocess.run(["ndcheck", "prove", name, prop.id, "--unbounded", "--timeout", str(timeout),
                              "--format", "json"], capture_output=True, text=True, check=False)
        secs = time.perf_counter() - t0
        try:
            got = json.loads(out.stdout)
            verdict, note = got["verdict"], got.get("note", "")
        except (json.JSONDecodeError, KeyError):
            verdict, note = "error", (out.stderr.strip().splitlines() or ["?"])[-1]
        tally[verdict] += 1
        print(f"{name:32} {n:7} states  {secs:6.1f}s  {verdict:12} {note[:110]}", flush=True)
    print("  ".join(f"{v}: {c}" for v, c in sorted(tally.items())))


if __name__ == "__main__":
    main()
