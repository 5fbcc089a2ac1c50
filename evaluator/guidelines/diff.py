"""What changed between two rubric versions: rubrics and criteria added, removed or edited."""

from __future__ import annotations

from pathlib import Path

from evaluator.guidelines.rubrics import load_rubric_file, load_rubrics
from evaluator.types.guidelines import CriterionDiff, FieldChange, RubricDiff, RubricSetDiff
from evaluator.types.rubric import Rubric

__all__ = ["load_rubric_set", "diff_rubric_sets", "diff_paths"]

_RUBRIC_FIELDS = ("title", "condition", "description", "format_version")


def load_rubric_set(path: Path) -> dict[str, Rubric]:
    """A guidelines folder (overrides applied) or a single rubric file."""
    path = Path(path)
    if path.is_dir():
        return load_rubrics(path)
    rubric = load_rubric_file(path)
    return {rubric.id: rubric}


def _field_changes(old: dict, new: dict, fields) -> list[FieldChange]:
    return [
        FieldChange(field=name, old=old.get(name), new=new.get(name))
        for name in fields
        if old.get(name) != new.get(name)
    ]


def _diff_rubric(old: Rubric, new: Rubric) -> RubricDiff:
    old_data = old.model_dump(mode="json", by_alias=True)
    new_data = new.model_dump(mode="json", by_alias=True)
    old_criteria = {c["id"]: c for c in old_data["criteria"]}
    new_criteria = {c["id"]: c for c in new_data["criteria"]}
    changed = []
    for criterion_id in (c for c in new_criteria if c in old_criteria):
        before, after = old_criteria[criterion_id], new_criteria[criterion_id]
        fields = list(dict.fromkeys([*before, *after]))
        changes = _field_changes(before, after, [f for f in fields if f != "id"])
        if changes:
            changed.append(CriterionDiff(id=criterion_id, changes=changes))
    return RubricDiff(
        id=new.id,
        old_version=old.version,
        new_version=new.version,
        changes=_field_changes(old_data, new_data, _RUBRIC_FIELDS),
        added=[c for c in new_criteria if c not in old_criteria],
        removed=[c for c in old_criteria if c not in new_criteria],
        changed=changed,
    )


def diff_rubric_sets(
    old: dict[str, Rubric], new: dict[str, Rubric], *, old_label: str = "old", new_label="new"
) -> RubricSetDiff:
    changed = []
    for rubric_id in (r for r in new if r in old):
        rubric_diff = _diff_rubric(old[rubric_id], new[rubric_id])
        if not rubric_diff.empty:
            changed.append(rubric_diff)
    return RubricSetDiff(
        old=old_label,
        new=new_label,
        added=[r for r in new if r not in old],
        removed=[r for r in old if r not in new],
        changed=changed,
    )


def diff_paths(old: Path, new: Path) -> RubricSetDiff:
    """Compare two guidelines folders or two rubric files."""
    return diff_rubric_sets(
        load_rubric_set(old), load_rubric_set(new), old_label=str(old), new_label=str(new)
    )
