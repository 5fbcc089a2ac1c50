"""Sentences as (start, end) character offsets, for the scorer, the judges and the annotator.

One splitter, three rules. Each caller keeps the boundary rule its numbers were fitted or
calibrated with (the judge's cue features, the annotator's shipped models), so the rules sit
here side by side, each saying how it differs, rather than being merged into one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ANNOTATOR",
    "JUDGE",
    "LIST_ITEM",
    "PLAIN",
    "SentenceRule",
    "sentence_spans",
    "split_sentences",
]

#: A list item or heading line: "1. ", "2) ", "- ", "* ", "• ", "## ".
LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*\u2022+]|#{1,4})\s+\S")
_WORD = re.compile(r"[A-Za-z0-9]")
_NEVER = re.compile(r"(?!)")


@dataclass(frozen=True)
class SentenceRule:
    """Where sentences end, and what happens to the pieces."""

    #: Matches the gap between two sentences (the match itself belongs to neither).
    end: re.Pattern
    #: Split each line on its own, and keep a list item line ("1. ", "- ", "## ") whole.
    by_line: bool = False
    #: Drop pieces without a letter or digit ("...", an emoji).
    need_word: bool = False
    #: A piece with fewer words joins the next one (the last joins the one before).
    min_words: int = 0


#: A terminal mark followed by whitespace: the scorer's opening sentence of a reply.
PLAIN = SentenceRule(re.compile(r"(?<=[.!?])\s"))
#: Chatbot replies and user turns: each line apart, list items whole, and a sentence ends only
#: where the next one opens with a capital or digit ("e.g. this" stays whole). Closing quotes
#: and brackets after the mark belong to the gap.
JUDGE = SentenceRule(
    re.compile(r"(?<=[.!?])[\"')\]*]*\s+(?=[\"'(*\[]?[A-Z0-9])"), by_line=True, need_word=True
)
#: Posts: an ellipsis also ends a sentence, so does every line break, whatever follows; pieces
#: under five words join the next, so that a quote has five words when the post allows it.
ANNOTATOR = SentenceRule(re.compile(r"(?<=[.!?…])[\"')\]]*\s+|\s*\n\s*"), min_words=5)


def _pieces(text: str, end: re.Pattern, offset: int) -> list[tuple[int, int]]:
    """Whitespace-trimmed, non-empty pieces of `text` between matches of `end`, shifted by
    `offset`."""
    spans = []
    position = 0
    for match in end.finditer(text):
        spans.append((position, match.start()))
        position = match.end()
    spans.append((position, len(text)))
    trimmed = []
    for start, stop in spans:
        chunk = text[start:stop]
        stripped = chunk.strip()
        if stripped:
            start += len(chunk) - len(chunk.lstrip())
            trimmed.append((offset + start, offset + start + len(stripped)))
    return trimmed


def _join_short(text: str, spans: list[tuple[int, int]], min_words: int) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and len(text[merged[-1][0] : merged[-1][1]].split()) < min_words:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    if len(merged) > 1 and len(text[merged[-1][0] : merged[-1][1]].split()) < min_words:
        last = merged.pop()
        merged[-1] = (merged[-1][0], last[1])
    return merged


def sentence_spans(text: str, rule: SentenceRule = PLAIN) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of `text` under `rule`, whitespace-trimmed, in
    order; `text[start:end]` is the verbatim sentence."""
    if rule.by_line:
        spans = []
        offset = 0
        for line in text.splitlines(keepends=True):
            if LIST_ITEM.match(line):
                spans += _pieces(line, _NEVER, offset)
            else:
                spans += _pieces(line, rule.end, offset)
            offset += len(line)
    else:
        spans = _pieces(text, rule.end, 0)
    if rule.need_word:
        spans = [(start, end) for start, end in spans if _WORD.search(text, start, end)]
    return _join_short(text, spans, rule.min_words) if rule.min_words else spans


def split_sentences(text: str, rule: SentenceRule = PLAIN) -> list[str]:
    """The sentences of `text` under `rule`, as verbatim substrings."""
    return [text[start:end] for start, end in sentence_spans(text, rule)]
