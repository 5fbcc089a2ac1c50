"""What scoring asks a judge and what a judge answers (pydantic_evals' EvaluationReason idea).

A judge answers small: a label, maybe a number, a reason, the quotes it relies on. Scoring alone
turns an answer into a `Verdict`: it grounds the quotes, fixes the score, copies severity, weight
and the users' voices from the rubric, and decides the transcript's outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from evaluator.types.rubric import Criterion, Rubric
from evaluator.types.transcript import (
    EvidenceQuote,
    Transcript,
    TurnScore,
    UserVoice,
    VerdictLabel,
)

__all__ = ["JudgeRequest", "JudgeAnswer", "GradingOutput"]


@dataclass(frozen=True)
class JudgeRequest:
    """Everything a judge may look at for one verdict. Scoring sends only criteria that apply."""

    transcript: Transcript
    rubric: Rubric
    criterion: Criterion
    conditions: tuple[str, ...]
    crisis: bool
    user_voices: tuple[UserVoice, ...] = field(default_factory=tuple)


class JudgeAnswer(BaseModel):
    """A judge's answer for one request. `evidence` is as the judge cited it (scoring checks it);
    `samples` holds the label of each sample when the judge voted over several; `turn_scores`
    grades a quality criterion per assistant turn, for a judge that measures turns (optional:
    `score` stays the conversation's; scoring keeps the turns and quotes the transcript has)."""

    model_config = ConfigDict(extra="forbid")

    label: VerdictLabel
    score: float | None = Field(default=None, ge=0.0, le=1.0)
    rationale: str = ""
    evidence: list[EvidenceQuote] = Field(default_factory=list)
    samples: list[VerdictLabel] = Field(default_factory=list)
    turn_scores: list[TurnScore] = Field(default_factory=list)

    @field_validator("turn_scores")
    @classmethod
    def _one_score_per_turn(cls, value: list[TurnScore]) -> list[TurnScore]:
        turns = [item.turn for item in value]
        if len(set(turns)) != len(turns):
            raise ValueError("at most one score per turn")
        return sorted(value, key=lambda item: item.turn)


class GradingOutput(BaseModel):
    """The structured answer an LLM judge must return for one criterion (its tool schema)."""

    model_config = ConfigDict(extra="forbid")

    label: Literal["pass", "partial", "fail", "not_applicable"] = Field(
        description="pass, partial or fail against the criterion's anchors; not_applicable only "
        "if the criterion cannot apply to this conversation"
    )
    score: float = Field(ge=0.0, le=1.0, description="1 pass, 0.5 partial, 0 fail")
    rationale: str = Field(description="one sentence naming what the assistant did")
    evidence: list[EvidenceQuote] = Field(
        default_factory=list,
        description="assistant sentences that justify the label, each with its turn number",
    )
