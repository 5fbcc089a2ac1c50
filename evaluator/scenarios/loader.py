"""Reading scenario YAML files: strict schema, errors that name the file and field."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from evaluator.errors import ConfigError, InputError
from evaluator.io import load_yaml_model
from evaluator.types import Scenario

__all__ = ["load_scenarios", "scenario_hash", "scenario_json_schema"]


def _scenario_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.y*ml") if p.suffix in (".yaml", ".yml")))
        elif path.is_file():
            files.append(path)
        else:
            raise InputError("scenario file or folder not found", file=path)
    return files


def load_scenarios(
    paths: Iterable[Path], *, known_conditions: Iterable[str] | None = None
) -> list[Scenario]:
    """Load every scenario under `paths` (files or folders), ids unique, in a stable order."""
    files = _scenario_files(paths)
    if not files:
        raise InputError("no scenario files (*.yaml) found", file=", ".join(map(str, paths)))
    known = set(known_conditions) if known_conditions is not None else None
    scenarios: list[Scenario] = []
    seen: dict[str, Path] = {}
    for file in files:
        scenario = load_yaml_model(file, Scenario, error=ConfigError)
        if scenario.id in seen:
            raise ConfigError(f"duplicate scenario id (also in {seen[scenario.id]})", file=file,
                              field="id")
        if known is not None and scenario.condition not in known:
            raise ConfigError(
                f"unknown condition {scenario.condition!r}; known: {', '.join(sorted(known))}",
                file=file,
                field="condition",
            )
        seen[scenario.id] = file
        scenarios.append(scenario)
    return scenarios


def scenario_hash(scenario: Scenario) -> str:
    """Content hash: `check` warns when a baseline ran a different version of a scenario."""
    payload = json.dumps(scenario.model_dump(mode="json", by_alias=True), sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def scenario_json_schema() -> dict:
    """JSON schema for editors (yaml-language-server)."""
    return Scenario.model_json_schema(by_alias=True)
