"""Hand-built verdicts and run records for the CI gate's tests (check and quality)."""

from __future__ import annotations

from evaluator.types import RunRecord, ScenarioOutcome, ScoreRun, TranscriptResult, Verdict

__all__ = ["run_record", "verdict"]


def verdict(criterion, label, *, severity="major", samples=(), deterministic=True, weight=1.0):
    return Verdict(
        criterion_id=criterion,
        rubric_id="base",
        label=label,
        score={"pass": 1.0, "partial": 0.5, "fail": 0.0}.get(label),
        severity=severity,
        weight=weight,
        samples=list(samples),
        deterministic=deterministic,
    )


def run_record(results: dict[str, tuple[str, list[Verdict]]], errors: dict[str, str] | None = None):
    errors = errors or {}
    outcomes = [
        ScenarioOutcome(scenario_id=sid, condition=cond, risk="low", error=errors.get(sid))
        for sid, (cond, _) in results.items()
    ]
    transcripts = [
        TranscriptResult(
            id=sid, score=None, verdict="pass", conditions=[cond], crisis=False, criteria=verdicts
        )
        for sid, (cond, verdicts) in results.items()
        if sid not in errors
    ]
    score = ScoreRun(
        tool_version="test",
        created_at="2026-11-23T00:00:00Z",
        judge={"name": "local", "version": "1"},
        rubrics={"base": "1"},
        transcripts=transcripts,
    )
    return RunRecord(
        tool_version="test",
        created_at="2026-11-23T00:00:00Z",
        target={"spec": "python:x:y"},
        scenarios={sid: "h" for sid in results},
        outcomes=outcomes,
        score=score,
    )
