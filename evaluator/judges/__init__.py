"""Judges: answer each (transcript, criterion) request; scoring turns the answers into verdicts.

`get_judge("local", settings)` is the offline, deterministic judge; any other name with a colon
(`openai:gpt-4.1-mini`, `anthropic:claude-sonnet-4-5`, `ollama:llama3.1`) is an LLM judge through
langchain's `init_chat_model`. Teams add their own with `@register_judge("name")` in a plugin
(the `plugins` config key or the `mheval.plugins` entry-point group, see `evaluator.registry`);
`--judge name` then works.
"""

from __future__ import annotations

from evaluator.config import Settings
from evaluator.errors import ConfigError
from evaluator.judges import local as _local  # noqa: F401  (registers "local")
from evaluator.judges.base import (
    JUDGES,
    Judge,
    JudgeAnswer,
    JudgeRequest,
    register_judge,
    unregister_judge,
)

__all__ = [
    "Judge",
    "JudgeRequest",
    "JudgeAnswer",
    "JUDGES",
    "register_judge",
    "unregister_judge",
    "get_judge",
]


def get_judge(spec: str, settings: Settings | None = None, *, samples: int = 1) -> Judge:
    """The judge named `spec`: a registered name (plugins included), or a PROVIDER:MODEL id
    for the LLM judge."""
    settings = settings or Settings()
    if samples < 1:
        raise ConfigError("samples must be at least 1", field="samples")
    factory = JUDGES.find(spec)
    if factory is not None:
        return factory(settings, samples=samples)
    if ":" in spec:
        from evaluator.judges.llm import LLMJudge

        return LLMJudge(spec, settings, samples=samples)
    known = ", ".join(JUDGES.names())
    raise ConfigError(
        f"unknown judge {spec!r}: use one of {known}, or a PROVIDER:MODEL id such as "
        "openai:gpt-4.1-mini",
        field="judge",
    )
