"""Utterance files such as the MIBot counselling transcripts (Mahmood et al., ACL 2025):
`{"participant_id", "utterances": [{"speaker": "counsellor"|"client", "text", ...}]}`.

The counsellor is the assistant and the client the user. Consecutive utterances of one speaker
form one turn, joined by spaces (the bot sent them as one volley of sentences).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from evaluator.errors import InputError
from evaluator.io import read_json
from evaluator.transcripts.base import OnError, Reader, build_transcript, register_reader
from evaluator.types import Transcript, Turn

__all__ = ["UTTERANCES", "SPEAKERS"]

SPEAKERS = {
    "counsellor": "assistant",
    "counselor": "assistant",
    "therapist": "assistant",
    "assistant": "assistant",
    "bot": "assistant",
    "client": "user",
    "user": "user",
    "patient": "user",
}

_KEY = re.compile(r'"utterances"\s*:')


def _sniff(path: Path, head: str) -> bool:
    return head.lstrip().startswith("{") and bool(_KEY.search(head)) and '"speaker"' in head


def _parse(path: Path) -> Transcript:
    data = read_json(path)
    if not isinstance(data, dict):
        raise InputError("expected a JSON object with 'utterances'", file=path)
    utterances = data.get("utterances")
    if not isinstance(utterances, list):
        raise InputError("'utterances' must be a list", file=path, field="utterances")
    turns: list[Turn] = []
    for index, utterance in enumerate(utterances):
        field = f"utterances.{index}"
        if not isinstance(utterance, dict):
            raise InputError("utterance must be an object", file=path, field=field)
        speaker = utterance.get("speaker")
        role = SPEAKERS.get(str(speaker).strip().lower()) if isinstance(speaker, str) else None
        if role is None:
            raise InputError(
                f"unknown speaker {speaker!r} (known: {', '.join(SPEAKERS)})",
                file=path,
                field=f"{field}.speaker",
            )
        text = utterance.get("text")
        if not isinstance(text, str):
            raise InputError("'text' must be a string", file=path, field=f"{field}.text")
        text = text.strip()
        if turns and turns[-1].role == role:
            turns[-1] = Turn(role=role, content=f"{turns[-1].content} {text}".strip())
        else:
            turns.append(Turn(role=role, content=text))
    metadata = {k: v for k, v in data.items() if k not in ("utterances", "participant_id")}
    return build_transcript(
        transcript_id=data.get("participant_id", path.stem),
        turns=turns,
        metadata=metadata,
        source=path,
        field="utterances",
    )


def _read(path: Path, on_error: OnError) -> Iterator[Transcript]:
    try:
        yield _parse(path)
    except InputError as exc:
        if on_error is None:
            raise
        on_error(exc)


UTTERANCES = register_reader(
    Reader(
        name="utterances",
        description="utterance files (MIBot): participant_id, utterances[{speaker, text}]",
        sniff=_sniff,
        read=_read,
        priority=10,
    )
)
