"""File IO shared by every stage: atomic writes, streaming JSONL (plain or gzip), strict YAML.

Stages never write an artefact in place: they write a temporary file beside the target and rename
it, so an interrupted run leaves either the old file or the new one, never half of one. The
temporary file (``.NAME.PID-XXXX.tmp``) is removed on any exception, on Ctrl-C and SIGTERM
(`remove_temp_files`, called by the console script's signal handler and at exit); one left by a
killed process is removed by the next successful write of the same file.

Every reader refuses hostile input with an `InputError` naming the file (and line): folders,
named pipes and devices, `.gz` files that are not gzip or are cut short, JSON nested deeper than
`MAX_JSON_DEPTH`, JSON documents over `MAX_JSON_DOCUMENT_CHARS` and JSONL lines over
`MAX_JSONL_LINE_CHARS`.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import gzip
import io
import json
import os
import re
import tempfile
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from evaluator.errors import ConfigError, InputError

if TYPE_CHECKING:
    from evaluator.types import CheckReport, RunRecord, ScoreRun

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_JSON_DOCUMENT_CHARS",
    "MAX_JSONL_LINE_CHARS",
    "atomic_write",
    "remove_temp_files",
    "check_writable",
    "check_readable_file",
    "parse_json",
    "check_depth",
    "bounded_lines",
    "open_text",
    "iter_jsonl",
    "write_json",
    "read_json",
    "read_model",
    "validate_model",
    "load_yaml_model",
    "read_score_run",
    "write_score_run",
    "read_check",
    "read_run",
    "write_run",
    "validation_error_to_message",
    "dump_yaml",
    "file_sha256",
]

M = TypeVar("M", bound=BaseModel)

# libyaml's C parser when present: rubric folders are loaded on every score, and the pure-Python
# parser is ten times slower.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


#: Deepest nesting of lists and objects a JSON, YAML or TOML input may have. Real exports nest a
#: dozen levels (a Reddit listing with its comment tree); thousands exhaust the parser's stack.
MAX_JSON_DEPTH = 200
#: Largest JSON document read whole (run files, JSON exports); JSONL streams instead.
MAX_JSON_DOCUMENT_CHARS = 512 * 1024 * 1024
#: Longest JSONL line (one conversation or post).
MAX_JSONL_LINE_CHARS = 64 * 1024 * 1024
# The digits Python converts to an int (sys.get_int_max_str_digits(), 4300 by default).
_MAX_INT_DIGITS = 4300

_GZIP_MAGIC = b"\x1f\x8b"
# A full disk or quota is the user's to fix, not a bug.
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def _is_gzip(path: Path) -> bool:
    return path.suffix == ".gz"


# --- temporary files ---------------------------------------------------------------------------

_LIVE_TEMPS: set[Path] = set()
_LIVE_LOCK = threading.Lock()


def remove_temp_files() -> None:
    """Delete the temporary files of atomic writes still open in this process.

    Safe to call from a signal handler (no lock is waited on) and at exit; a write whose temp
    file was removed fails instead of renaming.
    """
    for tmp in list(_LIVE_TEMPS):
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


atexit.register(remove_temp_files)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, owned by someone else
        return True
    return True


def _sweep_stale_temps(path: Path) -> None:
    """Remove `.NAME.PID-XXXX.tmp` beside `path` left by processes that no longer run."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(\d+)-[^./]+\.tmp")
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    prefix = f".{path.name}."
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        match = pattern.fullmatch(entry.name)
        if match is None:
            continue
        pid = int(match.group(1))
        if pid != os.getpid() and not _pid_alive(pid):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _nearest_existing(path: Path) -> Path:
    for folder in (path, *path.parents):
        if folder.exists() or folder.is_symlink():
            return folder
    return Path.cwd()


