"""FINDINGS.md: the catalog's expected violations by cause, computed from the ``[expect]`` tables.

Every catalog scenario says why it expects a property ``violated`` (``model/scenario.py``,
:class:`~ndcheck.model.scenario.Cause`): ``spec``, a finding about MS-IKEE, or ``policy``, a
consequence of the scenario's configuration.  :func:`findings` collects them in catalog order
(scenario name, then the property catalog's order); :func:`findings_markdown` writes the
document the repository keeps as ``FINDINGS.md`` (``ndcheck findings --out FINDINGS.md``): the
spec findings grouped by property, each with its scenario, rules, note and the command that
prints its trace; the policy consequences in one table; and the expected violations that give
no cause (modelling artefacts, bugs in the model to fix).  The document is computed from the
expectations alone; :func:`confirm` checks the scenarios and says which expected violation the
model does not show (``ndcheck findings --confirm``; ``tests/properties/test_verdicts.py``
checks every catalog verdict anyway).

>>> spec = [f for f in findings() if f.kind == "spec"]
>>> (spec[0].scenario, spec[0].property.id, spec[0].command)
('crossing-ike-loss', 'L-6', 'ndcheck trace crossing-ike-loss L-6')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..checking.check import check
from ..model.scenario import CATALOG, Cause, Scenario
from ..properties.base import Property
from ..properties.catalog import PROPERTIES, get_property

#: The command that regenerates the committed document (the test's message names it).
REGENERATE = "ndcheck findings --out FINDINGS.md"


@dataclass(frozen=True, slots=True)
class Finding:
    """One expected violation of the catalog: scenario, property, and why (``cause`` None: an
    expected violation without a cause, a modelling artefact)."""

    scenario: str
    property: Property
    cause: Cause | None

    @property
    def kind(self) -> str:
        """``spec``, ``policy`` or ``none``."""
        return self.cause.kind if self.cause is not None else "none"

    @property
    def command(self) -> str:
        """The command that prints the counterexample (or lasso) of this violation."""
        return f"ndcheck trace {self.scenario} {self.property.id}"


def findings(catalog: Mapping[str, Scenario] | None = None) -> list[Finding]:
    """Every expected ``violated`` of ``catalog`` (default: the built-in one), by scenario name
    and then in the property catalog's order."""
    catalog = CATALOG if catalog is None else catalog
    order = {p.id: i for i, p in enumerate(PROPERTIES)}
    out = []
    for name in sorted(catalog):
        sc = catalog[name]
        found = [Finding(name, get_property(key), sc.causes.get(key))
                 for key, verdict in sc.expect.items() if verdict == "violated"]
        out.extend(sorted(found, key=lambda f: order[f.property.id]))
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def findings_markdown(catalog: Mapping[str, Scenario] | None = None) -> str:
    """The FINDINGS.md document for ``catalog`` (default: the built-in one)."""
    all_ = findings(catalog)
    spec = [f for f in all_ if f.kind == "spec"]
    policy = [f for f in all_ if f.kind == "policy"]
    none = [f for f in all_ if f.kind == "none"]
    n_scen = len({f.scenario for f in all_})
    lines = [
        "# Findings",
        "",
        (f"<!-- Generated from model/catalog/*.toml by `{REGENERATE}`; do not edit by hand. "
        "tests/reports/test_findings.py fails when this file is out of date. -->"),
        "",
        (f"The built-in catalog expects {len(all_)} violations in {n_scen} scenarios.  Each says "
        "its cause in the scenario's `[expect]` table: **spec**, a finding about MS-IKEE §3.7 "
        "(the digest rules it rests on and what MS-IKEE allows), or **policy**, a consequence of "
        "the scenario's configuration.  An expected violation without a cause is a modelling "
        "artefact: a bug in the model, listed last until it is fixed.  Rule ids (ND-n) and "
        "ambiguity ids (A-n) are the digest's (`spec/negotiation-discovery.md`); each `ndcheck "
        "trace` command prints the shortest counterexample (the lasso of a liveness violation; "
        "for a `sometimes` property, that no witness exists)."),
        "",
        f"## Spec findings ({len(spec)})",
        "",
    ]
    by_prop: dict[str, list[Finding]] = {}
    for f in spec:
        by_prop.setdefault(f.property.id, []).append(f)
    order = {p.id: i for i, p in enumerate(PROPERTIES)}
    for pid in sorted(by_prop, key=order.__getitem__):
        p = get_property(pid)
        lines += [f"### {p.id} `{p.name}`", "", f"*Claim:* {p.claim}", ""]
        for f in by_prop[pid]:
            assert f.cause is not None
            lines += [f"* **{f.scenario}** — rules {', '.join(f.cause.rules)}.  {f.cause.note}",
                      f"  Trace: `{f.command}`"]
        lines.append("")
    lines += [f"## Policy consequences ({len(policy)})", "",
              ("Violations the scenario's configuration makes happen (a policy that requires "
              "protection, a grace timer, SA expiry, the commit bit turned off ...); the same "
              "commands print their traces."), "",
              "| scenario | property | why |", "|---|---|---|"]
    lines += [f"| {f.scenario} | {f.property.id} `{f.property.name}` | {_cell(f.cause.note)} |"
              for f in policy if f.cause is not None]
    lines += ["", f"## Expected violations without a cause ({len(none)})", ""]
    if none:
        lines += [("Modelling artefacts: neither spec nor policy.  Each is marked `TODO ARTEFACT` in "
                  "its catalog file and allowed, by name, in `tests/model/test_catalog.py`."), "",
                  "| scenario | property | trace |", "|---|---|---|"]
        lines += [f"| {f.scenario} | {f.property.id} `{f.property.name}` | `{f.command}` |" for f in none]
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def confirm(catalog: Mapping[str, Scenario] | None = None) -> list[str]:
    """Check each scenario with an expected violation (explicit engine, those properties only);
    one line per expected violation the model does not show (``[]``: all confirmed)."""
    catalog = CATALOG if catalog is None else catalog
    todo: dict[str, list[str]] = {}
    for f in findings(catalog):
        todo.setdefault(f.scenario, []).append(f.property.id)
    problems = []
    for name, pids in todo.items():
        r = check(catalog[name], pids, traces=False)
        for pid in pids:
            v = r.verdict(pid)
            if v.verdict != "violated":
                problems.append(f"{name}: {pid} is {v.verdict}, expected violated")
    return problems
