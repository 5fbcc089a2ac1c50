"""Judges: give one Verdict per (transcript, criterion).

`get_judge("local", settings)` is the offline, deterministic judge; any other name with a colon
(`openai:gpt-4.1-mini`, `anthropic:claude-sonnet-4-5`, `ollama:llama3.1`) is an LLM judge through
langchain's `init_chat_model`. Teams add their own with `@register_judge("name")`.
"""

from __future__ import annotations

from evaluator.config import Settings
from evaluator.errors import ConfigError
from evaluator.judges import local as _local  # noqa: F401  (registers "local")
from evaluator.judges.base import (
    Judge,
    JudgeRequest,
    criterion_applies,
    judge_factory,
    judge_names,
    register_judge,
)

__all__ = [
    "Judge",
    "JudgeRequest",
    "register_judge",
    "judge_factory",
    "criterion_applies",
    "get_judge",
    "list_judges",
]

_DESCRIPTIONS = {
    "local": "offline and deterministic: behaviours detected in the assistant turns (sentence "
    "embeddings, cue patterns, a small model calibrated on real chatbot replies)",
}


def get_judge(spec: str, settings: Settings | None = None, *, samples: int = 1) -> Judge:
    """The judge named `spec`: a registered name, or a PROVIDER:MODEL id for the LLM judge."""
    settings = settings or Settings()
    if samples < 1:
        raise ConfigError("samples must be at least 1", field="samples")
    factory = judge_factory(spec)
    if factory is not None:
        return factory(settings, samples=samples)
    if ":" in spec:
        from evaluator.judges.llm import LLMJudge

        return LLMJudge(spec, settings, samples=samples)
    known = ", ".join(judge_names())
    raise ConfigError(
        f"unknown judge {spec!r}: use one of {known}, or a PROVIDER:MODEL id such as "
        "openai:gpt-4.1-mini",
        field="judge",
    )


def list_judges() -> list[dict[str, str]]:
    """Registered judges and the LLM form, for `--help` texts and `mheval judges`."""
    rows = [
        {"name": name, "description": _DESCRIPTIONS.get(name, "registered judge")}
        for name in judge_names()
    ]
    rows.append(
        {
            "name": "PROVIDER:MODEL",
            "description": "LLM judge via langchain init_chat_model, one structured call per "
            "criterion (e.g. openai:gpt-4.1-mini, anthropic:claude-sonnet-4-5, ollama:llama3.1)",
        }
    )
    return rows
