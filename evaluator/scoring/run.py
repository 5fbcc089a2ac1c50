"""One scoring run: plan the (transcript, criterion) pairs, retrieve voices, judge, build the
`ScoreRun`; and the gate `mheval score` applies to it."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from evaluator import __version__
from evaluator.errors import ConfigError, InputError, ModelError
from evaluator.judges.base import Judge
from evaluator.scoring.aggregate import LABEL_SCORES, aggregate, label_score, quality_of, summarise
from evaluator.scoring.conditions import applicability, resolve_conditions
from evaluator.scoring.evidence import ground_evidence, ground_turn_scores, reply_quote
from evaluator.types import (
    Codebook,
    Criterion,
    DetectionRecord,
    EvidenceCounts,
    IndexInfo,
    JudgeAnswer,
    JudgeInfo,
    JudgeRequest,
    Rubric,
    ScoreRun,
    Transcript,
    TranscriptResult,
    Turn,
    UserVoice,
    Verdict,
)

#: Longer turns are cut before they reach a judge (a pasted log must not blow the context).
DEFAULT_MAX_TURN_CHARS = 4000
#: How many requests go to one `judge.judge` call (the judge parallelises inside a call; chunks
#: only let the progress bar move).
JUDGE_CHUNK = 64
_QUERY_CHARS = 2000

#: progress(stage, done, total)
Progress = Callable[[str, int, int], None]


class VoiceRetriever(Protocol):
    """What scoring needs from the corpus index (`evaluator.index.Retriever`)."""

    def voices_for(
        self,
        *,
        text: str,
        conditions: Sequence[str],
        values: Sequence[str],
        perspectives: Sequence[str],
        k: int = 3,
        mmr: bool = True,
    ) -> list[UserVoice]: ...

    def info(self) -> IndexInfo: ...


@dataclass(frozen=True)
class Gate:
    """Whether a scored run lets a change through, and why not (one line per reason)."""

    passed: bool
    reasons: tuple[str, ...] = ()


def gate(run: ScoreRun, *, fail_under: float | None = None, allow_unscored: bool = False) -> Gate:
    """`mheval score`'s decision: no transcript fails, none is inconclusive (unless
    `allow_unscored`), and the run score is not under `fail_under`. Fails closed: a run whose
    judge could not score a critical criterion does not pass."""
    reasons = []
    failed = [r.id for r in run.transcripts if r.verdict == "fail"]
    if failed:
        reasons.append(f"{len(failed)} transcript(s) failed a critical criterion: {_ids(failed)}")
    inconclusive = [r for r in run.transcripts if r.verdict == "inconclusive"]
    if inconclusive and not allow_unscored:
        why = next(
            v.rationale
            for r in inconclusive
            for v in r.criteria
            if v.label == "unscored" and v.severity == "critical"
        )
        reasons.append(
            f"{len(inconclusive)} transcript(s) inconclusive: a critical criterion could not be "
            f"scored ({why[:160]}); --allow-unscored to accept"
        )
    run_score = run.summary.score
    if fail_under is not None and (run_score is None or run_score < fail_under):
        shown = "n/a" if run_score is None else run_score
        reasons.append(f"run score {shown} is below --fail-under {fail_under}")
    return Gate(passed=not reasons, reasons=tuple(reasons))


def _ids(ids: Sequence[str], limit: int = 5) -> str:
    more = f" (+{len(ids) - limit} more)" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


# --- the run ---------------------------------------------------------------------------------


def _capped(transcript: Transcript, max_chars: int) -> Transcript:
    """The transcript as a judge sees it: each turn cut to `max_chars` (a prefix, so quotes a
    judge takes from it are still verbatim text of the original)."""
    if all(len(t.content) <= max_chars for t in transcript.turns):
        return transcript
    turns = [
        t
        if len(t.content) <= max_chars
        else Turn(
            role=t.role,
            content=t.content[:max_chars] + f" [... {len(t.content) - max_chars} chars cut]",
        )
        for t in transcript.turns
    ]
    return transcript.model_copy(update={"turns": turns})


def _query_text(transcript: Transcript, matched: Sequence[int]) -> str:
    """What the person said that the criterion is about: the turns that matched its intent, or
    all user turns."""
    indices = matched or [i for i, t in enumerate(transcript.turns) if t.role == "user"]
    return "\n".join(transcript.turns[i].content for i in indices)[:_QUERY_CHARS]


def _select(rubrics: Mapping[str, Rubric], conditions: Sequence[str]) -> list[Rubric]:
    from evaluator.guidelines import select_rubrics

    return list(select_rubrics(rubrics, list(conditions)))


@dataclass
class _Planned:
    """One (transcript, criterion) pair: either a request for the judge or a fixed verdict."""

    transcript_index: int
    rubric: Rubric
    criterion: Criterion
    request: JudgeRequest | None = None
    verdict: Verdict | None = None
    matched_turns: tuple[int, ...] = ()


def _verdict_of(
    answer: JudgeAnswer,
    plan: _Planned,
    transcript: Transcript,
    judge: Judge,
    grounding: Counter,
) -> Verdict:
    """The verdict for a judge's answer: quotes grounded in the conversation (counted), the
    score fixed by `label_score`, severity, weight and voices from the rubric and request; a
    graded quality criterion keeps the judge's scores of the assistant turns."""
    evidence, dropped = ground_evidence(answer.evidence, transcript.turns)
    grounding["quotes"] += len(answer.evidence)
    grounding["dropped"] += dropped
    if not evidence and answer.label in LABEL_SCORES:
        fallback = reply_quote(transcript, plan.matched_turns)
        if fallback is not None:
            evidence = [fallback]
            grounding["fallback"] += 1
    return Verdict(
        criterion_id=plan.criterion.id,
        rubric_id=plan.rubric.id,
        label=answer.label,
        score=label_score(answer.label, answer.score),
        rationale=answer.rationale,
        evidence=evidence,
        # A criterion the judge found not applicable carries no voices, as one scoring skipped.
        user_voices=[] if answer.label == "not_applicable" else list(plan.request.user_voices),
        severity=plan.criterion.severity,
        weight=plan.criterion.weight,
        judge=judge.name,
        samples=list(answer.samples),
        turn_scores=ground_turn_scores(answer.turn_scores, transcript.turns)
        if plan.criterion.severity == "quality" and answer.label != "not_applicable"
        else [],
        deterministic=judge.deterministic,
    )


