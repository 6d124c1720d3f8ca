"""FINDINGS.md: generated from the catalog's expectations, committed, and kept up to date."""

from __future__ import annotations

import dataclasses
import doctest
from pathlib import Path

import pytest

from ndcheck import CATALOG
from ndcheck.cli import main
from ndcheck.model.scenario import Cause
from ndcheck.reports import findings as findings_module
from ndcheck.reports.findings import REGENERATE, confirm, findings, findings_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_findings_md_is_up_to_date():
    committed = (ROOT / "FINDINGS.md").read_text(encoding="utf-8")
    assert committed == findings_markdown(), (
        f"FINDINGS.md is out of date with model/catalog/*.toml: run `{REGENERATE}` at the "
        "repository root and commit the result")


def test_every_expected_violation_is_listed_once_under_its_cause():
    expected = {(name, key) for name, sc in CATALOG.items() for key, v in sc.expect.items()
                if v == "violated"}
    found = findings()
    assert {(f.scenario, f.property.id) for f in found} == expected and len(found) == len(expected)
    text = findings_markdown()
    for f in found:
        cause = CATALOG[f.scenario].causes.get(f.property.id)
        assert f.cause == cause and f.kind == (cause.kind if cause else "none")
        if f.kind == "spec":    # scenario, property, rules, note and the trace command
            assert (f"* **{f.scenario}** — rules {', '.join(cause.rules)}.  {cause.note}\n"
                    f"  Trace: `ndcheck trace {f.scenario} {f.property.id}`") in text
            assert f"### {f.property.id} `{f.property.name}`\n\n*Claim:* {f.property.claim}" in text
        elif f.kind == "policy":
            assert f"| {f.scenario} | {f.property.id} `{f.property.name}` | {cause.note} |" in text
        else:
            assert f"| `ndcheck trace {f.scenario} {f.property.id}` |" in text
    spec = text[text.index("## Spec findings"):text.index("## Policy consequences")]
    policy = text[text.index("## Policy consequences"):text.index("## Expected violations without")]
    assert "allow-clear-grace" not in spec and "allow-clear-grace | S-2" in policy
    assert "## Spec findings (19)" in text and "## Policy consequences (26)" in text


def test_a_catalog_change_changes_the_document():
    """The comparison with the committed file can fail: a new cause moves a finding."""
    sc = CATALOG["ge-server-only"]
    fixed = dataclasses.replace(sc, causes={**sc.causes, "L-3": Cause("policy", "Made up for the test.", ())})
    catalog = {**CATALOG, sc.name: fixed}
    text = findings_markdown(catalog)
    assert text != findings_markdown()
    assert "| ge-server-only | L-3 `capable_flow_eventually_secured` | Made up for the test. |" in text
    assert "## Spec findings (18)" in text and "## Policy consequences (27)" in text


def test_the_trace_command_of_a_spec_finding_prints_it(capsys):
    f = next(f for f in findings() if f.kind == "spec" and f.scenario == "guaranteed-encryption")
    argv = f.command.split()[1:]
    assert main(argv) == 0
    assert "counterexample of S-7" in capsys.readouterr().out


def test_confirm_checks_the_expected_violations():
    small = {n: CATALOG[n] for n in ("guaranteed-encryption", "transport-mode", "fig8-silent-peer")}
    assert confirm(small) == []
    sc = CATALOG["fig8-silent-peer"]                # S-1 is vacuous there, never violated
    wrong = dataclasses.replace(sc, expect={**sc.expect, "S-1": "violated"})
    assert confirm({sc.name: wrong}) == ["fig8-silent-peer: S-1 is vacuous, expected violated"]


def test_cli_writes_the_document(tmp_path, capsys):
    assert main(["findings"]) == 0
    assert capsys.readouterr().out == findings_markdown()
    out = tmp_path / "F.md"
    assert main(["findings", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == findings_markdown()
    assert capsys.readouterr().err == f"wrote {out}\n"
    assert main(["findings", "--out", str(tmp_path / "missing" / "F.md")]) == 2


def test_cli_help_has_an_example(capsys):
    with pytest.raises(SystemExit) as e:
        main(["findings", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "examples:\n  ndcheck findings --out FINDINGS.md" in out and "--confirm" in out


def test_doctest():
    result = doctest.testmod(findings_module)
    assert result.attempted > 0 and result.failed == 0
