"""Types of the rubric build: criterion templates, hand-written overrides, and rubric diffs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from evaluator.types.rubric import (
    Anchors,
    AppliesWhen,
    Criterion,
    EvidenceRef,
    Exemplar,
    LocalSignals,
    Severity,
)

__all__ = [
    "Trigger",
    "CriterionTemplate",
    "TemplateLibrary",
    "CriterionPatch",
    "RubricOverride",
    "Overrides",
    "FieldChange",
    "CriterionDiff",
    "RubricDiff",
    "RubricSetDiff",
]

ConditionTable = Literal["condition_x_perspective", "condition_x_value", "condition_x_sentiment"]


class Trigger(BaseModel):
    """A finding that supports a template.

    - a condition table cell (`table` + `col`): in a condition's rubric the row is that condition;
      in the base rubric any condition's over-represented cell counts;
    - a value × perspective pair (`table: value_x_perspective`, `value`, `perspective`): supporting
      evidence everywhere, and enough on its own to fire a base template;
    - `table: crisis`: the corpus has posts about suicidal ideation or self-harm.
    """

    model_config = ConfigDict(extra="forbid")

    table: ConditionTable | Literal["value_x_perspective", "crisis"]
    col: str | None = None
    value: str | None = None
    perspective: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Trigger:
        if self.table.startswith("condition_x") and not self.col:
            raise ValueError(f"a {self.table} trigger needs `col`")
        if self.table == "value_x_perspective" and not (self.value and self.perspective):
            raise ValueError("a value_x_perspective trigger needs `value` and `perspective`")
        return self


class CriterionTemplate(BaseModel):
    """A curated candidate criterion; the build decides whether, where and how heavily to use it.

    `rubric` is `base`, a condition id, or `*` (any condition whose findings fire a trigger).
    `always` templates are kept even without corpus support (their evidence is then the
    literature or curation); `when_supported` ones only when a trigger fires.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_.-]*$")
    rubric: str
    include: Literal["always", "when_supported"] = "always"
    themes: list[str] = Field(
        default_factory=list,
        description="a `*` template is skipped where a condition template shares a theme",
    )
    triggers: list[Trigger] = Field(default_factory=list)
    literature: list[EvidenceRef] = Field(default_factory=list)
    critical_if_residual: float | None = Field(
        default=None,
        description="become critical when a fired cell of one of its perspectives reaches this",
    )
    title: str
    description: str
    applies_when: AppliesWhen = Field(default_factory=AppliesWhen)
    values: list[str] = Field(default_factory=list)
    perspectives: list[str] = Field(default_factory=list)
    scale: Anchors
    weight: float = Field(default=1.0, gt=0)
    severity: Severity = "major"
    exemplars: list[Exemplar] = Field(min_length=2)
    signals: LocalSignals

    @model_validator(mode="after")
    def _sources(self) -> CriterionTemplate:
        for ref in self.literature:
            if ref.source != "literature":
                raise ValueError("`literature` entries must have source: literature")
        if self.include == "when_supported" and not self.triggers:
            raise ValueError("a when_supported template needs triggers")
        if not (self.signals.require or self.signals.forbid or self.signals.grade):
            raise ValueError("signals must require or forbid a behaviour, or grade a dimension")
        if (self.signals.grade is None) != (self.severity != "quality"):
            raise ValueError("a quality criterion grades a dimension, and only it does")
        return self


class TemplateLibrary(BaseModel):
    """The curated library (`evaluator/guidelines/library.yaml`)."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = 1
    required_conditions: list[str] = Field(
        description="conditions that always get a rubric, however thin the corpus"
    )
    condition_titles: dict[str, str]
    templates: list[CriterionTemplate]


class CriterionPatch(BaseModel):
    """Fields a team may change on a generated criterion; evidence stays regenerated."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    title: str | None = None
    description: str | None = None
    applies_when: AppliesWhen | None = None
    conditions: list[str] | None = None
    values: list[str] | None = None
    perspectives: list[str] | None = None
    scale: Anchors | None = None
    weight: float | None = Field(default=None, gt=0)
    severity: Severity | None = None
    exemplars: list[Exemplar] | None = None
    signals: LocalSignals | None = None


class RubricOverride(BaseModel):
    """Changes to one rubric; a rubric id that is not generated creates a new rubric."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    description: str | None = None
    condition: str | None = Field(default=None, description="for a new rubric only")
    patch: dict[str, CriterionPatch] = Field(
        default_factory=dict, description="criterion id → fields to change"
    )
    add: list[Criterion] = Field(
        default_factory=list, description="criteria to add (or replace, by id)"
    )
    remove: list[str] = Field(default_factory=list, description="criterion ids to drop")


class Overrides(BaseModel):
    """`guidelines/overrides.yaml`: hand edits re-applied after every build and on load."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = 1
    rubrics: dict[str, RubricOverride] = Field(default_factory=dict)


class FieldChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str
    old: Any = None
    new: Any = None


class CriterionDiff(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    changes: list[FieldChange]


class RubricDiff(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    old_version: str
    new_version: str
    changes: list[FieldChange] = Field(default_factory=list, description="rubric-level fields")
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    changed: list[CriterionDiff] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.changes or self.added or self.removed or self.changed)


class RubricSetDiff(BaseModel):
    """What changed between two rubric sets (folders or files)."""

    model_config = ConfigDict(extra="forbid")

    old: str
    new: str
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    changed: list[RubricDiff] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)