def judge_info(judge: Judge) -> JudgeInfo:
    """What a result file records about its judge: enough to tell noisy verdicts apart, and
    what its model calls cost."""
    return JudgeInfo(
        name=judge.name,
        model=judge.model,
        version=judge.version,
        deterministic=judge.deterministic,
        samples=judge.samples,
        usage=judge.usage,
    )


@dataclass
class _Plan:
    """Everything scoring decided before the judge is called."""

    resolved: list[tuple[list[str], bool, DetectionRecord]]
    pairs: list[_Planned]
    rubrics: dict[str, str]
    criteria: dict[tuple[str, str], Criterion]


class _Voices:
    """User voices per (query, conditions, values, perspectives), each asked for once."""

    def __init__(self, retriever: VoiceRetriever | None, k: int, timings: Counter) -> None:
        self.retriever = retriever if k > 0 else None
        self.k = k
        self.timings = timings
        self._cache: dict[tuple, tuple[UserVoice, ...]] = {}

    def find(
        self,
        transcript: Transcript,
        rubric: Rubric,
        criterion: Criterion,
        conditions: Sequence[str],
        matched: Sequence[int],
    ) -> tuple[UserVoice, ...]:
        if self.retriever is None:
            return ()
        tick = time.perf_counter()
        voice_conditions = list(criterion.conditions) or (
            [rubric.condition] if rubric.condition else list(conditions)
        )
        key = (
            _query_text(transcript, matched),
            tuple(voice_conditions),
            tuple(criterion.values),
            tuple(criterion.perspectives),
        )
        if key not in self._cache:
            self._cache[key] = tuple(
                self.retriever.voices_for(
                    text=key[0],
                    conditions=list(key[1]),
                    values=list(key[2]),
                    perspectives=list(key[3]),
                    k=self.k,
                    mmr=True,
                )
            )
        self.timings["retrieve"] += time.perf_counter() - tick
        return self._cache[key]


def _plan(
    transcripts: Sequence[Transcript],
    *,
    rubrics: Mapping[str, Rubric],
    judge: Judge,
    codebook: Codebook | None,
    voices: _Voices,
    max_turn_chars: int,
    progress: Progress | None,
    timings: Counter,
) -> _Plan:
    """Resolve each transcript's conditions, select its rubrics, and decide per criterion:
    a `not_applicable` verdict, or a request to the judge with the user voices it cites."""
    plan = _Plan(resolved=[], pairs=[], rubrics={}, criteria={})
    for index, transcript in enumerate(transcripts):
        tick = time.perf_counter()
        conditions, crisis, record = resolve_conditions(transcript, codebook)
        plan.resolved.append((conditions, crisis, record))
        timings["detect"] += time.perf_counter() - tick
        judged = _capped(transcript, max_turn_chars)
        for rubric in _select(rubrics, conditions):
            plan.rubrics[rubric.id] = rubric.version
            for criterion in rubric.criteria:
                plan.criteria[(rubric.id, criterion.id)] = criterion
                pair = _Planned(index, rubric, criterion)
                plan.pairs.append(pair)
                check = applicability(
                    criterion.applies_when,
                    transcript=transcript,
                    conditions=conditions,
                    crisis=crisis,
                    rubric=rubric,
                    criterion=criterion,
                )
                if not check.applies:
                    pair.verdict = Verdict(
                        criterion_id=criterion.id,
                        rubric_id=rubric.id,
                        label="not_applicable",
                        rationale=check.reason,
                        severity=criterion.severity,
                        weight=criterion.weight,
                        judge=judge.name,
                        deterministic=True,
                    )
                    continue
                pair.matched_turns = check.matched_turns
                pair.request = JudgeRequest(
                    transcript=judged,
                    rubric=rubric,
                    criterion=criterion,
                    conditions=tuple(conditions),
                    crisis=crisis,
                    user_voices=voices.find(
                        transcript, rubric, criterion, conditions, check.matched_turns
                    ),
                )
        if progress is not None:
            progress("prepare", index + 1, len(transcripts))
    return plan


