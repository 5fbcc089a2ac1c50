"""The shipped examples (transcripts, and a tiny bot with a careful and a "helpful" system
prompt), reachable from an installed mheval: the README and docs use `examples/...` paths, which
`copy_examples` lays out in any folder."""

from __future__ import annotations

from pathlib import Path

from evaluator.config import project_root
from evaluator.errors import ConfigError, InputError
from evaluator.io import atomic_write

__all__ = ["examples_dir", "copy_examples"]


def examples_dir() -> Path:
    """The shipped `examples/` folder (inside the installed package, or the checkout's)."""
    folder = project_root() / "examples"
    if not folder.is_dir():
        raise ConfigError("shipped examples not found (set MHEVAL_HOME to a checkout)", file=folder)
    return folder


def copy_examples(dest: Path, *, force: bool = False) -> list[Path]:
    """Copy the examples to `dest/examples` and return the files written. An existing file is
    an `InputError` unless `force`: a user's edited prompt is never overwritten silently."""
    source = examples_dir()
    files = [
        path
        for path in sorted(source.rglob("*"))
        if path.is_file() and "__pycache__" not in path.relative_to(source).parts
    ]
    targets = [dest / "examples" / path.relative_to(source) for path in files]
    if not force:
        for target in targets:
            if target.exists():
                raise InputError("already exists; use --force to overwrite", file=target)
    for path, target in zip(files, targets, strict=True):
        with atomic_write(target, mode="wb") as handle:
            handle.write(path.read_bytes())
    return targets
