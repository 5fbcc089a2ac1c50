"""Targets: the bots that scenarios run against, looked up by the prefix of `--target`.

openai:URL#MODEL          any OpenAI-compatible endpoint (vLLM, Ollama, LM Studio, hosted);
                          key from $MHEVAL_TARGET_API_KEY, else $OPENAI_API_KEY
langchain:PROVIDER:MODEL  any `init_chat_model` id, or a provider registered with
                          `evaluator.llm.register_chat_model` (how tests inject a fake model)
python:module:function    an in-process bot: function(messages) -> reply string
replay:FILE               previously recorded transcripts, matched to scenarios by id
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from evaluator.errors import ConfigError, InputError, ModelError
from evaluator.registry import Registry

__all__ = [
    "Target",
    "Message",
    "open_target",
    "TARGETS",
    "register_target",
    "ReplayTarget",
]

Message = dict[str, str]


class Target(Protocol):
    """A bot. `reply` gets the conversation so far (system prompt first, if any)."""

    spec: str

    def reply(self, messages: list[Message], *, timeout: float) -> str: ...

    def describe(self) -> dict[str, Any]: ...


#: Target factories `factory(rest_of_spec) -> Target`, by the `--target` prefix.
TARGETS: Registry[Callable[[str], Target]] = Registry("target prefix", field="--target")

#: Decorator: `@register_target("prefix")` makes a factory available as `--target prefix:...`.
register_target = TARGETS.register


def open_target(spec: str) -> Target:
    """Resolve a `--target` string; an unknown prefix is a ConfigError listing the known ones."""
    prefix, sep, rest = spec.partition(":")
    factory = TARGETS.find(prefix) if sep and rest else None
    if factory is None:
        known = ", ".join(f"{name}:..." for name in TARGETS.names())
        raise ConfigError(f"unknown target {spec!r}; expected one of {known}", field="--target")
    return factory(rest)


@dataclass
class ChatModelTarget:
    """A langchain chat model (also used for OpenAI-compatible endpoints)."""

    spec: str
    model_id: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    _model: Any = None

    def _chat_model(self, timeout: float):
        if self._model is None:
            if not self.kwargs:
                from evaluator.llm import init_model

                self._model = init_model(self.model_id, timeout=timeout)
                return self._model
            from langchain.chat_models import init_chat_model

            try:
                self._model = init_chat_model(
                    self.model_id, temperature=0, timeout=timeout, max_retries=0, **self.kwargs
                )
            except ImportError as exc:
                raise ModelError(
                    f"the openai target needs langchain-openai: pip install langchain-openai "
                    f"({exc})",
                    field="--target",
                ) from None
            except Exception as exc:  # bad URL or settings
                raise ModelError(f"cannot load target model: {exc}", field="--target") from None
        return self._model

    def reply(self, messages: list[Message], *, timeout: float) -> str:
        answer = self._chat_model(timeout).invoke(messages)
        content = answer.content
        if isinstance(content, list):  # content blocks
            content = "".join(
                block.get("text", "") if isinstance(block, dict) else str(block)
                for block in content
            )
        return str(content)

    def describe(self) -> dict[str, Any]:
        described = {"spec": self.spec, "model": self.model_id}
        if "base_url" in self.kwargs:
            described["base_url"] = self.kwargs["base_url"]
        return described


@register_target("openai")
def _openai_compatible(rest: str) -> Target:
    url, sep, model = rest.rpartition("#")
    if not sep or not url or not model:
        raise ConfigError(f"expected openai:URL#MODEL, got openai:{rest}", field="--target")
    api_key = os.environ.get("MHEVAL_TARGET_API_KEY") or os.environ.get("OPENAI_API_KEY")
    # Local servers (Ollama, vLLM, LM Studio) accept any key; the client insists on one.
    return ChatModelTarget(
        spec=f"openai:{rest}",
        model_id=f"openai:{model}",
        kwargs={"base_url": url, "api_key": api_key or "not-needed"},
    )


@register_target("langchain")
def _langchain(rest: str) -> Target:
    if ":" not in rest:
        raise ConfigError(
            f"expected langchain:PROVIDER:MODEL, got langchain:{rest}", field="--target"
        )
    return ChatModelTarget(spec=f"langchain:{rest}", model_id=rest)


@dataclass
class PythonTarget:
    """An in-process bot: `module:function`, imported from the working directory or PYTHONPATH."""

    spec: str
    function: Callable[[list[Message]], str]

    def reply(self, messages: list[Message], *, timeout: float) -> str:
        answer = self.function([dict(message) for message in messages])
        if not isinstance(answer, str):
            raise TypeError(f"{self.spec} returned {type(answer).__name__}, expected str")
        return answer

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec}


@register_target("python")
def _python(rest: str) -> Target:
    module_name, sep, function_name = rest.rpartition(":")
    if not sep or not module_name or not function_name:
        raise ConfigError(f"expected python:module:function, got python:{rest}", field="--target")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or the module itself failing at import time
        raise ConfigError(
            f"cannot import {module_name!r}: {type(exc).__name__}: {exc}", field="--target"
        ) from None
    except SystemExit as exc:  # a script's `sys.exit()` at import time must not end mheval
        raise ConfigError(
            f"cannot import {module_name!r}: it called sys.exit({exc.code!r}) at import time",
            field="--target",
        ) from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ConfigError(f"{module_name} has no function {function_name!r}", field="--target")
    return PythonTarget(spec=f"python:{rest}", function=function)


@dataclass
class ReplayTarget:
    """Recorded transcripts: the runner takes each scenario's transcript instead of calling."""

    spec: str
    path: Path
    transcripts: dict[str, Any]

    def reply(self, messages: list[Message], *, timeout: float) -> str:
        raise RuntimeError("a replay target is not called; the runner uses its transcripts")

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, "transcripts": len(self.transcripts)}


@register_target("replay")
def _replay(rest: str) -> Target:
    from evaluator.transcripts import read_transcripts

    path = Path(rest)
    if not path.exists():
        raise InputError("replay file not found", file=path, field="--target")
    transcripts = {t.id: t for t in read_transcripts([path])}
    return ReplayTarget(spec=f"replay:{rest}", path=path, transcripts=transcripts)
