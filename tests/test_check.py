"""The CI gate's rules on hand-built runs: what blocks, what is only reported."""

from __future__ import annotations

import pytest
from support.runs import run_record, verdict

from evaluator.check import check_run


def test_identical_runs_pass():
    run = run_record({"crisis-1": ("depressive", [verdict("crisis", "pass", severity="critical")])})
    report = check_run(run, run)
    assert report.passed and report.reasons == [] and report.changes == []


def test_new_critical_failure_blocks_and_names_scenario_and_criterion():
    baseline = run_record(
        {"mania-1": ("bipolar", [verdict("no_feeding", "pass", severity="critical")])}
    )
    run = run_record({"mania-1": ("bipolar", [verdict("no_feeding", "fail", severity="critical")])})
    report = check_run(run, baseline, max_drop=1.0)
    assert not report.passed
    assert report.reasons == ["mania-1: new failure of no_feeding"]
    assert report.changes[0].blocking and report.changes[0].change == "new_failure"


def test_failure_already_in_baseline_is_reported_not_blocking():
    verdicts = [verdict("no_feeding", "fail", severity="critical")]
    report = check_run(
        run_record({"m": ("bipolar", verdicts)}), run_record({"m": ("bipolar", verdicts)})
    )
    assert report.passed
    assert [c.change for c in report.changes] == ["still_failing"]


def test_condition_drop_beyond_max_drop_blocks_only_that_condition():
    baseline = run_record(
        {
            "a": ("adhd", [verdict("structured", "pass"), verdict("autonomy", "pass")]),
            "b": ("autism", [verdict("identity", "pass")]),
        }
    )
    run = run_record(
        {
            "a": ("adhd", [verdict("structured", "pass"), verdict("autonomy", "partial")]),
            "b": ("autism", [verdict("identity", "pass")]),
        }
    )
    report = check_run(run, baseline, max_drop=0.05)
    by_condition = {c.condition: c for c in report.conditions}
    assert by_condition["adhd"].drop == pytest.approx(0.25)
    assert by_condition["adhd"].blocking and not by_condition["autism"].blocking
    assert not report.passed
    assert check_run(run, baseline, max_drop=0.3).passed


def test_fail_under_applies_to_overall_score():
    run = run_record({"a": ("adhd", [verdict("x", "pass"), verdict("y", "fail")])})
    assert check_run(run, run, fail_under=0.4).passed
    report = check_run(run, run, fail_under=0.8)
    assert not report.passed and "under --fail-under" in report.reasons[0]


def test_noisy_judge_failure_must_repeat_over_samples():
    baseline = run_record({"s": ("depressive", [verdict("crisis", "pass", severity="critical")])})
    flaky = verdict(
        "crisis",
        "fail",
        severity="critical",
        deterministic=False,
        samples=["fail", "pass", "fail"],
    )
    run = run_record({"s": ("depressive", [flaky])})
    assert not check_run(run, baseline, samples=2, max_drop=1.0).passed
    report = check_run(run, baseline, samples=3, max_drop=1.0)
    assert report.passed
    assert report.changes[0].change == "unconfirmed_failure"


def test_scenario_that_newly_errors_blocks():
    baseline = run_record({"s": ("general", [verdict("x", "pass")])})
    run = run_record({"s": ("general", [verdict("x", "pass")])}, errors={"s": "TimeoutError"})
    report = check_run(run, baseline)
    assert not report.passed
    assert report.changes[0].change == "new_error"


def test_improvements_are_listed_after_new_failures():
    baseline = run_record(
        {"a": ("adhd", [verdict("x", "fail"), verdict("y", "pass", severity="critical")])}
    )
    run = run_record(
        {"a": ("adhd", [verdict("x", "pass"), verdict("y", "fail", severity="critical")])}
    )
    report = check_run(run, baseline, max_drop=1.0)
    assert [c.change for c in report.changes] == ["new_failure", "improved"]


def test_check_scores_a_run_as_the_scorer_did():
    """An LLM judge's "pass, 0.9" must count 0.9 in `check` too, not the label's 1.0."""
    from evaluator.scoring import aggregate

    verdicts = [verdict("a", "pass"), verdict("b", "pass").model_copy(update={"score": 0.9})]
    run = run_record({"s": ("adhd", verdicts)})
    report = check_run(run, run)
    assert report.overall_after == aggregate(verdicts)[0] == 0.95


def test_unscored_critical_criterion_blocks_unless_allowed():
    baseline = run_record({"c": ("depressive", [verdict("crisis", "pass", severity="critical")])})
    run = run_record({"c": ("depressive", [verdict("crisis", "unscored", severity="critical")])})
    report = check_run(run, baseline, max_drop=1.0)
    assert not report.passed and report.changes[0].change == "unscored"
    assert "inconclusive" in report.reasons[0]
    assert check_run(run, baseline, max_drop=1.0, allow_unscored=True).passed
    minor = run_record({"c": ("depressive", [verdict("tone", "unscored", severity="minor")])})
    assert check_run(minor, minor).passed
