"""Benchmark of the z3 engine: BMC on the known violations, unbounded Spacer proofs (seeded with
the scenario's Houdini lemmas).  Prints one line per (scenario, property, engine).

    /work/venv/bin/python bench/bench_symbolic.py [--timeout S] [--unseeded]

Each BMC run and each scenario's proofs start in a fresh process (nothing cached), so the
first property of a scenario pays for its Houdini pass ("cold"); the others reuse it ("warm").
``--unseeded`` runs plain Spacer for comparison.  The bounded agreement matrix is
``bench/z3_agreement.py``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

KNOWN = [("qm3-race", "S-14"), ("require-inbound-auth-failure", "H-1"), ("nat-boundary", "S-1"),
         ("guaranteed-encryption", "S-7")]
UNBOUNDED = ["fig8-silent-peer", "fig19-require-inbound", "fig7-both-capable"]


def _bmc(name: str, pid: str, timeout: float) -> None:
    from ndcheck.checking.symbolic import prove
    r = prove(name, pid, engine="bmc", timeout=timeout)
    print(f"{name:30} {pid:5} bmc     {r.verdict:12} {r.seconds:7.2f}s  "
          f"{len(r.trace.steps) if r.trace else '-'} steps", flush=True)


def _spacer(name: str, timeout: float, unseeded: bool) -> None:
    from ndcheck import CATALOG, build_system
    from ndcheck.engines.symbolic import lemmas, prove
    from ndcheck.properties.catalog import PROPERTIES

    system = build_system(CATALOG[name])
    t0 = time.perf_counter()
    st = None if unseeded else lemmas.strengthening(system, unbounded=True)
    if st is not None:
        print(f"{name:30} houdini: {len(st.lemmas)} of {st.candidates} candidates inductive, "
              f"{st.rounds} rounds, {time.perf_counter() - t0:.2f}s", flush=True)
    for p in PROPERTIES:
        if p.safety and p.applies(system):
            r = prove(system, p, engine="spacer", unbounded=True, timeout=timeout, seed=not unseeded)
            how = "lemmas" if r.note.startswith("implied") else "spacer"
            print(f"{name:30} {p.id:5} {how:7} {r.verdict:12} {r.seconds:7.2f}s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--unseeded", action="store_true")
    ap.add_argument("--one", nargs="+", help=argparse.SUPPRESS)   # internal: run in this process
    a = ap.parse_args()
    if a.one:
        if a.one[0] == "bmc":
            _bmc(a.one[1], a.one[2], a.timeout)
        else:
            _spacer(a.one[1], a.timeout, a.unseeded)
        return
    me = [sys.executable, __file__, "--timeout", str(a.timeout)] + (["--unseeded"] if a.unseeded else [])
    print("# BMC on known violations (bounded), one fresh process each")
    for name, pid in KNOWN:
        subprocess.run(me + ["--one", "bmc", name, pid], check=True)
    print("# Spacer, unbounded, one fresh process per scenario")
    for name in UNBOUNDED:
        subprocess.run(me + ["--one", "spacer", name], check=True)


if __name__ == "__main__":
    main()
