"""The judge interface and registry. A judge answers each request; scoring builds the verdicts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from evaluator.registry import Registry
from evaluator.types import JudgeAnswer, JudgeRequest, TokenUsage

__all__ = ["JudgeRequest", "JudgeAnswer", "Judge", "JUDGES", "register_judge", "unregister_judge"]


class Judge(Protocol):
    """`name`, `model`, `version`, `samples` and `usage` are recorded in results;
    `deterministic` tells `check` whether verdicts can differ between runs."""

    name: str
    model: str | None
    version: str
    deterministic: bool
    samples: int

    @property
    def usage(self) -> TokenUsage | None:
        """Model calls, tokens and estimated cost so far; None for a judge that calls no model."""
        ...

    def judge(self, requests: list[JudgeRequest]) -> list[JudgeAnswer]:
        """One answer per request, in order. A model answer that cannot be used gives label
        `unscored`, never pass or fail."""
        ...


#: Judge factories `factory(settings, *, samples=1) -> Judge`, by `--judge` name.
JUDGES: Registry[Callable[..., Judge]] = Registry("judge", field="judge")

#: Decorator: `@register_judge("name")` makes a factory available as `--judge name`.
register_judge = JUDGES.register
unregister_judge = JUDGES.unregister
