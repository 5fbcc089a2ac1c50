"""Settings: defaults, overridden by `mheval.toml` or `[tool.mheval]` in pyproject.toml.

The config file is looked up from the working directory upwards; `--config FILE` names one
explicitly. Relative paths in a config file are relative to that file's folder. Paths left at
their defaults point into the project checkout (the folder holding `corpus_index/`,
`guidelines/`, `scenarios/`), so the shipped data works from any working directory.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evaluator.errors import ConfigError, EvaluatorError
from evaluator.io import check_depth, check_readable_file, validation_error_to_message

__all__ = ["Settings", "load_settings", "project_root", "setup_offline_env"]

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def project_root() -> Path:
    """The folder that holds the shipped data (the checkout for an editable install)."""
    override = os.environ.get("MHEVAL_HOME")
    if override:
        return Path(override).resolve()
    return _PACKAGE_ROOT


class Settings(BaseModel):
    """Every default a command may take from configuration."""

    model_config = ConfigDict(extra="forbid")

    corpus: Path = Field(
        default_factory=lambda: project_root() / "corpus_index" / "corpus.jsonl.gz",
        description="Normalised corpus (output of `mheval corpus ingest`).",
    )
    annotations: Path = Field(
        default_factory=lambda: project_root() / "corpus_index" / "annotations.jsonl.gz",
        description="Annotations (output of `mheval mine`).",
    )
    codebook: Path = Field(
        default_factory=lambda: project_root() / "guidelines" / "codebook.yaml",
        description="Label scheme used by `mine` and the detectors.",
    )
    guidelines: Path = Field(
        default_factory=lambda: project_root() / "guidelines",
        description="Folder of rubric YAML files.",
    )
    findings: Path = Field(
        default_factory=lambda: project_root() / "corpus_index" / "findings",
        description="Folder of findings (output of `mheval findings`).",
    )
    index_path: Path = Field(
        default_factory=lambda: project_root() / "corpus_index" / "chroma",
        description="Embedded Chroma folder.",
    )
    chroma_url: str | None = Field(
        default=None, description="Use a Chroma server (http://HOST:PORT) instead of embedded."
    )
    scenarios: Path = Field(
        default_factory=lambda: project_root() / "scenarios",
        description="Folder of scenario YAML files.",
    )
    cache_dir: Path = Field(
        default_factory=lambda: Path(
            os.environ.get("MHEVAL_CACHE", "~/.cache/mheval")
        ).expanduser(),
        description="On-disk cache for model calls and embeddings.",
    )
    annotator: str = Field(default="local", description="`local` or a PROVIDER:MODEL id.")
    judge: str = Field(default="local", description="`local` or a PROVIDER:MODEL id.")
    concurrency: int = Field(default=4, ge=1, le=64, description="Parallel model calls.")
    timeout: float = Field(default=60.0, gt=0, description="Seconds per model call.")
    max_retries: int = Field(default=4, ge=0, le=20, description="Retries per model call.")
    author_salt: str | None = Field(
        default=None, description="Salt for author hashes; generated beside the corpus if unset."
    )


def _find_config(start: Path) -> tuple[Path, dict] | None:
    for folder in [start, *start.parents]:
        candidate = folder / "mheval.toml"
        if candidate.is_file():
            return candidate, _read_toml(candidate)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            section = _tool_section(pyproject, _read_toml(pyproject))
            if section is not None:
                return pyproject, section
    return None


def _read_toml(path: Path) -> dict:
    check_readable_file(path, error=ConfigError)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"malformed TOML: {exc}", file=path) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
            "TOML files are UTF-8",
            file=path,
        ) from None
    except RecursionError:
        raise ConfigError("TOML nested too deeply", file=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", file=path) from None
    try:
        return check_depth(data, file=path, what="TOML")
    except EvaluatorError as exc:
        raise ConfigError(exc.message, file=path) from None


def _tool_section(path: Path, data: dict):
    """`[tool.mheval]` of a pyproject.toml, or None; a `tool` that is not a table is an error."""
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError("`tool` must be a table", file=path, field="tool")
    return tool.get("mheval")


def load_settings(config_file: Path | None = None, cwd: Path | None = None) -> Settings:
    """Build Settings from the config file (explicit, or found upwards from `cwd`)."""
    if config_file is not None:
        if not config_file.exists():
            raise ConfigError("config file not found", file=config_file)
        data = _read_toml(config_file)
        if config_file.name == "pyproject.toml":
            data = _tool_section(config_file, data) or {}
        found = (config_file, data)
    else:
        found = _find_config((cwd or Path.cwd()).resolve())
    if found is None:
        return Settings()
    path, data = found
    base = path.parent
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        field, message = validation_error_to_message(exc)
        raise ConfigError(message, file=path, field=field) from None
    # Relative paths given in the file are relative to the file.
    updates = {}
    for name in data:
        value = getattr(settings, name)
        if isinstance(value, Path) and not value.is_absolute():
            updates[name] = (base / value).resolve()
    return settings.model_copy(update=updates)


def setup_offline_env() -> None:
    """Forbid downloads and telemetry before importing HF, sentence-transformers or Chroma."""
    for key, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "ORT_DISABLE_TELEMETRY": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        # Spinning OpenMP waits make torch 3-20x slower on a shared 2-core machine
        # (BENCHMARKS.md, Corpus index); effective only before torch is imported.
        "OMP_WAIT_POLICY": "PASSIVE",
    }.items():
        os.environ.setdefault(key, value)
