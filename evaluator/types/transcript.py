"""Transcripts and what scoring says about them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from evaluator.types.mine import TokenUsage

__all__ = [
    "Role",
    "Turn",
    "Transcript",
    "EvidenceQuote",
    "TurnScore",
    "UserVoice",
    "VerdictLabel",
    "Verdict",
    "DetectionRecord",
    "TranscriptResult",
    "JudgeInfo",
    "IndexInfo",
    "LabelCounts",
    "VerdictStats",
    "ConditionSummary",
    "CriterionSummary",
    "CriticalFailure",
    "UnscoredVerdict",
    "Spread",
    "QualityDimension",
    "QualitySummary",
    "EvidenceCounts",
    "RunSummary",
    "ScoreRun",
    "SCORE_FORMAT_VERSION",
]

# 2: per-transcript `quality` and `quality_score`; 3: a quality verdict's `turn_scores`
SCORE_FORMAT_VERSION = 3

Role = Literal["system", "user", "assistant"]
VerdictLabel = Literal["pass", "partial", "fail", "not_applicable", "unscored"]


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str


class Transcript(BaseModel):
    """A conversation. `metadata` may declare `condition`, `bot`, `prompt_version`."""

    model_config = ConfigDict(extra="forbid")

    id: str
    turns: list[Turn]
    metadata: dict[str, Any] = Field(default_factory=dict)
    source: str | None = Field(default=None, description="file it was read from")


class EvidenceQuote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    turn: int = Field(description="index into Transcript.turns")
    quote: str = Field(description="verbatim substring of that turn")


class TurnScore(BaseModel):
    """A graded quality criterion's score for one assistant turn, and the words it rests on."""

    model_config = ConfigDict(extra="forbid")

    turn: int = Field(ge=0, description="index into Transcript.turns (an assistant turn)")
    score: float = Field(ge=0.0, le=1.0)
    quote: str | None = Field(default=None, description="verbatim substring of that turn")


class UserVoice(BaseModel):
    """A user's own words from the corpus index, retrieved for a verdict."""

    model_config = ConfigDict(extra="forbid")

    id: str
    quote: str
    condition: str | None = None
    sentiment: str | None = None
    perspective: str | None = None
    value: str | None = None
    platform: str | None = None
    similarity: float


class Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criterion_id: str
    rubric_id: str
    label: VerdictLabel
    score: float | None = Field(default=None, ge=0.0, le=1.0)
    rationale: str = ""
    evidence: list[EvidenceQuote] = Field(default_factory=list)
    user_voices: list[UserVoice] = Field(default_factory=list)
    severity: str = "major"
    weight: float = 1.0
    judge: str = "local"
    samples: list[VerdictLabel] = Field(
        default_factory=list, description="labels of each sample when --samples > 1"
    )
    turn_scores: list[TurnScore] = Field(
        default_factory=list,
        description="a quality criterion's score per assistant turn, in turn order, when its "
        "judge grades turns (`score` is the conversation's)",
    )
    deterministic: bool = True


def _is_none(value: Any) -> bool:
    return value is None


class DetectionRecord(BaseModel):
    """Where a transcript's conditions and crisis flag came from, and the words behind them.

    `detected_*` are left out of the file when no codebook detector ran."""

    model_config = ConfigDict(extra="forbid")

    conditions_source: Literal["declared", "detected", "none"] = "none"
    crisis_source: Literal["declared", "detected", "none"] = "none"
    detected_conditions: list[str] | None = Field(default=None, exclude_if=_is_none)
    detected_crisis: bool | None = Field(default=None, exclude_if=_is_none)
    reasons: list[str] = Field(default_factory=list)


class TranscriptResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    score: float | None
    verdict: Literal["pass", "fail", "inconclusive", "error"] = Field(
        description="fail: a critical criterion failed; inconclusive: none failed but one could "
        "not be scored; error: the transcript could not be judged"
    )
    conditions: list[str]
    crisis: bool
    detection: DetectionRecord = Field(
        default_factory=DetectionRecord, description="what was detected or declared, and why"
    )
    criteria: list[Verdict]
    quality: dict[str, float | None] = Field(
        default_factory=dict,
        description="graded quality per `quality` criterion id (0-1; None when not graded); "
        "the per-turn scores are on its verdict",
    )
    quality_score: float | None = Field(
        default=None, description="weighted mean of the graded quality criteria"
    )
    metadata: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    source: str | None = Field(default=None, description="file (and line) it was read from")
    turns: list[Turn] = Field(
        default_factory=list,
        description="the conversation as read, so evidence turn indices can be checked and "
        "reports rendered from the result file alone",
    )


