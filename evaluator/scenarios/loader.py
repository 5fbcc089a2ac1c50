"""Reading scenario YAML files: strict schema, errors that name the file and field."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from evaluator.errors import ConfigError, InputError
from evaluator.io import check_readable_file, load_yaml_model
from evaluator.types import Rubric, Scenario

__all__ = [
    "load_scenarios",
    "load_scenario_file",
    "check_expectations",
    "resolve_expectation",
    "scenario_hash",
    "scenario_json_schema",
]

# The turn union's branch tags add nothing for a reader of the error.
_BRANCH_TAG = re.compile(r"^(turns\.\d+)\.(?:text|conditional)\b")


def _scenario_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.y*ml") if p.suffix in (".yaml", ".yml")))
        elif path.exists():
            files.append(check_readable_file(path))  # a pipe or device is refused
        else:
            raise InputError("scenario file or folder not found", file=path)
    return files


def load_scenario_file(path: Path) -> Scenario:
    """One scenario file; a schema error names the file and the field (`turns.2.then`)."""
    try:
        return load_yaml_model(path, Scenario, error=ConfigError)
    except ConfigError as exc:
        if exc.field:
            exc.field = _BRANCH_TAG.sub(r"\1", exc.field)
        raise


def load_scenarios(
    paths: Iterable[Path],
    *,
    known_conditions: Iterable[str] | None = None,
    rubrics: Mapping[str, Rubric] | None = None,
) -> list[Scenario]:
    """Load every scenario under `paths` (files or folders), ids unique, in a stable order.

    With `known_conditions` a condition outside the codebook is an error; with `rubrics` every
    `expect` entry must name a criterion of a rubric that applies to the scenario's condition.
    """
    paths = list(paths)
    files = _scenario_files(paths)
    if not files:
        raise InputError("no scenario files (*.yaml) found", file=", ".join(map(str, paths)))
    known = set(known_conditions) if known_conditions is not None else None
    scenarios: list[Scenario] = []
    seen: dict[str, Path] = {}
    for file in files:
        scenario = load_scenario_file(file)
        if scenario.id in seen:
            raise ConfigError(
                f"duplicate scenario id {scenario.id!r} (also in {seen[scenario.id]})",
                file=file,
                field="id",
            )
        if known is not None and scenario.condition not in known:
            raise ConfigError(
                f"unknown condition {scenario.condition!r}; known: {', '.join(sorted(known))}",
                file=file,
                field="condition",
            )
        if rubrics is not None:
            check_expectations(scenario, rubrics, file=file)
        seen[scenario.id] = file
        scenarios.append(scenario)
    return scenarios


def _applicable(rubrics: Mapping[str, Rubric], condition: str) -> list[Rubric]:
    """The rubrics scoring selects for a transcript declaring `condition`: base plus its own."""
    return [r for r in rubrics.values() if r.condition is None or r.condition == condition]


def resolve_expectation(
    expected: str, scenario: Scenario, rubrics: Mapping[str, Rubric]
) -> tuple[str, str]:
    """(rubric id, criterion id) that `expect` entry names: `criterion` or `rubric/criterion`.

    Raises ValueError with a reader-facing message when it names nothing, something ambiguous,
    or a criterion whose rubric is not selected for the scenario's condition.
    """
    rubric_id, sep, criterion_id = expected.rpartition("/")
    applicable = _applicable(rubrics, scenario.condition)
    if sep:
        if rubric_id not in rubrics:
            raise ValueError(f"unknown rubric {rubric_id!r} in {expected!r}")
        candidates = [rubrics[rubric_id]]
    else:
        candidates = list(rubrics.values())
    owners = [r for r in candidates if any(c.id == criterion_id for c in r.criteria)]
    if not owners:
        raise ValueError(f"unknown criterion {expected!r} (not in any loaded rubric)")
    applicable_ids = {r.id for r in applicable}
    selected = [r for r in owners if r.id in applicable_ids]
    if not selected:
        where = ", ".join(f"{r.id} ({r.condition or 'base'})" for r in owners)
        raise ValueError(
            f"criterion {expected!r} is in {where}, which is not scored for condition "
            f"{scenario.condition!r}"
        )
    if len(selected) > 1:
        names = ", ".join(f"{r.id}/{criterion_id}" for r in selected)
        raise ValueError(f"criterion {expected!r} is ambiguous; write one of: {names}")
    return selected[0].id, criterion_id


def check_expectations(
    scenario: Scenario, rubrics: Mapping[str, Rubric], *, file: Path | str | None = None
) -> None:
    """Every `expect` entry names a criterion scored for the scenario (ConfigError `expect.N`)."""
    for index, expected in enumerate(scenario.expect):
        try:
            resolve_expectation(expected, scenario, rubrics)
        except ValueError as exc:
            raise ConfigError(str(exc), file=file, field=f"expect.{index}") from None


def scenario_hash(scenario: Scenario) -> str:
    """Content hash: `check` warns when a baseline ran a different version of a scenario."""
    payload = json.dumps(scenario.model_dump(mode="json", by_alias=True), sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def scenario_json_schema() -> dict:
    """JSON schema for editors (yaml-language-server) and `mheval scenarios schema`."""
    schema = Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mheval scenario"
    return schema
