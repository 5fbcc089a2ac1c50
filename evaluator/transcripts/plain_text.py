"""Plain text, one conversation per file: lines starting `User:`, `Assistant:` or `System:`
(also `Human:`, case-insensitive, optionally in **bold**) open a turn; other lines continue it.

Lines `# key: value` before the first turn are metadata, e.g. `# condition: adhd`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from evaluator.errors import InputError
from evaluator.io import open_text
from evaluator.transcripts.base import OnError, Reader, build_transcript, register_reader
from evaluator.types import Transcript, Turn

__all__ = ["PLAIN_TEXT"]

_PREFIX = re.compile(
    r"^\s*(?:\*\*)?(user|human|assistant|system)(?:\*\*)?\s*:(?:\*\*)?[ \t]?(.*)$", re.IGNORECASE
)
_META = re.compile(r"^#\s*([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")
_ROLES = {"user": "user", "human": "user", "assistant": "assistant", "system": "system"}


def _sniff(path: Path, head: str) -> bool:
    if head.lstrip().startswith(("{", "[")):
        return False
    roles = {m.group(1).lower() for line in head.splitlines() if (m := _PREFIX.match(line))}
    return bool(roles & {"user", "human"}) and "assistant" in roles


def _read(path: Path, on_error: OnError) -> Iterator[Transcript]:
    turns: list[tuple[str, list[str]]] = []
    metadata: dict[str, str] = {}
    with open_text(path) as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            match = _PREFIX.match(line)
            if match:
                turns.append((_ROLES[match.group(1).lower()], [match.group(2)]))
            elif turns:
                turns[-1][1].append(line)
            elif (meta := _META.match(line)) is not None:
                metadata[meta.group(1)] = meta.group(2)
            elif line.strip():
                error = InputError(
                    "text before the first 'User:' / 'Assistant:' line",
                    file=path,
                    line=number,
                )
                if on_error is None:
                    raise error
                on_error(error)
                return
    try:
        yield build_transcript(
            transcript_id=metadata.pop("id", path.stem),
            turns=[Turn(role=role, content="\n".join(lines).strip()) for role, lines in turns],
            metadata=metadata,
            source=path,
            field="turns",
        )
    except InputError as exc:
        if on_error is None:
            raise
        on_error(exc)


PLAIN_TEXT = register_reader(
    Reader(
        name="text",
        description="plain text with User: / Assistant: / System: prefixes (multi-line turns)",
        sniff=_sniff,
        read=_read,
        priority=40,
    )
)
