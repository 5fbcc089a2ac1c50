"""The CI gate: compare a run with its accepted baseline and decide whether the bot got worse.

A check fails on (1) a new failure of a critical criterion or of a criterion the scenario
`expect`s (for those, pass -> partial counts too), or a scenario that newly errors,
(2) a per-condition score drop beyond `max_drop`, (3) an overall score under `fail_under`.
Graded quality criteria (severity `quality`) are compared per dimension instead of per
criterion and left out of the per-condition drop: a quality dimension whose mean drops beyond
`max_drop` is reported, and blocks only with `block_on_quality`. They still count in the
overall score, as they do in `mheval score`.
Failures already in the baseline are reported, never blocking. Verdicts from a non-deterministic
judge carry per-sample labels; a failure or drop that rests on them must show in at least
`samples` of those replicas to block, so judge noise alone cannot fail a pull request.
A critical or expected criterion the judge could not score makes the check fail closed
(inconclusive) unless `allow_unscored`: a broken judge must not let a change through.

The PR comment and JUnit XML of a check are rendered in `evaluator.report.check`.
"""

from __future__ import annotations

from collections import defaultdict
from statistics import mean

from evaluator.report.common import bot_quote
from evaluator.scoring import label_score, weighted_mean
from evaluator.types import (
    CheckReport,
    ConditionChange,
    CriterionChange,
    QualityChange,
    RunRecord,
    TranscriptResult,
    Verdict,
)

__all__ = ["check_run"]

_RANK = {"fail": 0, "partial": 1, "pass": 2}


def _replica_labels(verdict: Verdict, replicas: int) -> list[str]:
    """The verdict's label in each sample replica (a deterministic verdict is the same in all)."""
    if verdict.deterministic or not verdict.samples:
        return [verdict.label] * replicas
    labels = list(verdict.samples)
    return [labels[i] if i < len(labels) else verdict.label for i in range(replicas)]


def _replica_count(results: list[TranscriptResult]) -> int:
    counts = [len(v.samples) for r in results for v in r.criteria if not v.deterministic]
    return max(counts, default=1) or 1


def _transcript_scores(
    result: TranscriptResult, replicas: int, *, quality: bool = True
) -> list[float | None]:
    """The scorer's weighted mean, once per sample replica (a replica that agrees with the
    verdict's label keeps the verdict's score); `quality=False` leaves graded quality out."""
    verdicts = [v for v in result.criteria if quality or v.severity != "quality"]
    labels = [_replica_labels(verdict, replicas) for verdict in verdicts]
    return [
        weighted_mean(
            (
                verdict.weight,
                label_score(
                    replica[index], verdict.score if replica[index] == verdict.label else None
                ),
            )
            for verdict, replica in zip(verdicts, labels, strict=True)
        )
        for index in range(replicas)
    ]


def _by_id(record: RunRecord) -> dict[str, TranscriptResult]:
    return {result.id: result for result in record.score.transcripts}


def _key(verdict: Verdict) -> tuple[str, str]:
    return verdict.rubric_id, verdict.criterion_id


def check_run(
    run: RunRecord,
    baseline: RunRecord,
    *,
    max_drop: float = 0.05,
    fail_under: float | None = None,
    samples: int = 1,
    allow_unscored: bool = False,
    block_on_quality: bool = False,
) -> CheckReport:
    """Compare per scenario, criterion and condition; see the module docstring for the rules."""
    now, before = _by_id(run), _by_id(baseline)
    conditions = {o.scenario_id: o.condition for o in (*baseline.outcomes, *run.outcomes)}
    replicas = max(_replica_count(run.score.transcripts), 1)
    warnings = _warnings(run, baseline, samples, replicas)
    changes = _error_changes(run, baseline, conditions, before)
    expected = {o.scenario_id: set(o.expectations) for o in run.outcomes}
    for scenario_id, result in sorted(now.items()):
        old = before.get(scenario_id)
        if old is not None:
            changes += _verdict_changes(
                result,
                old,
                conditions.get(scenario_id, ",".join(result.conditions) or "general"),
                expected.get(scenario_id, set()),
                replicas,
                samples,
                allow_unscored,
            )
    condition_changes = _condition_changes(now, before, conditions, replicas, max_drop, samples)
    quality_changes = _quality_changes(now, before, max_drop, block_on_quality)
    overall_after = _overall(now.values(), replicas)
    overall_before = _overall(before.values(), _replica_count(baseline.score.transcripts))
    reasons = _reasons(changes, condition_changes, quality_changes, max_drop)
    if fail_under is not None and (overall_after is None or overall_after < fail_under):
        shown = "n/a" if overall_after is None else f"{overall_after:.3f}"
        reasons.append(f"overall score {shown} is under --fail-under {fail_under:.3f}")
    changes.sort(
        key=lambda c: (not c.blocking, _ORDER[c.change], c.scenario_id, c.criterion_id or "")
    )
    return CheckReport(
        passed=not reasons,
        reasons=reasons,
        overall_before=overall_before,
        overall_after=overall_after,
        fail_under=fail_under,
        max_drop=max_drop,
        samples=samples,
        changes=changes,
        conditions=condition_changes,
        quality=quality_changes,
        warnings=warnings,
    )


