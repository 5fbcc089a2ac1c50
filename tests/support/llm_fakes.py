"""A scripted fake chat model for tests of everything that calls an LLM.

`with_structured_output` asks the model for a tool call, so replies are AIMessages carrying
`tool_calls` (see `tool_answer`). Replies are picked by content, not by call order, so the fake
works under concurrency: the first script key found in the last message selects the reply list;
each call takes the next reply, and the last reply repeats. A reply that is an exception is
raised, as a provider client would.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field, PrivateAttr

__all__ = [
    "ScriptedChatModel",
    "tool_answer",
    "invalid_json_answer",
    "rate_limit_error",
    "timeout_error",
    "authentication_error",
]

_ids = itertools.count()


def tool_answer(
    args: dict[str, Any],
    *,
    name: str = "LLMExtraction",
    input_tokens: int = 1200,
    output_tokens: int = 150,
) -> AIMessage:
    """The AIMessage a provider returns for a structured-output tool call."""
    return AIMessage(
        content="",
        tool_calls=[{"name": name, "args": args, "id": f"call_{next(_ids)}", "type": "tool_call"}],
        usage_metadata={
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        },
    )


def invalid_json_answer(name: str = "LLMExtraction") -> AIMessage:
    """A tool call whose arguments are not JSON (langchain files it under invalid_tool_calls)."""
    return AIMessage(
        content="",
        invalid_tool_calls=[
            {
                "name": name,
                "args": '{"impacts": [{"supporting_quote": "unterminated',
                "id": f"call_{next(_ids)}",
                "error": "Unterminated string starting at: line 1 column 35",
                "type": "invalid_tool_call",
            }
        ],
        usage_metadata={"input_tokens": 1200, "output_tokens": 20, "total_tokens": 1220},
    )


class ScriptedChatModel(GenericFakeChatModel):
    messages: Any = Field(default_factory=lambda: iter(()))
    script: dict[str, list[Any]]
    model_name: str = "scripted"
    calls: list[str] = Field(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def bind_tools(self, tools, **kwargs):
        return self

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        text = str(messages[-1].content)
        key = next((key for key in self.script if key in text), None)
        if key is None:
            raise AssertionError(f"no scripted reply for: {text[:80]!r}")
        with self._lock:
            replies = self.script[key]
            reply = replies.pop(0) if len(replies) > 1 else replies[0]
            self.calls.append(key)
        if isinstance(reply, BaseException):
            raise reply
        message = AIMessage(content=reply) if isinstance(reply, str) else reply
        return ChatResult(generations=[ChatGeneration(message=message)])


def rate_limit_error():
    """openai's RateLimitError, as its client raises it on HTTP 429."""
    import httpx
    import openai

    request = httpx.Request("POST", "https://api.openai.com/v1/chat/completions")
    response = httpx.Response(429, request=request, json={"error": {"message": "Rate limit"}})
    return openai.RateLimitError(
        "Rate limit reached for gpt-4.1-mini", response=response, body=None
    )


def timeout_error():
    import httpx
    import openai

    return openai.APITimeoutError(
        request=httpx.Request("POST", "https://api.openai.com/v1/chat/completions")
    )


def authentication_error():
    import httpx
    import openai

    request = httpx.Request("POST", "https://api.openai.com/v1/chat/completions")
    response = httpx.Response(401, request=request, json={"error": {"message": "bad key"}})
    return openai.AuthenticationError("Incorrect API key provided", response=response, body=None)
