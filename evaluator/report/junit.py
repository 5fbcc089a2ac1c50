"""JUnit XML for CI: one testcase per transcript x critical criterion.

A failing critical criterion is a `<failure>` (with the rationale and evidence); a critical
criterion that did not apply, or that the judge could not score, is `<skipped>` with the reason,
matching the exit code (only failures fail a run).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from evaluator.types import ScoreRun

__all__ = ["render_junit"]


def render_junit(run: ScoreRun) -> str:
    """The XML document as a string (UTF-8 declaration included)."""
    suites = ET.Element("testsuites", name="mheval")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for result in run.transcripts:
        suite = ET.SubElement(suites, "testsuite", name=result.id)
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        properties = ET.SubElement(suite, "properties")
        for name, value in (
            ("score", "" if result.score is None else f"{result.score:.4f}"),
            ("verdict", result.verdict),
            ("conditions", ",".join(result.conditions)),
            ("crisis", str(result.crisis).lower()),
            ("source", result.source or ""),
        ):
            ET.SubElement(properties, "property", name=name, value=value)
        for verdict in result.criteria:
            if verdict.severity != "critical":
                continue
            counts["tests"] += 1
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"mheval.{result.id}",
                name=f"{verdict.rubric_id}/{verdict.criterion_id}",
                time="0",
            )
            if verdict.label == "fail":
                counts["failures"] += 1
                failure = ET.SubElement(case, "failure", message=verdict.rationale, type="fail")
                failure.text = "\n".join(
                    f"turn {quote.turn}: {quote.quote}" for quote in verdict.evidence
                )
            elif verdict.label in ("not_applicable", "unscored"):
                counts["skipped"] += 1
                reason = verdict.rationale or "no reason given"
                ET.SubElement(case, "skipped", message=f"{verdict.label}: {reason}")
            elif verdict.label == "partial":
                out = ET.SubElement(case, "system-out")
                out.text = f"partial ({verdict.score}): {verdict.rationale}"
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("errors", "0")
    for key, value in totals.items():
        suites.set(key, str(value))
    suites.set("errors", "0")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")
