"""The CI gate's rules on hand-built runs: what blocks, what is only reported."""

from __future__ import annotations

import pytest

from evaluator.check import check_run
from evaluator.types import RunRecord, ScenarioOutcome, ScoreRun, TranscriptResult, Verdict


def _verdict(criterion, label, *, severity="major", samples=(), deterministic=True, weight=1.0):
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


def _run(results: dict[str, tuple[str, list[Verdict]]], errors: dict[str, str] | None = None):
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


def test_identical_runs_pass():
    run = _run({"crisis-1": ("depressive", [_verdict("crisis", "pass", severity="critical")])})
    report = check_run(run, run)
    assert report.passed and report.reasons == [] and report.changes == []


def test_new_critical_failure_blocks_and_names_scenario_and_criterion():
    baseline = _run({"mania-1": ("bipolar", [_verdict("no_feeding", "pass", severity="critical")])})
    run = _run({"mania-1": ("bipolar", [_verdict("no_feeding", "fail", severity="critical")])})
    report = check_run(run, baseline, max_drop=1.0)
    assert not report.passed
    assert report.reasons == ["mania-1: new failure of no_feeding"]
    assert report.changes[0].blocking and report.changes[0].change == "new_failure"


def test_failure_already_in_baseline_is_reported_not_blocking():
    verdicts = [_verdict("no_feeding", "fail", severity="critical")]
    report = check_run(_run({"m": ("bipolar", verdicts)}), _run({"m": ("bipolar", verdicts)}))
    assert report.passed
    assert [c.change for c in report.changes] == ["still_failing"]


def test_condition_drop_beyond_max_drop_blocks_only_that_condition():
    baseline = _run(
        {
            "a": ("adhd", [_verdict("structured", "pass"), _verdict("autonomy", "pass")]),
            "b": ("autism", [_verdict("identity", "pass")]),
        }
    )
    run = _run(
        {
            "a": ("adhd", [_verdict("structured", "pass"), _verdict("autonomy", "partial")]),
            "b": ("autism", [_verdict("identity", "pass")]),
        }
    )
    report = check_run(run, baseline, max_drop=0.05)
    by_condition = {c.condition: c for c in report.conditions}
    assert by_condition["adhd"].drop == pytest.approx(0.25)
    assert by_condition["adhd"].blocking and not by_condition["autism"].blocking
    assert not report.passed
    assert check_run(run, baseline, max_drop=0.3).passed


def test_fail_under_applies_to_overall_score():
    run = _run({"a": ("adhd", [_verdict("x", "pass"), _verdict("y", "fail")])})
    assert check_run(run, run, fail_under=0.4).passed
    report = check_run(run, run, fail_under=0.8)
    assert not report.passed and "under --fail-under" in report.reasons[0]


def test_noisy_judge_failure_must_repeat_over_samples():
    baseline = _run({"s": ("depressive", [_verdict("crisis", "pass", severity="critical")])})
    flaky = _verdict(
        "crisis",
        "fail",
        severity="critical",
        deterministic=False,
        samples=["fail", "pass", "fail"],
    )
    run = _run({"s": ("depressive", [flaky])})
    assert not check_run(run, baseline, samples=2, max_drop=1.0).passed
    report = check_run(run, baseline, samples=3, max_drop=1.0)
    assert report.passed
    assert report.changes[0].change == "unconfirmed_failure"


def test_scenario_that_newly_errors_blocks():
    baseline = _run({"s": ("general", [_verdict("x", "pass")])})
    run = _run({"s": ("general", [_verdict("x", "pass")])}, errors={"s": "TimeoutError"})
    report = check_run(run, baseline)
    assert not report.passed
    assert report.changes[0].change == "new_error"


def test_improvements_are_listed_after_new_failures():
    baseline = _run(
        {"a": ("adhd", [_verdict("x", "fail"), _verdict("y", "pass", severity="critical")])}
    )
    run = _run({"a": ("adhd", [_verdict("x", "pass"), _verdict("y", "fail", severity="critical")])})
    report = check_run(run, baseline, max_drop=1.0)
    assert [c.change for c in report.changes] == ["new_failure", "improved"]


def test_check_scores_a_run_as_the_scorer_did():
    """An LLM judge's "pass, 0.9" must count 0.9 in `check` too, not the label's 1.0."""
    from evaluator.scoring import aggregate

    verdicts = [_verdict("a", "pass"), _verdict("b", "pass").model_copy(update={"score": 0.9})]
    run = _run({"s": ("adhd", verdicts)})
    report = check_run(run, run)
    assert report.overall_after == aggregate(verdicts)[0] == 0.95


def test_unscored_critical_criterion_blocks_unless_allowed():
    baseline = _run({"c": ("depressive", [_verdict("crisis", "pass", severity="critical")])})
    run = _run({"c": ("depressive", [_verdict("crisis", "unscored", severity="critical")])})
    report = check_run(run, baseline, max_drop=1.0)
    assert not report.passed and report.changes[0].change == "unscored"
    assert "inconclusive" in report.reasons[0]
    assert check_run(run, baseline, max_drop=1.0, allow_unscored=True).passed
    minor = _run({"c": ("depressive", [_verdict("tone", "unscored", severity="minor")])})
    assert check_run(minor, minor).passed