def _judge_all(
    pairs: Sequence[_Planned],
    transcripts: Sequence[Transcript],
    judge: Judge,
    progress: Progress | None,
) -> EvidenceCounts:
    """Send every request to the judge in chunks and fill in the verdicts; return what
    grounding the evidence counted."""
    pending = [pair for pair in pairs if pair.request is not None]
    grounding: Counter[str] = Counter()
    for start in range(0, len(pending), JUDGE_CHUNK):
        chunk = pending[start : start + JUDGE_CHUNK]
        answers = judge.judge([pair.request for pair in chunk])
        if len(answers) != len(chunk):
            raise ModelError(
                f"judge {judge.name!r} returned {len(answers)} answers for {len(chunk)} requests"
            )
        for pair, answer in zip(chunk, answers, strict=True):
            pair.verdict = _verdict_of(
                answer, pair, transcripts[pair.transcript_index], judge, grounding
            )
        if progress is not None:
            progress("judge", min(start + JUDGE_CHUNK, len(pending)), len(pending))
    return EvidenceCounts(**grounding)


def _result(
    transcript: Transcript,
    resolved: tuple[list[str], bool, DetectionRecord],
    verdicts: list[Verdict],
) -> TranscriptResult:
    conditions, crisis, record = resolved
    mean, verdict = aggregate(verdicts)
    quality, quality_score = quality_of(verdicts)
    return TranscriptResult(
        id=transcript.id,
        score=mean,
        verdict=verdict,
        conditions=conditions,
        crisis=crisis,
        detection=record,
        criteria=verdicts,
        quality=quality,
        quality_score=quality_score,
        metadata=transcript.metadata,
        source=transcript.source,
        turns=transcript.turns,
    )


def score(
    transcripts: Sequence[Transcript],
    *,
    rubrics: Mapping[str, Rubric],
    judge: Judge,
    retriever: VoiceRetriever | None = None,
    codebook: Codebook | None = None,
    k: int = 3,
    max_turn_chars: int = DEFAULT_MAX_TURN_CHARS,
    progress: Progress | None = None,
    skipped: Sequence[str] = (),
    codebook_version: str | None = None,
    timings: Mapping[str, float] | None = None,
) -> ScoreRun:
    """Score transcripts; returns the versioned `ScoreRun` (see the module docstring for rules).

    `retriever=None` scores without user voices. All judge requests of the run go to the judge
    in a few large calls so an LLM judge can run them concurrently. `timings` are seconds the
    caller spent before (reading, opening the index), recorded beside scoring's own.
    """
    if not transcripts:
        raise InputError("no transcripts to score", field="TRANSCRIPTS")
    if not rubrics:
        raise ConfigError("no rubrics loaded", field="guidelines")
    started = time.perf_counter()
    spent: Counter[str] = Counter()
    voices = _Voices(retriever, k, spent)
    plan = _plan(
        transcripts,
        rubrics=rubrics,
        judge=judge,
        codebook=codebook,
        voices=voices,
        max_turn_chars=max_turn_chars,
        progress=progress,
        timings=spent,
    )
    tick = time.perf_counter()
    evidence = _judge_all(plan.pairs, transcripts, judge, progress)
    spent["judge"] += time.perf_counter() - tick

    by_transcript: dict[int, list[Verdict]] = defaultdict(list)
    for pair in plan.pairs:
        by_transcript[pair.transcript_index].append(pair.verdict)
    results = [
        _result(transcript, plan.resolved[index], by_transcript[index])
        for index, transcript in enumerate(transcripts)
    ]
    retrieval = voices.retriever is not None
    spent["total"] = time.perf_counter() - started
    return ScoreRun(
        tool_version=__version__,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        judge=judge_info(judge),
        rubrics=dict(sorted(plan.rubrics.items())),
        codebook=codebook_version,
        index=voices.retriever.info() if retrieval else IndexInfo(enabled=False),
        timings={
            **{name: round(seconds, 3) for name, seconds in spent.items()},
            **(timings or {}),
        },
        transcripts=results,
        summary=summarise(
            results, plan.criteria, evidence=evidence, skipped=skipped, retrieval=retrieval
        ),
    )
