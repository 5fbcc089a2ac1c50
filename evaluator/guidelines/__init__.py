"""Stage `guidelines`: condition-specific, value-sensitive rubrics built from findings.

Public API used by later stages:

- `load_rubrics(directory) -> dict[str, Rubric]`: every rubric file of a folder, overrides applied;
- `select_rubrics(rubrics, conditions) -> list[Rubric]`: base first, then the conditions' rubrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from evaluator.errors import ConfigError
from evaluator.guidelines.build import BASE_ID, build_rubrics, load_library
from evaluator.guidelines.diff import diff_paths, diff_rubric_sets, load_rubric_set
from evaluator.guidelines.rubrics import (
    OVERRIDES_FILE,
    apply_overrides,
    assign_versions,
    content_hash,
    load_overrides,
    load_rubric_file,
    load_rubrics,
    select_rubrics,
    write_rubrics,
    write_schemas,
)
from evaluator.types.guidelines import TemplateLibrary
from evaluator.types.rubric import Rubric

__all__ = [
    "BASE_ID",
    "BuildResult",
    "ValidationReport",
    "load_rubrics",
    "select_rubrics",
    "run_build",
    "build_rubrics",
    "load_library",
    "validate_directory",
    "export_schemas",
    "apply_overrides",
    "load_overrides",
    "content_hash",
    "diff_paths",
    "diff_rubric_sets",
    "load_rubric_set",
]


@dataclass
class BuildResult:
    rubrics: dict[str, Rubric]
    written: list[Path]
    removed: list[Path]
    schemas: list[Path]
    changed: list[str] = field(default_factory=list)  # rubric ids with a new version
    overrides: Path | None = None


def _previous(directory: Path) -> dict[str, Rubric]:
    """Rubrics already in the output folder, for stable versions; unreadable ones are ignored
    (the build replaces them)."""
    previous = {}
    if directory.is_dir():
        for path in sorted(directory.glob("*.yaml")):
            if path.name in ("codebook.yaml", OVERRIDES_FILE):
                continue
            try:
                rubric = load_rubric_file(path)
            except ConfigError:
                continue
            previous[rubric.id] = rubric
    return previous


def run_build(
    findings_path: Path,
    out_dir: Path,
    *,
    overrides: Path | None = None,
    library: TemplateLibrary | None = None,
    today: date | None = None,
) -> BuildResult:
    """Build rubrics from findings.json, apply overrides, version and write them with schemas.

    `overrides` defaults to `out_dir/overrides.yaml` when that file exists.
    """
    from evaluator.findings import load_findings
    from evaluator.io import file_sha256

    findings_path = Path(findings_path)
    if findings_path.is_dir():
        findings_path = findings_path / "findings.json"
    findings = load_findings(findings_path)
    out_dir = Path(out_dir)
    rubrics = build_rubrics(findings, library)
    if overrides is None and (out_dir / OVERRIDES_FILE).is_file():
        overrides = out_dir / OVERRIDES_FILE
    if overrides is not None:
        rubrics = apply_overrides(rubrics, load_overrides(overrides), overrides, strict=True)
    digest = f"sha256:{file_sha256(findings_path)}"
    rubrics = {
        rubric_id: rubric.model_copy(update={"generated_from": digest})
        for rubric_id, rubric in rubrics.items()
    }
    previous = _previous(out_dir)
    rubrics = assign_versions(rubrics, previous, today or datetime.now(UTC).date())
    written, removed = write_rubrics(rubrics, out_dir)
    schemas = write_schemas(out_dir)
    changed = [
        rubric_id
        for rubric_id, rubric in rubrics.items()
        if rubric_id not in previous or previous[rubric_id].version != rubric.version
    ]
    return BuildResult(rubrics, written, removed, schemas, changed, overrides)


@dataclass
class ValidationReport:
    directory: Path
    rubrics: dict[str, Rubric]
    warnings: list[str] = field(default_factory=list)

    @property
    def n_criteria(self) -> int:
        return sum(len(r.criteria) for r in self.rubrics.values())


def validate_directory(directory: Path, codebook: Path | None = None) -> ValidationReport:
    """Load every rubric (errors raise ConfigError naming file and field) and list warnings:
    criteria the offline judge cannot score (no signals), label ids unknown to the codebook,
    condition rubrics missing for codebook conditions, and no base rubric."""
    directory = Path(directory)
    rubrics = load_rubrics(directory)
    report = ValidationReport(directory, rubrics)
    if BASE_ID not in rubrics:
        report.warnings.append("no `base` rubric: nothing applies to every conversation")
    codebook_path = codebook or (directory / "codebook.yaml")
    known = None
    if Path(codebook_path).is_file():
        from evaluator.codebook import load_codebook

        book = load_codebook(codebook_path)
        known = {
            "conditions": set(book.ids("conditions")),
            "values": set(book.ids("values")),
            "perspectives": set(book.ids("perspectives")),
        }
        covered = {r.condition for r in rubrics.values()}
        missing = [c for c in book.ids("conditions") if c not in covered]
        if missing:
            report.warnings.append(
                "codebook conditions without a rubric (base only): " + ", ".join(missing)
            )
    for rubric in rubrics.values():
        if known is not None and rubric.condition and rubric.condition not in known["conditions"]:
            report.warnings.append(
                f"{rubric.id}: condition {rubric.condition!r} is not in the codebook"
            )
        for criterion in rubric.criteria:
            where = f"{rubric.id}/{criterion.id}"
            if criterion.signals is None:
                report.warnings.append(f"{where}: no signals, the offline judge cannot score it")
            if known is None:
                continue
            for kind in ("conditions", "values", "perspectives"):
                unknown = [x for x in getattr(criterion, kind) if x not in known[kind]]
                unknown += (
                    [x for x in criterion.applies_when.conditions if x not in known[kind]]
                    if kind == "conditions"
                    else []
                )
                if unknown:
                    report.warnings.append(
                        f"{where}: {kind} not in the codebook: {', '.join(sorted(set(unknown)))}"
                    )
    return report


def export_schemas(directory: Path) -> list[Path]:
    """Write `schema/rubric.schema.json` and `schema/overrides.schema.json` under `directory`."""
    return write_schemas(Path(directory))
