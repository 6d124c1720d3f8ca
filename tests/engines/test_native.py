"""The successor function translated to C (:mod:`ndcheck.engines.native`) explores the Python
function's graph: the same states in the same order, edges, parents, overflows and cuts.

The scenarios are the catalog's smallest sources (no-ipsec: 181 commands, about 2 s to compile
at -O1; nd-client-transport-server with a duplicating network into channels of capacity 1, for
the overflow rule).  The multi-word arithmetic (carries and borrows across 64-bit words, shifts
across word boundaries, wide comparisons) is checked on a hand-written source over random
states of 200 bits.  The compiled libraries go to the run's cache folder (tests/engines/conftest.py),
shared with test_native_bfs.py.
"""

from __future__ import annotations

import random
import warnings
from dataclasses import replace

import numpy as np
import pytest

from ndcheck import CATALOG, build_system, explore
from ndcheck.engines import native
from ndcheck.engines.store import StateStore

pytestmark = pytest.mark.skipif(native.compiler() is None, reason="no C compiler (cc or gcc)")


@pytest.fixture(scope="module", autouse=True)
def _cache(cache_folder):
    """The compiled libraries go to the run's shared cache folder (conftest.py)."""


def same_graph(a, b) -> bool:
    return (list(a.packed) == list(b.packed) and a.src == b.src and a.dst == b.dst
            and a.act == b.act and a.parent == b.parent and a.parent_act == b.parent_act
            and a.truncated == b.truncated and a.reason == b.reason
            and a.overflow_states == b.overflow_states)


@pytest.fixture(scope="module")
def no_ipsec():
    return build_system(CATALOG["no-ipsec"])


def test_the_c_function_explores_the_python_functions_graph(no_ipsec):
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no fallback to the Python function
        c = explore(no_ipsec, native=True)
    py = explore(no_ipsec, native=False)
    assert py.n_states == 149 and same_graph(c, py)


