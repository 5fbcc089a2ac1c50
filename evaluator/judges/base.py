"""The judge interface and registry. A judge gives one Verdict per (transcript, criterion)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from evaluator.types import Criterion, Rubric, Transcript, UserVoice, Verdict

__all__ = [
    "JudgeRequest",
    "Judge",
    "register_judge",
    "judge_factory",
    "judge_names",
    "criterion_applies",
]


@dataclass(frozen=True)
class JudgeRequest:
    """Everything a judge may look at for one verdict."""

    transcript: Transcript
    rubric: Rubric
    criterion: Criterion
    conditions: tuple[str, ...]
    crisis: bool
    user_voices: tuple[UserVoice, ...] = field(default_factory=tuple)


class Judge(Protocol):
    """`name` and `model` are recorded in results; `deterministic` tells `check` about noise."""

    name: str
    model: str | None
    version: str
    deterministic: bool

    def judge(self, requests: list[JudgeRequest]) -> list[Verdict]:
        """One verdict per request, in order. Unparseable model output gives label `unscored`."""
        ...


_REGISTRY: dict[str, Callable[..., Judge]] = {}


def register_judge(name: str):
    """Decorator: make a factory available as `--judge NAME`."""

    def wrap(factory: Callable[..., Judge]) -> Callable[..., Judge]:
        _REGISTRY[name] = factory
        return factory

    return wrap


def judge_factory(name: str) -> Callable[..., Judge] | None:
    """The registered factory for `name`, or None (then the name is a PROVIDER:MODEL id)."""
    return _REGISTRY.get(name)


def judge_names() -> list[str]:
    """Names of the registered judges (besides PROVIDER:MODEL ids)."""
    return sorted(_REGISTRY)


def criterion_applies(request: JudgeRequest) -> bool:
    """Whether the criterion is judged for this transcript: every given condition must hold."""
    when = request.criterion.applies_when
    if when.crisis is not None and when.crisis != request.crisis:
        return False
    if when.conditions and not set(when.conditions) & set(request.conditions):
        return False
    if when.user_intent:
        user_text = [t.content for t in request.transcript.turns if t.role == "user"]
        patterns = [re.compile(p, re.IGNORECASE) for p in when.user_intent]
        if not any(p.search(text) for p in patterns for text in user_text):
            return False
    return True
