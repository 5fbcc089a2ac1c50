"""The judge interface and registry. A judge gives one Verdict per (transcript, criterion)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from evaluator.types import Criterion, Rubric, Transcript, UserVoice, Verdict

__all__ = ["JudgeRequest", "Judge", "register_judge", "judge_factory"]


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
