"""OpenAI chat messages: one JSON object with `messages`, a JSON array of conversations, or JSONL
with one `{"id", "messages", "metadata"}` per line (the main format; streamed line by line)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evaluator.errors import InputError
from evaluator.io import iter_jsonl, read_json
from evaluator.transcripts.base import (
    OnError,
    Reader,
    build_transcript,
    normalise_role,
    read_head,
    register_reader,
)
from evaluator.types import Transcript, Turn

__all__ = ["CHAT_JSON", "conversation_from_object"]

_JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
_JSON_SUFFIXES = (".json", ".json.gz")
_RESERVED = {"id", "messages", "metadata"}


def _is_jsonl(path: Path, head: str) -> bool:
    name = path.name.lower()
    if name.endswith(_JSONL_SUFFIXES):
        return True
    if name.endswith(_JSON_SUFFIXES):
        return False
    lines = [line for line in head.splitlines() if line.strip()]
    if len(lines) < 2 or not lines[0].lstrip().startswith("{"):
        return False
    try:
        json.loads(lines[0])
    except json.JSONDecodeError:
        return False
    return True


def _sniff(path: Path, head: str) -> bool:
    stripped = head.lstrip()
    if path.name.lower().endswith(_JSONL_SUFFIXES):
        return stripped.startswith("{")
    if stripped.startswith("["):
        return '"role"' in head or '"messages"' in head
    return stripped.startswith("{") and '"messages"' in head


def _content(raw: Any, *, file, field: str, line: int | None) -> str | None:
    """Text of a message: a string, or the text parts of a content list; None if it has none."""
    if raw is None:
        return None
    if isinstance(raw, str):
        return raw
    if isinstance(raw, list):
        parts = []
        for index, part in enumerate(raw):
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif not isinstance(part, dict):
                raise InputError(
                    f"content part must be an object or string, got {type(part).__name__}",
                    file=file,
                    field=f"{field}.{index}",
                    line=line,
                )
        return "\n".join(parts) if parts else None
    raise InputError(
        f"content must be a string or a list of parts, got {type(raw).__name__}",
        file=file,
        field=field,
        line=line,
    )


def conversation_from_object(
    obj: Any, *, file: Path, line: int | None, prefix: str, default_id: str
) -> Transcript:
    """One conversation from `{"id", "messages", "metadata"}` or a bare list of messages."""
    if isinstance(obj, list):
        obj = {"messages": obj}
    if not isinstance(obj, dict):
        raise InputError(
            f"expected an object with 'messages', got {type(obj).__name__}",
            file=file,
            line=line,
            field=prefix.rstrip(".") or None,
        )
    messages = obj.get("messages")
    if messages is None:
        raise InputError("missing 'messages'", file=file, line=line, field=f"{prefix}messages")
    if not isinstance(messages, list):
        raise InputError(
            "'messages' must be a list", file=file, line=line, field=f"{prefix}messages"
        )
    turns: list[Turn] = []
    for index, message in enumerate(messages):
        field = f"{prefix}messages.{index}"
        if not isinstance(message, dict):
            raise InputError("message must be an object", file=file, line=line, field=field)
        if "role" not in message:
            raise InputError("missing 'role'", file=file, line=line, field=f"{field}.role")
        role = normalise_role(message["role"], file=file, field=f"{field}.role", line=line)
        text = _content(message.get("content"), file=file, field=f"{field}.content", line=line)
        if role is None or (text is None and message.get("tool_calls")):
            continue  # tool traffic is not part of what the person saw
        turns.append(Turn(role=role, content=text or ""))
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise InputError("metadata must be an object", file=file, line=line, field="metadata")
    extra = {k: v for k, v in obj.items() if k not in _RESERVED}
    return build_transcript(
        transcript_id=obj.get("id", default_id),
        turns=turns,
        metadata={**extra, **metadata},
        source=file,
        line=line,
        field=f"{prefix}messages",
    )


def _guarded(build, on_error: OnError) -> Transcript | None:
    try:
        return build()
    except InputError as exc:
        if on_error is None:
            raise
        on_error(exc)
        return None


def _read(path: Path, on_error: OnError) -> Iterator[Transcript]:
    head = read_head(path)
    stem = path.name.split(".")[0]
    if _is_jsonl(path, head):
        for number, obj in iter_jsonl(
            path,
            strict=on_error is None,
            on_error=(
                (lambda n, msg: on_error(InputError(msg, file=path, line=n))) if on_error else None
            ),
        ):
            transcript = _guarded(
                lambda obj=obj, number=number: conversation_from_object(
                    obj, file=path, line=number, prefix="", default_id=f"{stem}-{number}"
                ),
                on_error,
            )
            if transcript is not None:
                yield transcript
        return
    data = read_json(path)
    if isinstance(data, list) and data and all(isinstance(m, dict) and "role" in m for m in data):
        data = {"messages": data}  # a single conversation given as a bare list of messages
    if isinstance(data, dict):
        transcript = _guarded(
            lambda: conversation_from_object(
                data, file=path, line=None, prefix="", default_id=stem
            ),
            on_error,
        )
        if transcript is not None:
            yield transcript
        return
    if not isinstance(data, list):
        raise InputError("expected a JSON object or array of conversations", file=path)
    if not data:
        raise InputError("empty array: no conversations", file=path)
    for index, item in enumerate(data):
        transcript = _guarded(
            lambda item=item, index=index: conversation_from_object(
                item, file=path, line=None, prefix=f"{index}.", default_id=f"{stem}-{index + 1}"
            ),
            on_error,
        )
        if transcript is not None:
            yield transcript


CHAT_JSON = register_reader(
    Reader(
        name="openai",
        description="OpenAI chat messages: JSON {messages}, JSON array, or JSONL {id, messages, "
        "metadata} per line",
        sniff=_sniff,
        read=_read,
        priority=20,
    )
)
