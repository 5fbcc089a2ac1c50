"""Judges: answer each (transcript, criterion) request; scoring turns the answers into verdicts.

`get_judge("local", settings)` is the offline, deterministic judge; any other name with a colon
(`openai:gpt-4.1-mini`, `anthropic:claude-sonnet-4-5`, `ollama:llama3.1`) is an LLM judge through
langchain's `init_chat_model`. Teams add their own with `@register_judge("name")` in a module
named in the `plugins` config key, or in an installed package that declares an entry point in
the `mheval.judges` group (`theirs = "their_pkg.judge:factory"`); `--judge theirs` then works.
"""

from __future__ import annotations

from evaluator.config import Settings
from evaluator.errors import ConfigError
from evaluator.judges import local as _local  # noqa: F401  (registers "local")
from evaluator.judges.base import (
    Judge,
    JudgeAnswer,
    JudgeRequest,
    judge_factory,
    judge_names,
    register_judge,
    unregister_judge,
)

__all__ = [
    "Judge",
    "JudgeRequest",
    "JudgeAnswer",
    "register_judge",
    "unregister_judge",
    "judge_factory",
    "get_judge",
    "load_plugins",
    "ENTRY_POINT_GROUP",
]


ENTRY_POINT_GROUP = "mheval.judges"


def load_plugins(settings: Settings) -> None:
    """Import the `plugins` modules and register the `mheval.judges` entry points (an entry
    point names a judge factory; its name is the `--judge` name)."""
    import importlib
    from importlib.metadata import entry_points

    for module in settings.plugins:
        try:
            importlib.import_module(module)
        except Exception as exc:
            raise ConfigError(f"cannot import plugin {module!r}: {exc}", field="plugins") from None
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if judge_factory(point.name) is not None:
            continue
        try:
            register_judge(point.name)(point.load())
        except Exception as exc:
            raise ConfigError(
                f"cannot load judge plugin {point.name!r} ({point.value}): {exc}",
                field=ENTRY_POINT_GROUP,
            ) from None


def get_judge(spec: str, settings: Settings | None = None, *, samples: int = 1) -> Judge:
    """The judge named `spec`: a registered name (plugins included), or a PROVIDER:MODEL id
    for the LLM judge."""
    settings = settings or Settings()
    if samples < 1:
        raise ConfigError("samples must be at least 1", field="samples")
    if judge_factory(spec) is None and ":" not in spec:
        load_plugins(settings)
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