class JudgeInfo(BaseModel):
    """What a result file records about its judge: enough to tell noisy verdicts apart, and
    what its model calls cost (`usage`, left out for a judge that calls no model)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    model: str | None = None
    version: str
    deterministic: bool = True
    samples: int = 1
    usage: TokenUsage | None = Field(default=None, exclude_if=_is_none)


class IndexInfo(BaseModel):
    """What a result file records about the corpus index its user voices came from, and how
    many voice queries found candidates but none as similar as the floor.

    Scored without user voices, only `enabled: false` is written; keys that do not apply (the
    `url` of an embedded index, the `path` of a server) are left out."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, exclude_if=bool)
    embedding_model: str | None = Field(default=None, exclude_if=_is_none)
    embedding_model_hash: str | None = Field(default=None, exclude_if=_is_none)
    codebook_version: str | None = Field(default=None, exclude_if=_is_none)
    count: int | None = Field(default=None, exclude_if=_is_none)
    built_at: str | None = Field(default=None, exclude_if=_is_none)
    generation: int | None = Field(default=None, exclude_if=_is_none)
    backend: str | None = Field(default=None, exclude_if=_is_none)
    url: str | None = Field(default=None, exclude_if=_is_none)
    path: str | None = Field(default=None, exclude_if=_is_none)
    min_similarity: float | None = Field(default=None, exclude_if=_is_none)
    voice_queries: int | None = Field(default=None, exclude_if=_is_none)
    voice_queries_below_floor: int | None = Field(default=None, exclude_if=_is_none)


# `pass` is a keyword: the field is `pass_`, read and written as "pass".
_COUNTS_CONFIG = ConfigDict(extra="forbid", validate_by_name=True, serialize_by_alias=True)


class LabelCounts(BaseModel):
    """How many verdicts of a run got each label."""

    model_config = _COUNTS_CONFIG

    pass_: int = Field(default=0, alias="pass")
    partial: int = 0
    fail: int = 0
    unscored: int = 0
    not_applicable: int = 0


class VerdictStats(BaseModel):
    """A group of verdicts (one criterion, or one value at stake): counts and mean score."""

    model_config = _COUNTS_CONFIG

    n: int = Field(description="verdicts")
    scored: int = Field(description="verdicts labelled pass, partial or fail")
    score: float | None = Field(description="mean score of the scored verdicts")
    pass_: int = Field(alias="pass")
    partial: int
    fail: int
    unscored: int
    not_applicable: int


class CriterionSummary(VerdictStats):
    """One criterion over the run."""

    rubric: str
    criterion: str
    title: str
    severity: str
    values: list[str] = Field(default_factory=list)


class ConditionSummary(BaseModel):
    """The transcripts of one condition (`none` when none was declared or detected)."""

    model_config = ConfigDict(extra="forbid")

    transcripts: int
    score: float | None
    passed: int
    failed: int
    pass_rate: float


class CriticalFailure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transcript: str
    rubric: str
    criterion: str


class UnscoredVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transcript: str
    criterion: str


class Spread(BaseModel):
    """Mean, range and standard deviation of some scores; all None when there are none."""

    model_config = ConfigDict(extra="forbid")

    mean: float | None = None
    min: float | None = None
    max: float | None = None
    sd: float | None = None


class QualityDimension(Spread):
    """One graded quality criterion over the run."""

    title: str


class QualitySummary(BaseModel):
    """The spread of the transcripts' quality scores, and of each quality dimension."""

    model_config = ConfigDict(extra="forbid")

    score: Spread = Field(default_factory=Spread)
    dimensions: dict[str, QualityDimension] = Field(
        default_factory=dict, description="criterion id -> spread, in rubric order"
    )


class EvidenceCounts(BaseModel):
    """Judges' evidence quotes: how many, how many occur nowhere in the conversation
    (dropped), and how many verdicts cite the reply instead (fallback)."""

    model_config = ConfigDict(extra="forbid")

    quotes: int = 0
    dropped: int = 0
    fallback: int = 0


class RunSummary(BaseModel):
    """Run-level numbers of a `ScoreRun`; the defaults are those of a run of no transcripts."""

    model_config = ConfigDict(extra="forbid")

    transcripts: int = 0
    passed: int = 0
    failed: int = 0
    inconclusive: int = 0
    score: float | None = Field(default=None, description="mean of the transcript scores")
    labels: LabelCounts = Field(default_factory=LabelCounts)
    critical_failures: list[CriticalFailure] = Field(default_factory=list)
    unscored: list[UnscoredVerdict] = Field(default_factory=list)
    by_condition: dict[str, ConditionSummary] = Field(default_factory=dict)
    by_value: dict[str, VerdictStats] = Field(default_factory=dict)
    by_criterion: dict[str, CriterionSummary] = Field(
        default_factory=dict, description="`rubric/criterion` -> its verdicts"
    )
    quality: QualitySummary = Field(default_factory=QualitySummary)
    evidence: EvidenceCounts = Field(default_factory=EvidenceCounts)
    skipped: list[str] = Field(default_factory=list, description="inputs that were not read")
    retrieval: bool = Field(default=False, description="whether verdicts carry user voices")


class ScoreRun(BaseModel):
    """The versioned result of `mheval score` (and the scoring part of `mheval run`)."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = SCORE_FORMAT_VERSION
    tool_version: str
    created_at: str
    judge: JudgeInfo
    rubrics: dict[str, str] = Field(description="rubric id -> version")
    codebook: str | None = Field(default=None, description="codebook version used to detect")
    index: IndexInfo = Field(default_factory=lambda: IndexInfo(enabled=False))
    timings: dict[str, float] = Field(default_factory=dict)
    transcripts: list[TranscriptResult]
    summary: RunSummary = Field(default_factory=RunSummary)
