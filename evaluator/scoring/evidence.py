"""Evidence grounding: a verdict quotes only words the conversation contains."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from evaluator.text import split_sentences
from evaluator.types import (
    EvidenceQuote,
    Transcript,
    Turn,
    TurnScore,
)

# --- evidence --------------------------------------------------------------------------------


def _find(quote: str, text: str) -> str | None:
    """The exact span of `text` that `quote` stands for (whitespace and case may differ)."""
    if quote in text:
        return quote
    words = quote.split()
    if not words:
        return None
    match = re.search(r"\s+".join(re.escape(w) for w in words), text, re.IGNORECASE)
    return match.group(0) if match else None


def ground_evidence(
    evidence: Iterable[EvidenceQuote], turns: Sequence[Turn]
) -> tuple[list[EvidenceQuote], int]:
    """Keep quotes that occur in the conversation (fixed to the turn and exact text they occur
    in); return them and how many were dropped because they occur nowhere."""
    kept: list[EvidenceQuote] = []
    dropped = 0
    for item in evidence:
        order = [item.turn] if 0 <= item.turn < len(turns) else []
        order += [i for i in range(len(turns)) if i != item.turn]
        for index in order:
            exact = _find(item.quote, turns[index].content)
            if exact:
                quote = EvidenceQuote(turn=index, quote=exact)
                if quote not in kept:
                    kept.append(quote)
                break
        else:
            dropped += 1
    return kept, dropped


def ground_turn_scores(scores: Iterable[TurnScore], turns: Sequence[Turn]) -> list[TurnScore]:
    """Keep the scores of turns that are assistant replies of the conversation, each quote
    fixed to the exact text of its own turn or left out when that turn does not contain it."""
    kept = []
    for item in scores:
        if not (0 <= item.turn < len(turns) and turns[item.turn].role == "assistant"):
            continue
        quote = _find(item.quote, turns[item.turn].content) if item.quote else None
        kept.append(item.model_copy(update={"quote": quote}))
    return kept


_REPLY_QUOTE_CHARS = 240


def reply_quote(transcript: Transcript, matched_turns: Sequence[int] = ()) -> EvidenceQuote | None:
    """The reply a verdict is about, when the judge quoted nothing (typically a failure for
    something missing): the opening of the assistant turn answering the first user turn the
    criterion matched (or the first user turn), so the verdict still points at real words."""
    turns = transcript.turns
    user_turns = [i for i, t in enumerate(turns) if t.role == "user"]
    start = matched_turns[0] if matched_turns else (user_turns[0] if user_turns else -1)
    for index in range(start + 1, len(turns)):
        text = turns[index].content.strip()
        if turns[index].role == "assistant" and text:
            sentence = split_sentences(text)[0]
            if len(sentence) > _REPLY_QUOTE_CHARS:
                sentence = sentence[:_REPLY_QUOTE_CHARS].rsplit(" ", 1)[0]
            return EvidenceQuote(turn=index, quote=sentence)
    return None
