"""The CI gate: compare a run with its accepted baseline and decide whether the bot got worse.

A check fails on (1) a new failure of a critical criterion, or a scenario that newly errors,
(2) a per-condition score drop beyond `max_drop`, (3) an overall score under `fail_under`.
Failures already in the baseline are reported, never blocking. Verdicts from a non-deterministic
judge carry per-sample labels; a failure or drop that rests on them must show in at least
`samples` of those replicas to block, so judge noise alone cannot fail a pull request.
"""

from __future__ import annotations

from collections import defaultdict
from statistics import mean

from evaluator.types import (
    CheckReport,
    ConditionChange,
    CriterionChange,
    RunRecord,
    TranscriptResult,
    Verdict,
)

__all__ = ["check_run", "LABEL_SCORES"]

LABEL_SCORES = {"pass": 1.0, "partial": 0.5, "fail": 0.0}
_SCORED = set(LABEL_SCORES)
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


def _transcript_scores(result: TranscriptResult, replicas: int) -> list[float | None]:
    """Weighted mean over scored criteria, once per sample replica."""
    scores: list[float | None] = []
    for index in range(replicas):
        total = weight = 0.0
        for verdict in result.criteria:
            label = _replica_labels(verdict, replicas)[index]
            if label in _SCORED:
                total += LABEL_SCORES[label] * verdict.weight
                weight += verdict.weight
        scores.append(total / weight if weight else None)
    return scores


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
) -> CheckReport:
    """Compare per scenario, criterion and condition; see the module docstring for the rules."""
    changes: list[CriterionChange] = []
    warnings: list[str] = []
    now, before = _by_id(run), _by_id(baseline)
    conditions = {o.scenario_id: o.condition for o in (*baseline.outcomes, *run.outcomes)}
    errors_now = {o.scenario_id: o.error for o in run.outcomes if o.error}
    errors_before = {o.scenario_id: o.error for o in baseline.outcomes if o.error}
    replicas = max(_replica_count(run.score.transcripts), 1)

    for scenario_id, digest in run.scenarios.items():
        if scenario_id in baseline.scenarios and baseline.scenarios[scenario_id] != digest:
            warnings.append(f"scenario {scenario_id} changed since the baseline")
    for scenario_id in sorted(set(baseline.scenarios) - set(run.scenarios)):
        warnings.append(f"scenario {scenario_id} is in the baseline but was not run")

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

    for scenario_id, result in sorted(now.items()):
        old = before.get(scenario_id)
        if old is None:
            continue
        old_verdicts = {_key(v): v for v in old.criteria}
        condition = conditions.get(scenario_id, ",".join(result.conditions) or "general")
        for verdict in result.criteria:
            previous = old_verdicts.get(_key(verdict))
            after, prior = verdict.label, previous.label if previous else None
            change = None
            if after == "fail":
                if prior == "fail":
                    change = "still_failing"
                else:
                    fails = _replica_labels(verdict, replicas).count("fail")
                    noisy = not verdict.deterministic
                    change = (
                        "new_failure" if not noisy or fails >= samples else "unconfirmed_failure"
                    )
            elif prior in _RANK and after in _RANK and _RANK[after] > _RANK[prior]:
                change = "improved"
            elif prior == "pass" and after == "partial":
                change = "degraded"
            if change is None:
                continue
            changes.append(
                CriterionChange(
                    scenario_id=scenario_id,
                    condition=condition,
                    rubric_id=verdict.rubric_id,
                    criterion_id=verdict.criterion_id,
                    severity=verdict.severity,
                    change=change,
                    before=prior,
                    after=after,
                    rationale=verdict.rationale,
                    blocking=change == "new_failure" and verdict.severity == "critical",
                )
            )

    condition_changes = _condition_changes(now, before, conditions, replicas, max_drop, samples)
    overall_after = _overall(now.values(), replicas)
    overall_before = _overall(before.values(), _replica_count(baseline.score.transcripts))

    reasons: list[str] = []
    blocking = [c for c in changes if c.blocking]
    for change in blocking:
        what = change.criterion_id or "the conversation"
        reasons.append(f"{change.scenario_id}: {change.change.replace('_', ' ')} of {what}")
    for condition_change in condition_changes:
        if condition_change.blocking:
            reasons.append(
                f"{condition_change.condition}: score dropped by {condition_change.drop:.3f} "
                f"(> {max_drop:.3f})"
            )
    if fail_under is not None and (overall_after is None or overall_after < fail_under):
        shown = "n/a" if overall_after is None else f"{overall_after:.3f}"
        reasons.append(f"overall score {shown} is under --fail-under {fail_under:.3f}")

    order = {
        "new_error": 0,
        "new_failure": 1,
        "unconfirmed_failure": 2,
        "degraded": 3,
        "still_failing": 4,
        "improved": 5,
        "fixed_error": 6,
    }
    changes.sort(
        key=lambda c: (not c.blocking, order[c.change], c.scenario_id, c.criterion_id or "")
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
        warnings=warnings,
    )


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
        after_replicas = [_transcript_scores(now[i], replicas) for i in ids]
        before_scores = [_transcript_scores(before[i], 1)[0] for i in ids]
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


def _mean_or_none(values):
    present = [v for v in values if v is not None]
    return round(mean(present), 4) if present else None
