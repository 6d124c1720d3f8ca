"""Peak resident memory of exploring each built-in scenario, one fresh process per scenario.

Prints a Markdown table: states, edges, the process's peak RSS after importing ndcheck (the
baseline) and after building, compiling and exploring the scenario, and their difference.
Usage: ``python bench/peak_rss.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys
from ndcheck import CATALOG, build_system, explore
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
g = explore(build_system(CATALOG[sys.argv[1]]))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps([g.n_states, g.n_edges, base, peak, g.seconds]))
"""


def main() -> None:
    from ndcheck import CATALOG

    print("| scenario | states | edges | baseline RSS MB | peak RSS MB | explore Δ MB | explore s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in sorted(CATALOG):
        out = subprocess.run([sys.executable, "-c", CHILD, name], check=True,
                             capture_output=True, text=True).stdout
        s, e, base, peak, secs = json.loads(out)
        print(f"| {name} | {s:,} | {e:,} | {base / 1024:.1f} | {peak / 1024:.1f} | "
              f"{(peak - base) / 1024:.1f} | {secs:.3f} |")


if __name__ == "__main__":
    main()
