"""The reader registry, format auto-detection and the one entry point `read_transcripts`.

Policy for bad input (the same for every reader):

* structural problems (malformed JSON/CSV, missing or wrongly typed fields, unknown roles) and
  conversations that cannot be scored (no turns, no assistant turn) raise `InputError` naming
  the file, line and field; with ``skip_invalid=True`` that record is skipped and reported to
  ``on_skip`` instead, so one broken record does not block an audit of thousands;
* a file inside a directory that no reader recognises (a README, a licence) is skipped and
  reported; a file named explicitly that no reader recognises raises `UnknownFormatError`;
* transcript ids must be unique across the inputs (results, labels and JUnit cases join on them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluator.errors import InputError, UnknownFormatError
from evaluator.io import LongNumber, check_readable_file, open_text
from evaluator.registry import Registry
from evaluator.types import Transcript, Turn

__all__ = [
    "Reader",
    "Skipped",
    "READERS",
    "register_reader",
    "detect_format",
    "iter_transcripts",
    "read_transcripts",
    "normalise_role",
    "build_transcript",
    "OnError",
    "read_head",
]

#: How many characters of a file detection looks at.
SNIFF_CHARS = 65536

#: Longest transcript id: ids name results, labels and JUnit test cases.
MAX_ID_CHARS = 256

#: Role names seen in exports, mapped to the three roles of a Transcript. `None` = not shown to
#: the person (tool results), dropped.
ROLE_ALIASES: dict[str, str | None] = {
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "ai": "assistant",
    "bot": "assistant",
    "chatbot": "assistant",
    "model": "assistant",
    "system": "system",
    "developer": "system",
    "tool": None,
    "function": None,
    "ipython": None,
}


@dataclass(frozen=True)
class Skipped:
    """A file or record that was not read, and why (shown in the run summary)."""

    source: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.source + (f":{self.line}" if self.line is not None else "")
        return f"{where}: {self.reason}"


OnError = Callable[[InputError], None] | None


@dataclass(frozen=True)
class Reader:
    """A transcript format: `sniff` says whether a file looks like it, `read` parses it.

    `read(path, on_error)` yields transcripts; a record-level `InputError` goes to `on_error`
    when given (the record is then skipped), else it is raised.
    """

    name: str
    description: str
    sniff: Callable[[Path, str], bool]
    read: Callable[[Path, OnError], Iterator[Transcript]]
    priority: int = 50  # detection tries readers in ascending priority: specific formats first


#: Transcript formats, in detection order (ascending priority, then name).
READERS: Registry[Reader] = Registry(
    "transcript format",
    error=InputError,
    field="--format",
    key=lambda r: (r.priority, r.name),
    also=["auto"],
)


def register_reader(reader: Reader) -> Reader:
    """Make a reader available to auto-detection and as `--format NAME`."""
    return READERS.register(reader.name, reader)


def read_head(path: Path) -> str:
    """The first characters of a file, for sniffing."""
    with open_text(path) as handle:
        return handle.read(SNIFF_CHARS)


def detect_format(path: str | Path) -> Reader:
    """The first registered reader whose sniffer accepts the file."""
    path = Path(path)
    head = read_head(path)
    readers = READERS.values()
    for reader in readers:
        if reader.sniff(path, head):
            return reader
    raise UnknownFormatError(
        f"no reader recognises this file (tried {', '.join(r.name for r in readers)}); "
        "use --format to force one",
        file=path,
    )


def normalise_role(
    raw: Any, *, file: str | Path, field: str, line: int | None = None
) -> str | None:
    """Map an export's role name to user/assistant/system; None for roles that are dropped."""
    if not isinstance(raw, str):
        raise InputError(f"role must be a string, got {raw!r}", file=file, field=field, line=line)
    key = raw.strip().lower()
    if key not in ROLE_ALIASES:
        known = ", ".join(sorted(k for k, v in ROLE_ALIASES.items() if v))
        raise InputError(
            f"unknown role {raw!r} (known: {known})", file=file, field=field, line=line
        )
    return ROLE_ALIASES[key]


