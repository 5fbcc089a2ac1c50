"""What `mheval check` finds when it compares a run with its baseline."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from evaluator.types.transcript import EvidenceQuote

__all__ = [
    "CHECK_FORMAT_VERSION",
    "Change",
    "CriterionChange",
    "ConditionChange",
    "QualityChange",
    "CheckReport",
]

CHECK_FORMAT_VERSION = 2  # 2: `quality`

Change = Literal[
    "new_failure",  # failing now, not failing in the baseline
    "new_error",  # the scenario errored now, ran in the baseline
    "unscored",  # a critical or expected criterion the judge could not score: inconclusive
    "unconfirmed_failure",  # new failure from a noisy judge that did not repeat over --samples
    "still_failing",  # failing in both: reported, never fails the check
    "degraded",  # pass -> partial
    "improved",  # fail/partial -> better
    "fixed_error",
]


class CriterionChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario_id: str
    condition: str
    rubric_id: str | None = None
    criterion_id: str | None = None
    severity: str | None = None
    change: Change
    before: str | None = None
    after: str | None = None
    rationale: str = ""
    evidence: EvidenceQuote | None = Field(
        default=None,
        description="what the bot said: the verdict's evidence quote from an assistant turn "
        "(else its first quote), from the run",
    )
    blocking: bool = False


class ConditionChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    condition: str
    scenarios: int
    before: float | None
    after: float | None
    drop: float | None
    confirmed_samples: int = Field(
        default=1, description="sample replicas in which the drop exceeded --max-drop"
    )
    blocking: bool = False


class QualityChange(BaseModel):
    """A graded quality dimension's mean over the scenarios in both runs, before and now."""

    model_config = ConfigDict(extra="forbid")

    dimension: str = Field(description="the quality criterion id")
    title: str = ""
    scenarios: int
    before: float | None
    after: float | None
    drop: float | None
    blocking: bool = Field(default=False, description="only with --block-on-quality")


class CheckReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format_version: int = CHECK_FORMAT_VERSION
    passed: bool
    reasons: list[str] = Field(default_factory=list, description="why the check failed")
    overall_before: float | None
    overall_after: float | None
    fail_under: float | None
    max_drop: float
    samples: int
    changes: list[CriterionChange]
    conditions: list[ConditionChange]
    quality: list[QualityChange] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
