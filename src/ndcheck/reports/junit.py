"""JUnit XML for CI: one ``testsuite`` per scenario, one ``testcase`` per (property, engine).

A testcase fails when its verdict differs from the scenario's expectation (an expected
``holds`` met by ``vacuous`` too); an unexpected ``undetermined`` is reported as ``skipped`` with
the reason, so a CI dashboard separates "the model disagrees" from "the search was cut short".
A ``vacuous`` verdict that is not a mismatch is ``skipped`` too, with why the property was never
put to the test (``vacuous: no reachable state where IKE has failed for the flow and ...``).  A
property without an expectation (a scenario with no ``[expect]`` entries) passes with its verdict
in ``system-out``, unless undetermined or vacuous (skipped).  A property expected ``violated``
says its cause in ``system-out`` (``expected violated: spec (ND-8, ND-12): <note>``), whether
the case passes or fails.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from ..checking.check import CheckResult


def junit_xml(results: Iterable[CheckResult]) -> ET.Element:
    """The ``<testsuites>`` element for ``results``."""
    results = list(results)
    root = ET.Element("testsuites", name="ndcheck")
    tot = fail = skip = 0
    for r in results:
        suite = ET.SubElement(root, "testsuite", name=r.scenario, tests=str(len(r.verdicts)),
                              time=f"{r.seconds:.3f}")
        f = s = 0
        props = ET.SubElement(suite, "properties")
        for k, v in (("states", r.states), ("edges", r.edges), ("truncated", r.truncated)):
            ET.SubElement(props, "property", name=k, value=str(v).lower())
        for v in r.verdicts:
            name = f"{v.property.id} {v.property.name}" + ("" if v.engine == "explicit" else f" [{v.engine}]")
            case = ET.SubElement(suite, "testcase", classname=f"ndcheck.{r.scenario}", name=name)
            msg = f"{v.property.id} is {v.verdict}, " + (
                "no expectation" if v.expected is None else f"expected {v.expected}")
            if v.outcome == "undetermined":
                s += 1
                ET.SubElement(case, "skipped", message=msg + (f" ({r.reason})" if r.reason else ""))
            elif v.outcome == "vacuous":
                s += 1
                ET.SubElement(case, "skipped", message=f"vacuous: {v.property.vacuity}")
            if v.outcome == "unexpected":
                f += 1
                el = ET.SubElement(case, "failure", message=msg, type=v.verdict)
                trace = getattr(v.trace, "steps", None)
                if trace:
                    el.text = "\n".join(f"{st.index}. {st.action}" + (f"  [{'; '.join(st.wire)}]" if st.wire else "")
                                        for st in trace)
                elif v.verdict == "vacuous":
                    el.text = f"vacuous: {v.property.vacuity}\n{v.property.claim}"
                else:
                    el.text = v.property.claim
            # the verdict itself, or why it is expected, after <skipped>/<failure> (schema order)
            if v.expected is None:
                ET.SubElement(case, "system-out").text = msg
            elif v.expected == "violated":
                ET.SubElement(case, "system-out").text = f"expected violated: {cause_line(v)}"
        suite.set("failures", str(f))
        suite.set("skipped", str(s))
        suite.set("errors", "0")
        tot += len(r.verdicts)
        fail += f
        skip += s
    root.set("tests", str(tot))
    root.set("failures", str(fail))
    root.set("skipped", str(skip))
    root.set("errors", "0")
    return root


def cause_line(v) -> str:
    """``spec (ND-8, ND-12): <note>``, ``policy: <note>``, or ``no cause given``."""
    c = v.cause
    if c is None:
        return "no cause given"
    return c.kind + (f" ({', '.join(c.rules)})" if c.rules else "") + f": {c.note}"


def write_junit(results: Iterable[CheckResult], path: str) -> None:
    """Write the JUnit XML report to ``path``."""
    tree = ET.ElementTree(junit_xml(results))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
