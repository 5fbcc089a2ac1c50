"""Transcript readers: OpenAI chat JSON/JSONL, CSV, plain text and utterance files, auto-detected.

`read_transcripts(paths, fmt="auto")` is the entry point; `register_reader` adds a format.
"""

# Importing the format modules registers their readers.
from evaluator.transcripts import chat_json, csv_table, plain_text, utterances
from evaluator.transcripts.base import (
    READERS,
    Reader,
    Skipped,
    detect_format,
    iter_transcripts,
    read_transcripts,
    register_reader,
)

__all__ = [
    "READERS",
    "Reader",
    "Skipped",
    "chat_json",
    "csv_table",
    "detect_format",
    "iter_transcripts",
    "plain_text",
    "read_transcripts",
    "register_reader",
    "utterances",
]
