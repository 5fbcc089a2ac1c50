"""How far a judge agrees with people who labelled the same transcripts (`mheval agreement`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from evaluator.types.transcript import JudgeInfo

__all__ = ["AGREEMENT_FORMAT_VERSION", "AgreementLevel", "AgreementReport"]

AGREEMENT_FORMAT_VERSION = 1


class AgreementLevel(BaseModel):
    """Agreement at one level: whole transcripts, or single criteria of transcripts."""

    model_config = ConfigDict(extra="forbid")

    level: Literal["transcript", "criterion"]
    scale: Literal["binary", "ordinal"] = Field(
        description="binary: pass/fail; ordinal: fail < partial < pass"
    )
    n: int = Field(description="pairs compared")
    labels: list[str] = Field(description="order of the confusion matrix rows and columns")
    accuracy: float
    kappa: float | None = Field(description="Cohen's kappa (None when undefined)")
    weighted_kappa: float | None = Field(
        default=None, description="quadratic-weighted kappa (ordinal only)"
    )
    spearman: float | None = Field(
        default=None, description="Spearman rho of human label vs judge label (ordinal only)"
    )
    spearman_p: float | None = None
    spearman_score: float | None = Field(
        default=None, description="Spearman rho of human label vs judge score (ordinal only)"
    )
    confusion: list[list[int]] = Field(description="rows: human label; columns: judge label")
    missing: list[str] = Field(
        default_factory=list, description="labelled items the scores file has no verdict for"
    )
    excluded: dict[str, int] = Field(
        default_factory=dict, description="pairs left out, by reason (e.g. judge unscored)"
    )
    by_criterion: dict[str, dict[str, float | int]] = Field(
        default_factory=dict,
        description="criterion level only: per criterion id, pairs `n` and `accuracy`",
    )


class AgreementReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format_version: int = AGREEMENT_FORMAT_VERSION
    tool_version: str
    created_at: str
    scores: str = Field(description="the score run file")
    labels: str = Field(description="the human labels file")
    judge: JudgeInfo
    partial_as: Literal["fail", "pass"] = Field(
        description="how a judge's `partial` counts against binary human labels"
    )
    levels: list[AgreementLevel]
