"""Transcripts and what scoring says about them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Role",
    "Turn",
    "Transcript",
    "EvidenceQuote",
    "UserVoice",
    "VerdictLabel",
    "Verdict",
    "TranscriptResult",
    "ScoreRun",
    "SCORE_FORMAT_VERSION",
]

SCORE_FORMAT_VERSION = 2  # 2: per-transcript `quality` and `quality_score`

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
    deterministic: bool = True


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
    detection: dict[str, Any] = Field(
        default_factory=dict, description="what was detected or declared, and why"
    )
    criteria: list[Verdict]
    quality: dict[str, float | None] = Field(
        default_factory=dict,
        description="graded quality per `quality` criterion id (0-1; None when not graded)",
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


class ScoreRun(BaseModel):
    """The versioned result of `mheval score` (and the scoring part of `mheval run`)."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = SCORE_FORMAT_VERSION
    tool_version: str
    created_at: str
    judge: dict[str, Any] = Field(description="name, model id, version, samples")
    rubrics: dict[str, str] = Field(description="rubric id -> version")
    codebook: str | None = Field(default=None, description="codebook version used to detect")
    index: dict[str, Any] = Field(default_factory=dict, description="embedding model, counts")
    timings: dict[str, float] = Field(default_factory=dict)
    transcripts: list[TranscriptResult]
    summary: dict[str, Any] = Field(default_factory=dict)