def build_transcript(
    *,
    transcript_id: Any,
    turns: list[Turn],
    metadata: dict[str, Any] | None,
    source: str | Path,
    line: int | None = None,
    field: str = "messages",
) -> Transcript:
    """Validate a parsed conversation: it must have turns and at least one assistant turn."""
    if transcript_id is None or (isinstance(transcript_id, str) and not transcript_id.strip()):
        raise InputError("missing transcript id", file=source, line=line, field="id")
    if isinstance(transcript_id, bool) or not isinstance(transcript_id, str | int):
        raise InputError(
            f"id must be a string or integer, got {type(transcript_id).__name__}",
            file=source,
            line=line,
            field="id",
        )
    if isinstance(transcript_id, int):
        # str() of an int over 4300 digits raises: count bits first
        length = len(str(transcript_id)) if transcript_id.bit_length() <= 4096 else None
        kind = "a number"
    else:
        length = len(transcript_id)
        kind = "a number" if isinstance(transcript_id, LongNumber) else "a string"
    if length is None or length > MAX_ID_CHARS:
        size = f"{length} characters" if length is not None else "over 1,000 digits"
        raise InputError(
            f"id is {kind} {size} long; ids have at most {MAX_ID_CHARS} characters",
            file=source,
            line=line,
            field="id",
        )
    if metadata is not None and not isinstance(metadata, dict):
        raise InputError("metadata must be an object", file=source, line=line, field="metadata")
    if not turns:
        raise InputError("empty conversation (no turns)", file=source, line=line, field=field)
    if not any(turn.role == "assistant" for turn in turns):
        raise InputError("no assistant turn: nothing to score", file=source, line=line, field=field)
    where = str(source) + (f":{line}" if line is not None else "")
    return Transcript(id=str(transcript_id), turns=turns, metadata=metadata or {}, source=where)


def _expand(paths: Iterable[str | Path]) -> Iterator[tuple[Path, bool]]:
    """Files to read, in a deterministic order; the flag says whether it came from a directory."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(
                (
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                ),
                key=lambda p: p.relative_to(path).as_posix(),
            )
            for file in files:
                yield file, True
        else:
            yield check_readable_file(path), False  # a pipe or device is refused, not waited on


def iter_transcripts(
    paths: Iterable[str | Path],
    fmt: str = "auto",
    *,
    skip_invalid: bool = False,
    on_skip: Callable[[Skipped], None] | None = None,
) -> Iterator[Transcript]:
    """Stream transcripts from files and directories (recursive, sorted).

    `fmt` is `auto` or a reader name. A forced format reads named files without sniffing, but
    inside a directory only files that look like that format. Unrecognised files inside a
    directory are reported to `on_skip`; invalid records raise unless `skip_invalid` (then they
    are reported too).
    """
    forced = None if fmt == "auto" else READERS.get(fmt)
    seen: dict[str, str] = {}

    def report(skip: Skipped) -> None:
        if on_skip is not None:
            on_skip(skip)

    def on_error(exc: InputError) -> None:
        report(Skipped(source=exc.file or "?", line=exc.line, reason=_reason(exc)))

    found_any = False
    for path, from_directory in _expand(paths):
        if forced is not None:
            reader = forced
            if from_directory and not forced.sniff(path, read_head(path)):
                # a README or licence beside the transcripts is not one of them
                report(Skipped(source=str(path), reason=f"not in the {forced.name} format"))
                continue
        else:
            try:
                reader = detect_format(path)
            except UnknownFormatError as exc:
                if from_directory:
                    report(Skipped(source=str(path), reason="not a recognised transcript format"))
                    continue
                raise exc from None
        try:
            for transcript in reader.read(path, on_error if skip_invalid else None):
                previous = seen.get(transcript.id)
                if previous is not None:
                    duplicate = InputError(
                        f"duplicate transcript id {transcript.id!r} (first read from {previous})",
                        file=transcript.source,
                        field="id",
                    )
                    if not skip_invalid:
                        raise duplicate
                    on_error(duplicate)
                    continue
                seen[transcript.id] = transcript.source or str(path)
                found_any = True
                yield transcript
        except InputError as exc:
            if not skip_invalid:
                raise
            on_error(exc)  # a file-level problem: the rest of this file is skipped
    if not found_any:
        raise InputError(
            "no transcripts found in " + ", ".join(str(p) for p in paths), field="TRANSCRIPTS"
        )


def _reason(exc: InputError) -> str:
    return f"{exc.field}: {exc.message}" if exc.field else exc.message


def read_transcripts(
    paths: str | Path | Iterable[str | Path],
    fmt: str = "auto",
    *,
    skip_invalid: bool = False,
    on_skip: Callable[[Skipped], None] | None = None,
) -> list[Transcript]:
    """All transcripts of the given files/directories, in a deterministic order."""
    if isinstance(paths, str | Path):
        paths = [paths]
    return list(iter_transcripts(list(paths), fmt, skip_invalid=skip_invalid, on_skip=on_skip))
