"""The judge interface and registry. A judge answers each request; scoring builds the verdicts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from evaluator.types import JudgeAnswer, JudgeRequest, TokenUsage

__all__ = [
    "JudgeRequest",
    "JudgeAnswer",
    "Judge",
    "register_judge",
    "unregister_judge",
    "judge_factory",
    "judge_names",
]


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


_REGISTRY: dict[str, Callable[..., Judge]] = {}


def register_judge(name: str):
    """Decorator: make a factory available as `--judge NAME`."""

    def wrap(factory: Callable[..., Judge]) -> Callable[..., Judge]:
        _REGISTRY[name] = factory
        return factory

    return wrap


def unregister_judge(name: str) -> None:
    _REGISTRY.pop(name, None)


def judge_factory(name: str) -> Callable[..., Judge] | None:
    """The registered factory for `name`, or None (then the name is a PROVIDER:MODEL id)."""
    return _REGISTRY.get(name)


def judge_names() -> list[str]:
    """Names of the registered judges (besides PROVIDER:MODEL ids)."""
    return sorted(_REGISTRY)