def test_overflows_and_a_max_states_cut_are_the_python_functions():
    sc = CATALOG["nd-client-transport-server"]
    system = build_system(replace(sc, network=replace(sc.network, capacity=1, duplicate=1)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = explore(system, native=True)
        cut = explore(system, native=True, max_states=50)
    py = explore(system, native=False)
    assert c.overflow_states > 0 and "capacity" in c.reason and same_graph(c, py)
    assert cut.n_states == 50 and same_graph(cut, explore(system, native=False, max_states=50))


def test_the_environment_variable_turns_it_on(no_ipsec, monkeypatch):
    calls = []
    real = native.NativeSuccessors.expand
    monkeypatch.setattr(native.NativeSuccessors, "expand",
                        lambda self, states: calls.append(len(states)) or real(self, states))
    monkeypatch.setenv("NDCHECK_NATIVE", "1")
    explore(no_ipsec)
    assert calls
    calls.clear()
    monkeypatch.setenv("NDCHECK_NATIVE", "0")
    explore(no_ipsec)
    assert not calls


def test_a_c_function_that_differs_falls_back_to_python_with_a_warning(no_ipsec, monkeypatch):
    real = native.NativeSuccessors.expand

    def drops_the_last(self, states):
        words, acts, counts, ovfs = real(self, states)
        if len(states) == 1:        # right on the initial state, wrong from the second batch on
            return words, acts, counts, ovfs
        counts = counts.copy()
        counts[-1] -= 1
        return words[:-1], acts[:-1], counts, ovfs

    monkeypatch.setattr(native.NativeSuccessors, "expand", drops_the_last)
    with pytest.warns(RuntimeWarning, match="differs from the Python one"):
        g = explore(no_ipsec, native=True)
    assert same_graph(g, explore(no_ipsec, native=False))


def test_without_a_compiler_python_explores_with_a_warning(no_ipsec, monkeypatch):
    monkeypatch.setenv("NDCHECK_CC", "")
    assert native.compiler() is None
    with pytest.warns(RuntimeWarning, match="no C successor function"):
        g = explore(no_ipsec, native=True)
    assert g.n_states == 149


WIDE = """
def successors(s):
    out = []
    ovf = False
    if s & 1:
        out.append((2, 0, s + 18446744073709551615))
        if (s >> 60) & 255 > 17:
            out.append((1, 1, (s & 1606938044258990275541962092341162602522202993782792835301375) - 18446744073709551617))
        else:
            ovf = True
    else:
        u0 = max(((s >> 130) & 7), 3)
        out.append((0, 2, (s >> 3) | (u0 << 190)))
        if not (s & 1237940039285380274899124224) and (s < 803469022129495137770981046170581301261101496891396417650688 or s == 6):
            out.append((3, 3, s << 5))
    out.sort()
    return out, ovf
"""


def test_wide_arithmetic_carries_across_words():
    ns: dict = {}
    exec(WIDE, ns)                               # noqa: S102 - the reference for the translation
    nat = native.compile_native(WIDE, 4)
    store = StateStore(bits=256)
    rng = random.Random(7)
    states = [rng.getrandbits(200) | (rng.getrandbits(1) << 64) for _ in range(2000)]
    states += [(1 << 64) - 1, 1 << 64, (1 << 128) + 1, 6, 7, 0]
    states = [st for st in states if st >= 18446744073709551617 or not st & 1]   # no negative results
    words = store.to_words(states)
    got_words, acts, counts, ovfs = nat.expand(words)
    want = [ns["successors"](st) for st in states]
    assert counts.tolist() == [len(o) for o, _ in want]
    assert ovfs.astype(bool).tolist() == [ovf for _, ovf in want]
    assert acts.tolist() == [a for o, _ in want for _, a, _ in o]
    expect = [t & ((1 << 256) - 1) for o, _ in want for _, _, t in o]
    assert np.array_equal(got_words, store.to_words(expect))


def test_an_unknown_construct_is_a_translation_error():
    with pytest.raises(native.TranslationError, match="statement"):
        native.translate("def successors(s):\n    while s:\n        pass\n", 1)


def test_the_c_visited_set_numbers_like_the_store_and_grows():
    from ndcheck.engines.store import first_occurrences, hash_words

    nat = native.compile_native(WIDE, 4)
    rng = random.Random(11)
    pool = [rng.getrandbits(230) for _ in range(3000)]
    batches = [[rng.choice(pool) for _ in range(700)] for _ in range(6)]
    c, py = StateStore(bits=256, capacity=16), StateStore(bits=256, capacity=16)
    limit = 2000                                     # the last batches hit it
    cuts = []
    for states in batches:
        keys = c.to_words(states)
        ids, created, cut = nat.lookup_insert(c, keys, limit)
        # the numpy store: find, first occurrences, append (the explorer's Python path)
        n = py.n
        h = hash_words(keys)
        want = py.find(keys, h)
        miss = np.flatnonzero(want < 0)
        first, rank = first_occurrences(h[miss], keys[miss])
        new = miss[first]
        want_cut = len(keys)
        if n + len(new) > limit:
            want_cut = int(new[limit - n])
            new, keep = new[:limit - n], miss < want_cut
            miss, rank = miss[keep], rank[keep]
        py.append(keys[new], h[new])
        want[miss] = n + rank
        assert cut == want_cut
        assert ids[:cut].tolist() == want[:cut].tolist()
        assert np.flatnonzero(created[:cut]).tolist() == sorted(new.tolist())
        cuts.append(cut)
    assert c.n == py.n == limit and cuts[-1] < len(batches[-1])
    assert np.array_equal(c.keys[:c.n], py.keys[:py.n])
    assert [c.index(s) for s in pool[:50]] == [py.index(s) for s in pool[:50]]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_cli_flag(capsys, workers):
    import json

    from ndcheck.cli import main

    assert main(["explore", "no-ipsec", "--native", "--workers", workers, "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["states"], doc["edges"]) == (149, 366)


def test_a_domain_error_of_the_model_is_signalled_at_its_state():
    src = ("def successors(s):\n    out = []\n    ovf = False\n    if s & 1:\n"
           "        raise DomainError(\"command 'x' sets a field outside its domain\")\n"
           "    out.append((0, 0, s + 2))\n    return out, ovf\n")
    nat = native.compile_native(src, 1)
    words = StateStore(bits=8).to_words([2, 4, 5, 6])
    with pytest.raises(native.Raised) as e:
        nat.expand(words)
    assert e.value.args == (2,)                     # the third state
    out, acts, counts, ovfs = nat.expand(words[:2])
    assert out[:, 0].tolist() == [4, 6] and counts.tolist() == [1, 1]
    assert acts.tolist() == [0, 0] and not ovfs.any()


TINY = ("def successors(s):\n    out = []\n    ovf = False\n    out.append((0, 0, s + {k}))\n"
        "    return out, ovf\n")


def test_the_cache_keeps_the_most_recently_used_libraries(tmp_path):
    import os

    for k in range(6):
        lib = tmp_path / f"succ-{k}.so"
        lib.write_bytes(b"")
        os.utime(lib, (1000 + k, 1000 + k))
    (tmp_path / "other.txt").write_text("not ours")
    gone = native.prune(str(tmp_path), keep=str(tmp_path / "succ-0.so"), limit=3)
    # the oldest one is the one just built: kept, with the two most recent of the others
    assert sorted(os.path.basename(p) for p in gone) == ["succ-1.so", "succ-2.so", "succ-3.so"]
    assert sorted(os.listdir(tmp_path)) == ["other.txt", "succ-0.so", "succ-4.so", "succ-5.so"]


def test_a_build_prunes_the_cache_and_a_hit_marks_its_library_used(monkeypatch, tmp_path):
    import os

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = tmp_path / "ndcheck" / "native"
    folder.mkdir(parents=True)
    for k in range(3):
        (folder / f"succ-old{k}.so").write_bytes(b"")
        os.utime(folder / f"succ-old{k}.so", (1000 + k, 1000 + k))
    monkeypatch.setattr(native, "KEEP", 2)
    monkeypatch.setattr(native, "_LOADED", {})
    source = TINY.format(k=7)
    native.compile_native(source, 1)
    built = [p for p in os.listdir(folder) if not p.startswith("succ-old")]
    assert sorted(os.listdir(folder)) == sorted([*built, "succ-old2.so"]) and len(built) == 1
    os.utime(folder / built[0], (500, 500))
    monkeypatch.setattr(native, "_LOADED", {})
    native.compile_native(source, 1)                          # from the disk: marked used
    assert os.stat(folder / built[0]).st_mtime > 10**9


def test_one_build_per_library_and_different_libraries_at_once(monkeypatch, tmp_path):
    import threading

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(native, "_LOADED", {})
    builds, running, overlap = [], [0], [0]
    real = native.subprocess.run

    both = threading.Event()
    lock = threading.Lock()

    def counted(cmd, **kw):
        with lock:
            running[0] += 1
            overlap[0] = max(overlap[0], running[0])
            builds.append(cmd[-1])
            if running[0] == 2:
                both.set()
        both.wait(10)         # the other library's build starts meanwhile (a global lock: never)
        try:
            return real(cmd, **kw)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(native.subprocess, "run", counted)
    got = []
    threads = [threading.Thread(target=lambda k=k: got.append(native.compile_native(TINY.format(k=k % 2), 1)))
               for k in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(builds) == 2 and len({id(n) for n in got}) == 2      # two sources, two builds
    assert overlap[0] == 2                                         # built at the same time


def test_prepare_native_builds_what_explore_loads(no_ipsec, monkeypatch, tmp_path):
    from ndcheck.engines.explicit import prepare_native

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(native, "_LOADED", {})
    prepare_native(no_ipsec)
    built = sorted(p.name for p in (tmp_path / "ndcheck" / "native").iterdir())
    monkeypatch.setattr(native, "_LOADED", {})
    monkeypatch.setattr(native.subprocess, "run", lambda *a, **k: pytest.fail("compiled again"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explore(no_ipsec, native=True)
    assert len(built) == 1                         # no interchangeable flows: one library


@pytest.mark.slow
def test_check_compiles_the_next_scenarios_ahead(monkeypatch, tmp_path, capsys):
    """Two scenarios (two fresh libraries: about 20 s of gcc)."""
    from ndcheck.cli import main
    from ndcheck.engines import explicit

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(native, "_LOADED", {})
    ahead = []
    real = explicit.prepare_native
    monkeypatch.setattr(explicit, "prepare_native", lambda s: ahead.append(s.name) or real(s))
    assert main(["check", "no-ipsec", "transport-mode", "--native", "-q"]) == 0
    assert "2 scenario(s), all 23 verdicts as expected" in capsys.readouterr().out
    assert ahead == ["transport-mode"]                  # the first one is the main thread's
    assert len(list((tmp_path / "ndcheck" / "native").glob("succ-*.so"))) == 2
