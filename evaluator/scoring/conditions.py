"""Which conditions and crisis a transcript has (declared, else detected), and whether a
criterion's `applies_when` holds for it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evaluator.errors import ConfigError, InputError
from evaluator.types import (
    AppliesWhen,
    Codebook,
    Criterion,
    DetectionRecord,
    Rubric,
    Transcript,
)

# --- conditions and crisis -------------------------------------------------------------------


def _declared_list(value: Any, *, transcript: Transcript, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[;,]", value) if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise InputError(
        f"must be a string or a list of strings, got {value!r}",
        file=transcript.source,
        field=f"metadata.{field}",
    )


def _declared_crisis(value: Any, transcript: Transcript) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no", "1", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    raise InputError(
        f"must be true or false, got {value!r}", file=transcript.source, field="metadata.crisis"
    )


def resolve_conditions(
    transcript: Transcript, codebook: Codebook | None
) -> tuple[list[str], bool, DetectionRecord]:
    """(conditions, crisis, detection record) for a transcript: declared in metadata, else
    detected in the user's turns. The record says which, and quotes the words behind it."""
    from evaluator.codebook import detect

    user_text = "\n".join(t.content for t in transcript.turns if t.role == "user")
    detected = detect(user_text, codebook) if codebook is not None else None
    field = "conditions" if "conditions" in transcript.metadata else "condition"
    declared = _declared_list(transcript.metadata.get(field), transcript=transcript, field=field)
    known = [c.id for c in codebook.conditions] if codebook is not None else None
    conditions: list[str] = []
    reasons: list[str] = []
    for name in declared:
        key = name.lower()
        if known is None or key in known:
            conditions.append(key)
            continue
        mapped = detect(name, codebook).conditions
        if len(mapped) != 1:
            raise InputError(
                f"unknown condition {name!r}; known: {', '.join(known)}",
                file=transcript.source,
                field=f"metadata.{field}",
            )
        conditions.append(mapped[0])
        reasons.append(f"declared {name!r} read as {mapped[0]}")
    conditions = list(dict.fromkeys(conditions))
    declared_crisis = _declared_crisis(transcript.metadata.get("crisis"), transcript)
    if detected is not None:
        reasons.extend(detected.reasons)
    if not declared and detected is not None:
        conditions = list(detected.conditions)
    crisis = declared_crisis if declared_crisis is not None else bool(detected and detected.crisis)
    record = DetectionRecord(
        conditions_source="declared" if declared else ("detected" if detected else "none"),
        crisis_source="declared"
        if declared_crisis is not None
        else ("detected" if detected else "none"),
        detected_conditions=list(detected.conditions) if detected is not None else None,
        detected_crisis=detected.crisis if detected is not None else None,
        reasons=reasons,
    )
    return conditions, crisis, record


# --- applies_when ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Applicability:
    """Whether a criterion applies, why not if it does not, and which user turns matched."""

    applies: bool
    reason: str = ""
    matched_turns: tuple[int, ...] = ()


_PATTERNS: dict[str, re.Pattern] = {}


def _pattern(expression: str, *, rubric: Rubric, criterion: Criterion) -> re.Pattern:
    compiled = _PATTERNS.get(expression)
    if compiled is None:
        try:
            compiled = re.compile(expression, re.IGNORECASE)
        except re.error as exc:
            raise ConfigError(
                f"invalid user_intent regular expression {expression!r}: {exc}",
                file=f"rubric {rubric.id}",
                field=f"criteria.{criterion.id}.applies_when.user_intent",
            ) from None
        _PATTERNS[expression] = compiled
    return compiled


def applicability(
    rule: AppliesWhen,
    *,
    transcript: Transcript,
    conditions: Sequence[str],
    crisis: bool,
    rubric: Rubric,
    criterion: Criterion,
) -> Applicability:
    """Evaluate `applies_when`: every clause given must hold; no clause means always."""
    if rule.conditions and not set(rule.conditions) & set(conditions):
        present = ", ".join(conditions) or "none"
        return Applicability(
            False, f"applies to {', '.join(rule.conditions)} (conditions here: {present})"
        )
    if rule.crisis is not None and rule.crisis != crisis:
        return Applicability(
            False, "applies only in a crisis" if rule.crisis else "applies only outside a crisis"
        )
    matched: tuple[int, ...] = ()
    if rule.user_intent:
        patterns = [_pattern(p, rubric=rubric, criterion=criterion) for p in rule.user_intent]
        matched = tuple(
            index
            for index, turn in enumerate(transcript.turns)
            if turn.role == "user" and any(p.search(turn.content) for p in patterns)
        )
        if not matched:
            return Applicability(False, "the user never asks for what this criterion is about")
    return Applicability(True, "", matched)