def check_writable(path: str | Path, *, field: str | None = None) -> None:
    """Refuse an output path that cannot be written, before any work is done.

    A folder, a pipe or device, a parent that is a file, or a folder this process cannot create
    files in is an `InputError` naming the path and `field` (the option).
    """
    path = Path(path)
    if path.is_dir():
        raise InputError("is a folder; give a file name", file=path, field=field)
    if path.exists() and not path.is_file():
        raise InputError(
            "is not a regular file (a named pipe, socket or device)", file=path, field=field
        )
    folder = _nearest_existing(path.parent)
    if not folder.is_dir():
        raise InputError(f"cannot write: {folder} is not a folder", file=path, field=field)
    try:  # os.access says yes to root on a read-only or virtual file system: really try
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=folder)
    except OSError as exc:
        raise InputError(
            f"cannot write in {folder}: {exc.strerror or exc}", file=path, field=field
        ) from None
    os.close(fd)
    os.unlink(probe)


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temp file next to `path`; on success fsync and rename over `path`, else delete it.

    A `.gz` suffix writes gzip. Binary modes ("wb") are supported. A path that cannot be written
    (its folder cannot be created, it is a folder) is an `InputError`.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError("is a folder; give a file name", file=path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp", dir=path.parent
        )
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", file=path) from None
    tmp = Path(tmp_name)
    with _LIVE_LOCK:
        _LIVE_TEMPS.add(tmp)
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
        try:
            os.replace(tmp, path)
        except IsADirectoryError:
            raise InputError("is a folder; give a file name", file=path) from None
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
            raise InputError(f"cannot write: {exc.strerror}", file=path) from None
        raise
    finally:
        with _LIVE_LOCK:
            _LIVE_TEMPS.discard(tmp)
    _sweep_stale_temps(path)


# --- reading -----------------------------------------------------------------------------------


def check_readable_file(path: str | Path, *, field: str | None = None, error=InputError) -> Path:
    """`path` as a Path if it is an existing regular file; else `error` saying what it is.

    A named pipe or device would block or never end: it is refused, not opened.
    """
    path = Path(path)
    if not path.exists():
        raise error("file not found", file=path, field=field)
    if path.is_dir():
        raise error("expected a file, got a directory", file=path, field=field)
    if not path.is_file():
        raise error(
            "not a regular file (a named pipe, socket or device); give a file",
            file=path,
            field=field,
        )
    return path


class _CheckedGzipFile(gzip.GzipFile):
    """A gzip reader whose corrupt or truncated data is an `InputError` naming the file."""

    def _checked(self, method, *args):
        try:
            return method(*args)
        except (OSError, EOFError, zlib.error) as exc:
            if isinstance(exc, EOFError):
                reason = "the file is cut short"
            else:
                reason = str(exc) or type(exc).__name__
            raise InputError(f"corrupt gzip data ({reason})", file=self.name) from None

    def read(self, size=-1):
        return self._checked(super().read, size)

    def read1(self, size=-1):
        return self._checked(super().read1, size)

    def readinto(self, b):
        return self._checked(super().readinto, b)

    def readline(self, size=-1):
        return self._checked(super().readline, size)

    def peek(self, n):
        return self._checked(super().peek, n)


def open_text(path: str | Path) -> IO[str]:
    """Open a text file (gzip if `.gz`), decoding UTF-8 and replacing undecodable bytes.

    Exports from real platforms are sometimes Latin-1 or cut mid-character; a replacement
    character is better than refusing the whole file. A `.gz` file must start with the gzip
    magic bytes; corrupt or truncated gzip data is an `InputError` when it is read.
    """
    path = check_readable_file(path)
    if _is_gzip(path):
        try:
            with open(path, "rb") as raw:
                magic = raw.read(2)
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", file=path) from None
        if magic != _GZIP_MAGIC:
            raise InputError(
                "not a gzip file (the name ends in .gz, the content is not gzip); "
                "rename it without .gz or compress it",
                file=path,
            )
        gz = _CheckedGzipFile(str(path), "rb")
        return io.TextIOWrapper(gz, encoding="utf-8-sig", errors="replace")
    try:
        return open(path, encoding="utf-8-sig", errors="replace", newline="")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=path) from None