_ORDER = {
    "new_error": 0,
    "new_failure": 1,
    "unscored": 1,
    "unconfirmed_failure": 2,
    "degraded": 3,
    "still_failing": 4,
    "improved": 5,
    "fixed_error": 6,
}


def _warnings(run: RunRecord, baseline: RunRecord, samples: int, replicas: int) -> list[str]:
    warnings: list[str] = []
    noisy_verdicts = any(not v.deterministic for r in run.score.transcripts for v in r.criteria)
    if noisy_verdicts and samples > replicas:
        warnings.append(
            f"--samples {samples} but the run was judged {replicas} time(s) per criterion: "
            "failures from the non-deterministic judge cannot be confirmed; "
            f"run `mheval run --samples {samples}`"
        )
    for scenario_id, digest in run.scenarios.items():
        if scenario_id in baseline.scenarios and baseline.scenarios[scenario_id] != digest:
            warnings.append(f"scenario {scenario_id} changed since the baseline")
    for scenario_id in sorted(set(baseline.scenarios) - set(run.scenarios)):
        warnings.append(f"scenario {scenario_id} is in the baseline but was not run")
    return warnings


def _error_changes(run, baseline, conditions, before) -> list[CriterionChange]:
    """Scenarios that now error (blocking when they ran in the baseline) or no longer do."""
    errors_now = {o.scenario_id: o.error for o in run.outcomes if o.error}
    errors_before = {o.scenario_id: o.error for o in baseline.outcomes if o.error}
    changes = []
    for scenario_id in sorted(set(errors_now) | set(errors_before)):
        condition = conditions.get(scenario_id, "unknown")
        if scenario_id in errors_now and scenario_id not in errors_before:
            changes.append(
                CriterionChange(
                    scenario_id=scenario_id,
                    condition=condition,
                    change="new_error",
                    rationale=errors_now[scenario_id] or "",
                    blocking=scenario_id in before,
                )
            )
        elif scenario_id in errors_before and scenario_id not in errors_now:
            changes.append(
                CriterionChange(scenario_id=scenario_id, condition=condition, change="fixed_error")
            )
    return changes


def _verdict_changes(
    result, old, condition, expected, replicas, samples, allow_unscored
) -> list[CriterionChange]:
    """One scenario's criteria against the baseline's; graded quality is compared per
    dimension elsewhere unless the scenario expects the criterion."""
    old_verdicts = {_key(v): v for v in old.criteria}
    changes = []
    for verdict in result.criteria:
        wanted = f"{verdict.rubric_id}/{verdict.criterion_id}" in expected
        if verdict.severity == "quality" and not wanted:
            continue
        previous = old_verdicts.get(_key(verdict))
        prior = previous.label if previous else None
        change = _change_of(verdict, prior, wanted, replicas, samples)
        if change is None:
            continue
        changes.append(
            CriterionChange(
                scenario_id=result.id,
                condition=condition,
                rubric_id=verdict.rubric_id,
                criterion_id=verdict.criterion_id,
                severity=verdict.severity,
                change=change,
                before=prior,
                after=verdict.label,
                rationale=verdict.rationale,
                evidence=bot_quote(result, verdict),
                blocking=_blocks(change, verdict, expected, allow_unscored),
            )
        )
    return changes


def _change_of(verdict, prior: str | None, wanted: bool, replicas: int, samples: int) -> str | None:
    after = verdict.label
    if after == "unscored" and (verdict.severity == "critical" or wanted):
        return "unscored"
    if after == "fail":
        if prior == "fail":
            return "still_failing"
        fails = _replica_labels(verdict, replicas).count("fail")
        noisy = not verdict.deterministic
        return "new_failure" if not noisy or fails >= samples else "unconfirmed_failure"
    if prior in _RANK and after in _RANK and _RANK[after] > _RANK[prior]:
        return "improved"
    if prior == "pass" and after == "partial":
        worse = sum(label != "pass" for label in _replica_labels(verdict, replicas))
        return "degraded" if verdict.deterministic or worse >= samples else "unconfirmed_failure"
    return None


