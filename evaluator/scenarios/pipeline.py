"""`mheval run`: play scenarios against a bot, score the transcripts, record a versioned run.

Scoring is `evaluator.scoring.score`, the function behind `mheval score`: a scenario's transcript
declares its condition (and crisis, when the scenario does), so the condition's rubric is used.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from evaluator import __version__
from evaluator.errors import InputError
from evaluator.io import check_readable_file
from evaluator.types import (
    ExpectationSummary,
    Rubric,
    RunRecord,
    RunSummary,
    Scenario,
    ScenarioOutcome,
    ScenarioRunSummary,
    ScoreRun,
    SystemPromptInfo,
    TargetInfo,
    TranscriptResult,
    UnmetExpectation,
)

if TYPE_CHECKING:
    from evaluator.config import Settings

__all__ = [
    "run_scenarios",
    "load_checked_scenarios",
    "fill_expectations",
    "bless",
]

#: progress(stage, done, total); stages: "converse", then scoring's "prepare" and "judge".
Progress = Callable[[str, int, int], None]


def load_checked_scenarios(
    sources: Sequence[str | Path] | Sequence[Scenario],
    *,
    settings: Settings,
    rubrics: Mapping[str, Rubric] | None = None,
) -> list[Scenario]:
    """Scenarios from files or folders (or already-built objects), with their conditions checked
    against the codebook and their `expect` ids against the rubrics."""
    from evaluator.codebook import load_codebook
    from evaluator.scenarios.loader import check_expectations, load_scenarios

    known = [c.id for c in load_codebook(settings.codebook).conditions]
    sources = list(sources)
    if not sources:
        raise InputError("no scenarios given", field="SCENARIOS")
    if all(isinstance(s, Scenario) for s in sources):
        from evaluator.errors import ConfigError

        seen: set[str] = set()
        for scenario in sources:
            if scenario.id in seen:
                raise ConfigError(f"duplicate scenario id {scenario.id!r}", field="id")
            if scenario.condition not in known:
                raise ConfigError(
                    f"unknown condition {scenario.condition!r}; known: {', '.join(known)}",
                    file=f"scenario {scenario.id}",
                    field="condition",
                )
            if rubrics is not None:
                check_expectations(scenario, rubrics, file=f"scenario {scenario.id}")
            seen.add(scenario.id)
        return list(sources)
    return load_scenarios([Path(s) for s in sources], known_conditions=known, rubrics=rubrics)


def fill_expectations(
    outcome: ScenarioOutcome,
    scenario: Scenario,
    result: TranscriptResult | None,
    rubrics: Mapping[str, Rubric],
) -> None:
    """Record each expected criterion's label (`rubric/criterion` -> label) and the scenario's
    verdict: it fails when a critical criterion fails or an expected one does not pass; it is
    inconclusive when nothing failed but a critical or expected criterion was not scored."""
    from evaluator.scenarios.loader import resolve_expectation

    if outcome.error is not None or result is None:
        outcome.verdict = "error"
        return
    labels = {(v.rubric_id, v.criterion_id): v.label for v in result.criteria}
    for expected in scenario.expect:
        key = resolve_expectation(expected, scenario, rubrics)
        outcome.expectations["/".join(key)] = labels.get(key, "missing")
    unmet = [label for label in outcome.expectations.values() if label != "pass"]
    if result.verdict == "fail" or any(label != "unscored" for label in unmet):
        outcome.verdict = "fail"
    elif result.verdict == "inconclusive" or unmet:
        outcome.verdict = "inconclusive"
    else:
        outcome.verdict = "pass"


def _system_prompt(path: Path | None) -> tuple[str | None, SystemPromptInfo | None]:
    if path is None:
        return None, None
    path = Path(path)
    if not path.exists():
        raise InputError("system prompt file not found", file=path, field="--system-prompt")
    check_readable_file(path, field="--system-prompt")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})",
            file=path,
            field="--system-prompt",
        ) from None
    if not text.strip():
        raise InputError("system prompt file is empty", file=path, field="--system-prompt")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return text, SystemPromptInfo(file=str(path), sha256=digest, chars=len(text))


def _empty_score(judge, codebook_version: str | None) -> ScoreRun:
    """The score part of a run in which no scenario produced a transcript."""
    from evaluator.scoring import judge_info

    return ScoreRun(
        tool_version=__version__,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        judge=judge_info(judge),
        rubrics={},
        codebook=codebook_version,
        transcripts=[],
        summary=RunSummary(),
    )


def _summary(
    outcomes: list[ScenarioOutcome], score: ScoreRun, timings: dict[str, float]
) -> ScenarioRunSummary:
    unmet = [
        UnmetExpectation(scenario=o.scenario_id, criterion=key, label=label)
        for o in outcomes
        for key, label in o.expectations.items()
        if label != "pass"
    ]
    return ScenarioRunSummary(
        scenarios=len(outcomes),
        passed=sum(o.verdict == "pass" for o in outcomes),
        failed=sum(o.verdict == "fail" for o in outcomes),
        inconclusive=sum(o.verdict == "inconclusive" for o in outcomes),
        errors=sum(o.verdict == "error" for o in outcomes),
        score=score.summary.score,
        expectations=ExpectationSummary(
            total=sum(len(o.expectations) for o in outcomes), unmet=unmet
        ),
        critical_failures=score.summary.critical_failures,
        by_condition=score.summary.by_condition,
        timings=timings,
    )


def run_scenarios(
    scenarios: Sequence[str | Path] | Sequence[Scenario],
    target_spec: str,
    *,
    settings: Settings,
    system_prompt_file: str | Path | None = None,
    judge_spec: str | None = None,
    samples: int = 1,
    concurrency: int | None = None,
    timeout: float | None = None,
    retries: int = 2,
    simulator: str | None = None,
    retrieval: bool = True,
    k: int = 3,
    guidelines: str | Path | None = None,
    on_progress: Progress | None = None,
    on_notice: Callable[[str], None] | None = None,
    index_progress: bool = False,
) -> RunRecord:
    """Run scenarios against `target_spec`, score the transcripts, and return the RunRecord.

    `on_notice` and `index_progress` are the corpus index's, as in `Retriever.open`.

    A target that fails a scenario (exception, timeout after retries) is recorded in that
    scenario's outcome; input problems (bad scenario, unknown target or criterion) raise
    `evaluator.errors` errors before any bot is called.
    """
    from evaluator.scoring import open_session

    started = time.perf_counter()
    with open_session(
        settings,
        judge=judge_spec,
        samples=samples,
        retrieval=retrieval,
        k=k,
        guidelines=guidelines,
        on_notice=on_notice,
        index_progress=index_progress,
    ) as session:
        return _run_in_session(
            session,
            scenarios,
            target_spec,
            started=started,
            settings=settings,
            system_prompt_file=system_prompt_file,
            concurrency=concurrency,
            timeout=timeout,
            retries=retries,
            simulator=simulator,
            on_progress=on_progress,
        )


def _run_in_session(
    session,
    scenarios,
    target_spec: str,
    *,
    started: float,
    settings,
    system_prompt_file,
    concurrency,
    timeout,
    retries,
    simulator,
    on_progress,
) -> RunRecord:
    from evaluator.scenarios.loader import scenario_hash
    from evaluator.scenarios.runner import run_conversations
    from evaluator.scenarios.targets import open_target

    rubrics = session.rubrics
    loaded = load_checked_scenarios(scenarios, settings=settings, rubrics=rubrics)
    prompt, prompt_info = _system_prompt(Path(system_prompt_file) if system_prompt_file else None)
    target = open_target(target_spec)
    simulator_model = None
    if simulator:
        from evaluator.llm import init_model

        simulator_model = init_model(simulator, temperature=0.7, timeout=timeout or 60.0)

    done = [0]

    def conversed(_: ScenarioOutcome) -> None:
        done[0] += 1
        if on_progress is not None:
            on_progress("converse", done[0], len(loaded))

    if on_progress is not None:
        on_progress("converse", 0, len(loaded))
    tick = time.perf_counter()
    outcomes = run_conversations(
        loaded,
        target,
        system_prompt=prompt,
        concurrency=concurrency or settings.concurrency,
        timeout=timeout or settings.timeout,
        retries=retries,
        simulator=simulator_model,
        on_done=conversed,
    )
    converse_seconds = time.perf_counter() - tick
    for outcome in outcomes:
        if outcome.transcript is not None and prompt_info:
            outcome.transcript.metadata["prompt_sha256"] = prompt_info.sha256[:16]

    transcripts = [o.transcript for o in outcomes if o.transcript is not None]
    if transcripts:
        scored = session.score(transcripts, progress=on_progress)
    else:
        scored = _empty_score(session.judge, session.codebook_version)
    results = {r.id: r for r in scored.transcripts}
    for scenario, outcome in zip(loaded, outcomes, strict=True):
        fill_expectations(outcome, scenario, results.get(scenario.id), rubrics)

    target_info = TargetInfo.model_validate(
        {"spec": target_spec, **target.describe(), "system_prompt": prompt_info}
        | ({"simulator": simulator} if simulator else {})
    )
    timings = {
        "converse": round(converse_seconds, 3),
        "total": round(time.perf_counter() - started, 3),
    }
    return RunRecord(
        tool_version=__version__,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        target=target_info,
        scenarios={s.id: scenario_hash(s) for s in loaded},
        outcomes=outcomes,
        score=scored,
        summary=_summary(outcomes, scored, timings),
    )


def bless(run: RunRecord) -> RunRecord:
    """Accept a run as the baseline that later runs are checked against."""
    return run.model_copy(
        update={"kind": "baseline", "blessed_at": datetime.now(UTC).isoformat(timespec="seconds")}
    )