def check_depth(value: Any, *, file=None, line: int | None = None, what: str = "JSON") -> Any:
    """`value` if its lists and objects nest at most `MAX_JSON_DEPTH` deep, else `InputError`.

    Iterative, and each container is visited once (YAML aliases can share or even contain
    themselves).
    """
    if not isinstance(value, dict | list):
        return value
    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise InputError(
                f"{what} nested too deeply (more than {MAX_JSON_DEPTH} levels)",
                file=file,
                line=line,
            )
        if id(item) in seen:
            continue
        seen.add(id(item))
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return value


class LongNumber(str):
    """A JSON integer with more digits than Python converts (4300), kept as its digits so that
    the field holding it can say so (`id: ... 5000 characters long`)."""


def _parse_int(digits: str) -> int | str:
    if len(digits.lstrip("-")) > _MAX_INT_DIGITS:
        return LongNumber(digits)
    return int(digits)


def parse_json(text: str, *, file=None, line: int | None = None) -> Any:
    """`json.loads` with the limits of every reader: depth, and integers of any length.

    Malformed or too deeply nested text is an `InputError` naming `file` (and `line`, for JSONL).
    """
    try:
        value = json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        where = line if line is not None else exc.lineno
        detail = f" at column {exc.colno}" if line is not None else ""
        raise InputError(f"malformed JSON ({exc.msg}{detail})", file=file, line=where) from None
    except RecursionError:
        raise InputError(
            f"JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)", file=file, line=line
        ) from None
    # a cheap test first: fewer brackets than the limit cannot nest deeper than it
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH:
        check_depth(value, file=file, line=line)
    return value


def bounded_lines(handle: IO[str], limit: int) -> Iterator[tuple[int, str | None]]:
    """(number, line) of a text stream; None for a line longer than `limit` (skipped unread)."""
    number = 0
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(("\n", "\r")):
            while True:  # the rest of the long line, in bounded pieces
                rest = handle.readline(1 << 20)
                if not rest or rest.endswith(("\n", "\r")):
                    break
            yield number, None
            continue
        yield number, line


def iter_jsonl(
    path: str | Path, *, strict: bool = True, on_error=None
) -> Iterator[tuple[int, Any]]:
    """Yield (line_number, object) for each non-blank line, streaming.

    A malformed line raises `InputError` naming file:line when `strict`; otherwise it is passed to
    `on_error(line_number, message)` and skipped.
    """
    with open_text(path) as handle:
        for number, line in bounded_lines(handle, MAX_JSONL_LINE_CHARS):
            if line is None:
                error = InputError(
                    f"line longer than {MAX_JSONL_LINE_CHARS:,} characters", file=path, line=number
                )
            elif not line.strip():
                continue
            else:
                try:
                    value = parse_json(line, file=path, line=number)
                except InputError as exc:
                    error = exc
                else:
                    yield number, value
                    continue
            if strict:
                raise error
            if on_error is not None:
                on_error(number, error.message)


