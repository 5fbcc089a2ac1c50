"""CSV with one row per turn: `conversation_id, turn, role, content`.

Extra columns (e.g. `condition`, `bot`, `prompt_version`) become the conversation's metadata (the
first non-empty value per conversation). Rows may come in any order; turns are sorted by `turn`.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path

from evaluator.errors import InputError
from evaluator.io import open_text
from evaluator.transcripts.base import (
    OnError,
    Reader,
    build_transcript,
    normalise_role,
    register_reader,
)
from evaluator.types import Transcript, Turn

__all__ = ["CSV_TABLE", "REQUIRED_COLUMNS"]

REQUIRED_COLUMNS = ("conversation_id", "turn", "role", "content")


def _sniff(path: Path, head: str) -> bool:
    first = head.lstrip("\ufeff").splitlines()[0] if head.strip() else ""
    columns = {c.strip().strip('"').lower() for c in first.split(",")}
    return set(REQUIRED_COLUMNS) <= columns


class _Conversation:
    def __init__(self, first_line: int) -> None:
        self.first_line = first_line
        self.rows: list[tuple[int, int, str | None, str]] = []  # (turn, line, role, content)
        self.metadata: dict[str, str] = {}
        self.error: InputError | None = None


def _turn_and_role(
    row: dict,
    columns: dict[str, str],
    conversation_id: str,
    conversation: _Conversation,
    *,
    path: Path,
    line: int,
) -> tuple[int, str | None]:
    """The row's turn number (an integer not yet seen in its conversation) and role."""
    raw_turn = (row.get(columns["turn"]) or "").strip()
    try:
        turn = int(raw_turn)
    except ValueError:
        raise InputError(
            f"turn must be an integer, got {raw_turn!r}", file=path, line=line, field="turn"
        ) from None
    role = normalise_role(row.get(columns["role"]) or "", file=path, field="role", line=line)
    if any(existing[0] == turn for existing in conversation.rows):
        raise InputError(
            f"turn {turn} of conversation {conversation_id!r} appears twice",
            file=path,
            line=line,
            field="turn",
        )
    return turn, role


def _read(path: Path, on_error: OnError) -> Iterator[Transcript]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # real exports hold very long messages
    conversations: dict[str, _Conversation] = {}
    with open_text(path) as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            raise InputError("empty CSV file", file=path)
        columns = {name.strip().lower(): name for name in reader.fieldnames if name}
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise InputError(
                f"missing column(s) {', '.join(missing)}; expected {', '.join(REQUIRED_COLUMNS)}",
                file=path,
                line=1,
            )
        extra = [c for c in columns if c not in REQUIRED_COLUMNS]
        for row in reader:
            line = reader.line_num
            conversation_id = (row.get(columns["conversation_id"]) or "").strip()
            if not conversation_id:
                error = InputError("empty conversation_id", file=path, line=line, field="id")
                if on_error is None:
                    raise error
                on_error(error)
                continue
            conversation = conversations.setdefault(conversation_id, _Conversation(line))
            if conversation.error is not None:
                continue
            try:
                turn, role = _turn_and_role(
                    row, columns, conversation_id, conversation, path=path, line=line
                )
            except InputError as exc:
                if on_error is None:
                    raise
                conversation.error = exc
                continue
            conversation.rows.append((turn, line, role, row.get(columns["content"]) or ""))
            for column in extra:
                value = (row.get(columns[column]) or "").strip()
                if value and column not in conversation.metadata:
                    conversation.metadata[column] = value
    for conversation_id, conversation in conversations.items():
        if conversation.error is not None:
            on_error(conversation.error)  # only set when on_error is given
            continue
        turns = [
            Turn(role=role, content=content)
            for _, _, role, content in sorted(conversation.rows)
            if role is not None
        ]
        try:
            yield build_transcript(
                transcript_id=conversation_id,
                turns=turns,
                metadata=conversation.metadata,
                source=path,
                line=conversation.first_line,
                field="content",
            )
        except InputError as exc:
            if on_error is None:
                raise
            on_error(exc)


CSV_TABLE = register_reader(
    Reader(
        name="csv",
        description="CSV, one row per turn: conversation_id, turn, role, content[, metadata...]",
        sniff=_sniff,
        read=_read,
        priority=30,
    )
)
