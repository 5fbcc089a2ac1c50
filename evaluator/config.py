"""Settings: defaults, overridden by `mheval.toml` or `[tool.mheval]` in pyproject.toml.

The config file is looked up from the working directory upwards; `--config FILE` names one
explicitly. Relative paths in a config file are relative to that file's folder, and a
`guidelines/` folder beside it (with rubric YAML files) replaces the shipped rubrics and, when it
holds a `codebook.yaml`, the shipped codebook. Paths left at their defaults point into the shipped
data (`project_root()`), so it works from any working directory; what mheval writes for itself
(the corpus index, embedding and answer caches) goes under the user cache folder (`cache_root()`).
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evaluator.errors import ConfigError, EvaluatorError, InputError
from evaluator.io import check_depth, check_readable_file, validation_error_to_message
from evaluator.registry import import_plugins

__all__ = [
    "Settings",
    "load_settings",
    "project_root",
    "cache_root",
    "writable_output",
    "setup_offline_env",
]

_CHECKOUT = Path(__file__).resolve().parent.parent


def project_root() -> Path:
    """The folder holding the shipped data (guidelines/, scenarios/, corpus_index/, examples/):
    `$MHEVAL_HOME` when set; else the copy an installed wheel carries in `evaluator/_data`
    (built from the top-level folders, see setup.py); else the checkout around the package."""
    override = os.environ.get("MHEVAL_HOME")
    if override:
        return Path(override).expanduser().resolve()
    return _bundled_data() or _CHECKOUT


def _bundled_data() -> Path | None:
    bundled = resources.files("evaluator").joinpath("_data")
    return bundled if isinstance(bundled, Path) and bundled.is_dir() else None


def writable_output(path: Path) -> Path:
    """`path`, unless it lies in an installed package's shipped data: `findings` or `guidelines
    build` without --out would otherwise overwrite site-packages (and lose it on upgrade)."""
    bundled = _bundled_data()
    if bundled is not None and path.resolve().is_relative_to(bundled.resolve()):
        raise InputError(
            "is the installed package's shipped data; write to a folder of yours with --out",
            file=path,
            field="out",
        )
    return path


def cache_root() -> Path:
    """Where mheval keeps what it can rebuild: `$MHEVAL_CACHE`, else `$XDG_CACHE_HOME/mheval`,
    else `~/.cache/mheval` (one folder to cache in CI)."""
    if os.environ.get("MHEVAL_CACHE"):
        return Path(os.environ["MHEVAL_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "mheval"


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
    voice_embeddings: Path = Field(
        default_factory=lambda: project_root() / "corpus_index" / "voice_embeddings.npz",
        description="Precomputed vectors of voices (float16; texts it lacks are encoded).",
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
    index_path: Path | None = Field(
        default=None,
        description="Embedded Chroma folder (default: one per annotations file under "
        "cache_dir/index).",
    )
    chroma_url: str | None = Field(
        default=None, description="Use a Chroma server (http://HOST:PORT) instead of embedded."
    )
    voice_min_similarity: float = Field(
        default=0.25,
        ge=-1.0,
        le=1.0,
        description="Voices less similar (cosine) to the judged turns are not quoted.",
    )
    scenarios: Path = Field(
        default_factory=lambda: project_root() / "scenarios",
        description="Folder of scenario YAML files.",
    )
    cache_dir: Path = Field(
        default_factory=cache_root,
        description="On-disk cache: corpus index, model answers, embeddings.",
    )
    annotator: str = Field(default="local", description="`local` or a PROVIDER:MODEL id.")
    judge: str = Field(default="local", description="`local` or a PROVIDER:MODEL id.")
    concurrency: int = Field(default=4, ge=1, le=64, description="Parallel model calls.")
    timeout: float = Field(
        default=30.0, gt=0, description="Seconds per model call (raise it for slow local models)."
    )
    max_retries: int = Field(default=4, ge=0, le=20, description="Retries per model call.")
    max_consecutive_failures: int = Field(
        default=4,
        ge=0,
        le=1000,
        description="Stop the run when a model fails this many attempts in a row (0: never).",
    )
    plugins: list[str] = Field(
        default_factory=list,
        description="Modules imported when the settings are loaded (they call register_judge, "
        "register_reader, ...); a module beside the config file is found. Installed packages "
        "can also register through the `mheval.plugins` entry-point group.",
    )
    author_salt: str | None = Field(
        default=None, description="Salt for author hashes; generated beside the corpus if unset."
    )

    def index_folder(self) -> Path:
        """`index_path`, else `cache_dir/index/<hash of the annotations path>`: each annotations
        file (the shipped one of each install, a project's own) keeps its own index, updated in
        place when that file changes."""
        if self.index_path is not None:
            return self.index_path
        key = hashlib.sha256(str(self.annotations.resolve()).encode()).hexdigest()[:12]
        return self.cache_dir / "index" / key


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
    """Build Settings from the config file (explicit, or found upwards from `cwd`), and import
    the plugins it names."""
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
    import_plugins(settings.plugins, source=path)
    # Relative paths given in the file are relative to the file.
    updates = {}
    for name in data:
        value = getattr(settings, name)
        if isinstance(value, Path) and not value.is_absolute():
            updates[name] = (base / value).resolve()
    # A project's own rubrics (and codebook) beside its config replace the shipped ones.
    own = base / "guidelines"
    if "guidelines" not in data and own.is_dir() and any(own.glob("*.yaml")):
        updates["guidelines"] = own.resolve()
        if "codebook" not in data and (own / "codebook.yaml").is_file():
            updates["codebook"] = (own / "codebook.yaml").resolve()
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