def _default(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


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
        text = handle.read(MAX_JSON_DOCUMENT_CHARS + 1)
    if len(text) > MAX_JSON_DOCUMENT_CHARS:
        raise InputError(
            f"JSON document larger than {MAX_JSON_DOCUMENT_CHARS:,} characters; "
            "give JSONL (one object per line) instead",
            file=path,
        )
    return parse_json(text, file=path)


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


def _read_yaml(path: Path, error) -> Any:
    """One YAML document; malformed, empty or too deeply nested is `error` naming the file."""
    with open_text(path) as handle:
        try:
            data = yaml.load(handle, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or "invalid YAML"
            raise error(f"malformed YAML: {problem}", file=path, line=line) from None
        except RecursionError:
            raise error(
                f"YAML nested too deeply (more than {MAX_JSON_DEPTH} levels)", file=path
            ) from None
    if data is None:
        raise error("file is empty", file=path)
    try:
        check_depth(data, file=path, what="YAML")
    except InputError as exc:
        raise error(exc.message, file=path) from None
    return data


def load_yaml_model(path: str | Path, model: type[M], *, error=ConfigError) -> M:
    """Parse a YAML file (whatever its name) into a pydantic model: rubrics, codebooks,
    scenarios, overrides. Any problem names the file and field.

    These files are written by hand, so `format_version` may be left out; one that is given
    must be the model's own (its default).
    """
    path = Path(path)
    data = _read_yaml(path, error)
    declared = model.model_fields.get("format_version")
    version = None
    if declared is not None and isinstance(data, dict) and "format_version" in data:
        version = declared.default
    return validate_model(
        data, model, file=path, version=version, what=f"{model.__name__} file", error=error
    )


def validate_model(
    data: Any,
    model: type[M],
    *,
    file: str | Path,
    version: int | None = None,
    what: str = "file",
    error=InputError,
    hint: str = "",
) -> M:
    """`data` as `model`, after checking its `format_version` is `version` (when given).

    A missing or other version, or data the schema refuses, is `error` naming `file` and the
    field (`error` is an error class, or a function of message, file and field that makes
    one). `what` names the artefact in the message ("run file (written by `mheval run`)");
    `hint` says what to do ("re-run `mheval findings`").
    """
    suffix = f"; {hint}" if hint else ""
    if version is not None:
        found = data.get("format_version") if isinstance(data, dict) else None
        if found is None:
            raise error(
                f"not a {what}: no format_version{suffix}", file=file, field="format_version"
            )
        if found != version:
            raise error(
                f"{what} format_version {found!r} is not supported (this mheval reads "
                f"{version}){suffix}",
                file=file,
                field="format_version",
            )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        field, message = validation_error_to_message(exc)
        raise error(message + suffix, file=file, field=field) from None


def read_model(
    path: str | Path,
    model: type[M],
    *,
    version: int | None = None,
    what: str = "file",
    error=InputError,
    hint: str = "",
) -> M:
    """Read a JSON artefact (YAML for `.yaml`/`.yml`) into `model`, checking its
    `format_version` when `version` is given: the one parse path of every versioned file.

    Any problem (unreadable, malformed, wrong version, wrong schema) is `error` naming the file
    and, where there is one, the field (see `validate_model`).
    """
    path = Path(path)
    if path.suffix in (".yaml", ".yml"):
        data = _read_yaml(path, error)
    else:
        try:
            data = read_json(path)
        except InputError as exc:
            if error is InputError:
                raise
            raise error(exc.message, file=exc.file, line=exc.line) from None
    return validate_model(
        data, model, file=path, version=version, what=what, error=error, hint=hint
    )


# --- the result artefacts: one named reader and writer each ------------------------------------


def read_score_run(path: str | Path) -> ScoreRun:
    """A file written by `mheval score --out`, of this version."""
    from evaluator.types import SCORE_FORMAT_VERSION, ScoreRun

    return read_model(
        path,
        ScoreRun,
        version=SCORE_FORMAT_VERSION,
        what="score run (written by `mheval score --out`)",
        hint="re-score with this mheval",
    )


def write_score_run(path: str | Path, run: ScoreRun) -> None:
    write_json(path, run)


def read_check(path: str | Path) -> CheckReport:
    """A report written by `mheval --json check ... > FILE`."""
    from evaluator.types import CHECK_FORMAT_VERSION, CheckReport

    return read_model(
        path,
        CheckReport,
        version=CHECK_FORMAT_VERSION,
        what="check report (written by `mheval --json check`)",
        hint="re-run `mheval check`",
    )


def read_run(path: str | Path) -> RunRecord:
    """A run or baseline file written by `mheval run` / `mheval baseline bless`."""
    from evaluator.types import RUN_FORMAT_VERSION, RunRecord

    return read_model(
        path, RunRecord, version=RUN_FORMAT_VERSION, what="run file (written by `mheval run`)"
    )


def write_run(path: str | Path, run: RunRecord) -> None:
    write_json(path, run)


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, streamed: artefacts record what they were built from."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dump_yaml(data: Any) -> str:
    """Readable YAML: keys in model order under their aliases (what the loader reads), unicode
    kept, long lines wrapped at 100."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json", by_alias=True, exclude_none=True)
    return yaml.dump(data, Dumper=_YAML_DUMPER, sort_keys=False, allow_unicode=True, width=100)