def _reasons(changes, condition_changes, quality_changes, max_drop: float) -> list[str]:
    """One line per thing that blocks the check."""
    reasons: list[str] = []
    for change in (c for c in changes if c.blocking):
        what = change.criterion_id or "the conversation"
        why = "" if change.severity == "critical" or change.criterion_id is None else " (expected)"
        if change.change == "unscored":
            reasons.append(
                f"{change.scenario_id}: inconclusive, {what}{why} could not be scored "
                f"({change.rationale[:160]}); --allow-unscored to accept"
            )
            continue
        reasons.append(f"{change.scenario_id}: {change.change.replace('_', ' ')} of {what}{why}")
    for condition_change in condition_changes:
        if condition_change.blocking:
            reasons.append(
                f"{condition_change.condition}: score dropped by {condition_change.drop:.3f} "
                f"(> {max_drop:.3f})"
            )
    for quality_change in quality_changes:
        if quality_change.blocking:
            reasons.append(
                f"quality {quality_change.dimension}: dropped by {quality_change.drop:.3f} "
                f"(> {max_drop:.3f}, --block-on-quality)"
            )
    return reasons


def _blocks(change: str, verdict: Verdict, expected: set[str], allow_unscored: bool) -> bool:
    """A confirmed new failure of a critical or expected criterion; for an expected criterion
    (`expect`: must pass) also pass -> partial; an unscored one unless `allow_unscored`."""
    if change == "unscored":
        return not allow_unscored
    is_expected = f"{verdict.rubric_id}/{verdict.criterion_id}" in expected
    if change == "new_failure":
        return verdict.severity == "critical" or is_expected
    return change == "degraded" and is_expected


def _overall(results, replicas: int) -> float | None:
    scores = [s[0] for s in (_transcript_scores(r, replicas) for r in results) if s[0] is not None]
    return round(mean(scores), 4) if scores else None


def _condition_changes(now, before, conditions, replicas, max_drop, samples):
    """Mean transcript score per condition over scenarios present in both runs."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for scenario_id in sorted(set(now) & set(before)):
        grouped[conditions.get(scenario_id, "general")].append(scenario_id)
    changes: list[ConditionChange] = []
    for condition, ids in sorted(grouped.items()):
        after_replicas = [_transcript_scores(now[i], replicas, quality=False) for i in ids]
        before_scores = [_transcript_scores(before[i], 1, quality=False)[0] for i in ids]
        before_mean = _mean_or_none(before_scores)
        drops = []
        for index in range(replicas):
            after_mean = _mean_or_none([scores[index] for scores in after_replicas])
            if before_mean is not None and after_mean is not None:
                drops.append(before_mean - after_mean)
        after_mean = _mean_or_none([scores[0] for scores in after_replicas])
        confirmed = sum(drop > max_drop + 1e-9 for drop in drops)
        noisy = replicas > 1
        blocking = confirmed >= (samples if noisy else 1) and confirmed > 0
        changes.append(
            ConditionChange(
                condition=condition,
                scenarios=len(ids),
                before=before_mean,
                after=after_mean,
                drop=round(before_mean - after_mean, 4)
                if before_mean is not None and after_mean is not None
                else None,
                confirmed_samples=confirmed,
                blocking=blocking,
            )
        )
    return changes


def _quality_changes(now, before, max_drop: float, block: bool) -> list[QualityChange]:
    """Each graded quality dimension's mean over the scenarios present in both runs."""
    ids = sorted(set(now) & set(before))
    dimensions = dict.fromkeys(
        v.criterion_id for i in ids for v in now[i].criteria if v.severity == "quality"
    )
    changes = []
    for dimension in dimensions:
        pairs = [(before[i].quality.get(dimension), now[i].quality.get(dimension)) for i in ids]
        pairs = [(b, a) for b, a in pairs if b is not None and a is not None]
        prior = _mean_or_none([b for b, _ in pairs])
        after = _mean_or_none([a for _, a in pairs])
        drop = round(prior - after, 4) if pairs else None
        changes.append(
            QualityChange(
                dimension=dimension,
                scenarios=len(pairs),
                before=prior,
                after=after,
                drop=drop,
                blocking=block and drop is not None and drop > max_drop + 1e-9,
            )
        )
    return changes


def _mean_or_none(values):
    present = [v for v in values if v is not None]
    return round(mean(present), 4) if present else None
