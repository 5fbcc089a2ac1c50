"""File IO shared by every stage: atomic writes, streaming JSONL (plain or gzip), strict YAML.

Stages never write an artefact in place: they write a temporary file beside the target and rename
it, so an interrupted run leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from evaluator.errors import ConfigError, InputError

__all__ = [
    "atomic_write",
    "open_text",
    "iter_jsonl",
    "write_jsonl",
    "write_json",
    "read_json",
    "load_yaml_model",
    "validation_error_to_message",
    "dump_yaml",
    "file_sha256",
]

M = TypeVar("M", bound=BaseModel)

# libyaml's C parser when present: rubric folders are loaded on every score, and the pure-Python
# parser is ten times slower.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _is_gzip(path: Path) -> bool:
    return path.suffix == ".gz"


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temp file next to `path`; on success fsync and rename over `path`, else delete it.

    A `.gz` suffix writes gzip. Binary modes ("wb") are supported.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    # mkstemp creates 0600; give the artefact the permissions a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    binary = "b" in mode
    try:
        with os.fdopen(fd, "wb") as raw:
            if _is_gzip(path):
                # mtime=0 keeps the output byte-identical across runs.
                with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                    handle = gz if binary else io.TextIOWrapper(gz, encoding=encoding)
                    yield handle
                    handle.flush()
                    if not binary:
                        handle.detach()
            else:
                handle = raw if binary else io.TextIOWrapper(raw, encoding=encoding)
                yield handle
                handle.flush()
                if not binary:
                    handle.detach()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def open_text(path: str | Path) -> IO[str]:
    """Open a text file (gzip if `.gz`), decoding UTF-8 and replacing undecodable bytes.

    Exports from real platforms are sometimes Latin-1 or cut mid-character; a replacement
    character is better than refusing the whole file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    if path.is_dir():
        raise InputError("expected a file, got a directory", file=path)
    if _is_gzip(path):
        return gzip.open(path, "rt", encoding="utf-8-sig", errors="replace")
    return open(path, encoding="utf-8-sig", errors="replace", newline="")


def iter_jsonl(
    path: str | Path, *, strict: bool = True, on_error=None
) -> Iterator[tuple[int, Any]]:
    """Yield (line_number, object) for each non-blank line, streaming.

    A malformed line raises `InputError` naming file:line when `strict`; otherwise it is passed to
    `on_error(line_number, message)` and skipped.
    """
    with open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                message = f"malformed JSON ({exc.msg} at column {exc.colno})"
                if strict:
                    raise InputError(message, file=path, line=number) from None
                if on_error is not None:
                    on_error(number, message)


def _default(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def write_jsonl(path: str | Path, rows: Iterable[Any]) -> int:
    """Write rows (dicts or pydantic models) as JSONL atomically; return the count."""
    count = 0
    with atomic_write(path) as handle:
        for row in rows:
            if isinstance(row, BaseModel):
                line = row.model_dump_json(exclude_none=False)
            else:
                line = json.dumps(row, ensure_ascii=False, default=_default)
            handle.write(line + "\n")
            count += 1
    return count


def write_json(path: str | Path, data: Any) -> None:
    """Write one JSON document atomically, pretty-printed for diffs."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    with atomic_write(path) as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2, default=_default)
        handle.write("\n")


def read_json(path: str | Path) -> Any:
    """Read one JSON document; a syntax error names the file and line."""
    with open_text(path) as handle:
        text = handle.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON ({exc.msg})", file=path, line=exc.lineno) from None


def validation_error_to_message(exc: ValidationError) -> tuple[str, str]:
    """Return (field path, message) of the first error, e.g. ('criteria.3.weight', '...')."""
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first.get("loc", ())) or "<root>"
    message = first.get("msg", "invalid value")
    if first.get("type") == "extra_forbidden":
        message = "unknown key (not allowed by the schema)"
    extra = len(exc.errors()) - 1
    if extra:
        message += f" (+{extra} more error{'s' if extra > 1 else ''})"
    return field, message


def load_yaml_model(path: str | Path, model: type[M], *, error=ConfigError) -> M:
    """Parse a YAML file into a pydantic model; any problem names the file and field."""
    path = Path(path)
    with open_text(path) as handle:
        try:
            data = yaml.load(handle, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or "invalid YAML"
            raise error(f"malformed YAML: {problem}", file=path, line=line) from None
    if data is None:
        raise error("file is empty", file=path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        field, message = validation_error_to_message(exc)
        raise error(message, file=path, field=field) from None


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, streamed: artefacts record what they were built from."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dump_yaml(data: Any) -> str:
    """Readable YAML: keys in model order, unicode kept, long strings not wrapped."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json", exclude_none=True)
    return yaml.dump(data, Dumper=_YAML_DUMPER, sort_keys=False, allow_unicode=True, width=100)
