"""evaluator.llm: model resolution, structured calls with retry/cache/usage, cost, concurrency."""

from __future__ import annotations

import threading
import time

import pytest
from support.llm_fakes import (
    ScriptedChatModel,
    authentication_error,
    invalid_json_answer,
    rate_limit_error,
    timeout_error,
    tool_answer,
)

from evaluator.errors import ModelError
from evaluator.llm import (
    LLMCache,
    StructuredCaller,
    estimate_cost,
    init_model,
    is_fatal,
    is_transient,
    map_concurrently,
    register_chat_model,
    unregister_chat_model,
)
from evaluator.types import LLMExtraction

POST = "This app is good for calming you down if you have anxiety or something but not much else."
ANSWER = {
    "impacts": [
        {
            "supporting_quote": "This app is good for calming you down if you have anxiety",
            "product": None,
            "sentiment": "positive",
            "condition": "anxiety",
            "perspective": "emotional_support",
            "value": "calmness",
        }
    ],
    "crisis": False,
}


def caller(model, **kwargs) -> StructuredCaller:
    kwargs.setdefault("backoff", 0)
    return StructuredCaller(model, LLMExtraction, prompt_version="test-1", **kwargs)


def messages(text: str = POST) -> list:
    from langchain_core.messages import HumanMessage, SystemMessage

    return [SystemMessage(content="Extract impacts."), HumanMessage(content=text)]


def test_valid_answer_is_parsed_and_tokens_counted():
    model = ScriptedChatModel(script={"calming": [tool_answer(ANSWER, input_tokens=1000)]})
    call = caller(model)
    outcome = call.call(messages(), cache_input=POST)
    assert outcome.error is None and outcome.attempts == 1
    assert outcome.value.impacts[0].condition == "anxiety"
    usage = call.usage.report()
    assert (usage.calls, usage.input_tokens, usage.output_tokens) == (1, 1000, 150)


@pytest.mark.parametrize("error", [rate_limit_error, timeout_error])
def test_rate_limit_and_timeout_are_retried_then_succeed(error):
    model = ScriptedChatModel(script={"calming": [error(), error(), tool_answer(ANSWER)]})
    outcome = caller(model, max_retries=3).call(messages(), cache_input=POST)
    assert outcome.value is not None and outcome.attempts == 3
    assert len(model.calls) == 3


@pytest.mark.parametrize("error", [rate_limit_error, timeout_error])
def test_exhausted_retries_give_an_error_not_an_exception(error):
    model = ScriptedChatModel(script={"calming": [error()]})
    call = caller(model, max_retries=2)
    outcome = call.call(messages(), cache_input=POST)
    assert outcome.value is None
    assert outcome.attempts == 3 and len(model.calls) == 3
    assert "after 3 attempts" in outcome.error
    assert call.usage.failed == 1


def test_wrong_schema_is_retried_then_reported():
    wrong = tool_answer({"impacts": "none at all"})
    model = ScriptedChatModel(script={"calming": [wrong]})
    outcome = caller(model, max_retries=1).call(messages(), cache_input=POST)
    assert outcome.value is None and len(model.calls) == 2
    assert "does not fit the schema" in outcome.error


def test_invalid_json_is_retried_and_can_recover():
    model = ScriptedChatModel(script={"calming": [invalid_json_answer(), tool_answer(ANSWER)]})
    outcome = caller(model, max_retries=2).call(messages(), cache_input=POST)
    assert outcome.value is not None and outcome.attempts == 2


def test_plain_text_refusal_is_not_retried():
    model = ScriptedChatModel(
        script={"calming": ["I'm sorry, but I can't help with that request."]}
    )
    outcome = caller(model, max_retries=3).call(messages(), cache_input=POST)
    assert outcome.value is None and len(model.calls) == 1
    assert outcome.error.startswith("model refused: I'm sorry")


def test_authentication_error_stops_the_run():
    model = ScriptedChatModel(script={"calming": [authentication_error()]})
    with pytest.raises(ModelError, match="AuthenticationError"):
        caller(model, max_retries=3).call(messages(), cache_input=POST)
    assert len(model.calls) == 1


def test_cache_makes_a_second_run_free(tmp_path):
    cache = LLMCache(tmp_path / "llm.sqlite")
    first = ScriptedChatModel(script={"calming": [tool_answer(ANSWER)]})
    assert caller(first, cache=cache).call(messages(), cache_input=POST).cached is False
    cache.close()

    reopened = LLMCache(tmp_path / "llm.sqlite")
    second = ScriptedChatModel(script={"calming": [tool_answer({"impacts": [], "crisis": True})]})
    call = caller(second, cache=reopened)
    outcome = call.call(messages(), cache_input=POST)
    assert outcome.cached and second.calls == []
    assert outcome.value.impacts[0].value == "calmness"
    assert call.usage.cached == 1 and call.usage.calls == 0


def test_cache_key_depends_on_prompt_version_and_input(tmp_path):
    cache = LLMCache(tmp_path / "llm.sqlite")
    model = ScriptedChatModel(script={"calming": [tool_answer(ANSWER)]})
    a = StructuredCaller(model, LLMExtraction, prompt_version="v1", cache=cache)
    b = StructuredCaller(model, LLMExtraction, prompt_version="v2", cache=cache)
    assert a.key(POST) != b.key(POST)
    assert a.key(POST) != a.key(POST + " ")


def test_failures_are_not_cached(tmp_path):
    cache = LLMCache(tmp_path / "llm.sqlite")
    model = ScriptedChatModel(script={"calming": ["No."]})
    caller(model, cache=cache).call(messages(), cache_input=POST)
    assert len(cache) == 0


def test_registered_provider_resolves_model_ids():
    built = ScriptedChatModel(script={"calming": [tool_answer(ANSWER)]})
    seen = {}

    def factory(name, **kwargs):
        seen.update(kwargs, name=name)
        return built

    register_chat_model("fakeprov", factory)
    try:
        assert init_model("fakeprov:bot-1", timeout=5) is built
        assert seen == {"name": "bot-1", "temperature": 0.0, "timeout": 5}
        assert caller("fakeprov:bot-1").model_id == "fakeprov:bot-1"
    finally:
        unregister_chat_model("fakeprov")


def test_prebuilt_model_is_used_as_is():
    built = ScriptedChatModel(script={"x": ["y"]})
    assert init_model(built) is built


@pytest.mark.parametrize("model_id", ["gpt-4.1-mini", "openai:", ":gpt"])
def test_malformed_model_id(model_id):
    with pytest.raises(ModelError, match="PROVIDER:MODEL"):
        init_model(model_id)


def test_unknown_provider_is_a_model_error():
    with pytest.raises(ModelError, match="nosuchprovider"):
        init_model("nosuchprovider:some-model")


def test_error_classification_on_real_client_errors():
    assert is_transient(rate_limit_error()) and not is_fatal(rate_limit_error())
    assert is_transient(timeout_error())
    assert is_fatal(authentication_error()) and not is_transient(authentication_error())
    assert not is_transient(ValueError("bad request"))


@pytest.mark.parametrize(
    ("model_id", "tokens", "expected"),
    [
        ("openai:gpt-4.1-mini", (1_000_000, 1_000_000), 2.00),
        ("openai:gpt-4.1", (1_000_000, 0), 2.00),
        ("openai:gpt-4o-mini-2024-07-18", (2_000_000, 0), 0.30),
        ("anthropic:claude-3-5-haiku-latest", (0, 1_000_000), 4.00),
        ("ollama:llama3.1", (5_000_000, 5_000_000), 0.0),
        ("openai:some-future-model", (1000, 1000), None),
    ],
)
def test_estimate_cost(model_id, tokens, expected):
    cost = estimate_cost(model_id, *tokens)
    assert cost == (pytest.approx(expected) if expected is not None else None)


def test_map_concurrently_keeps_order_and_bounds_parallelism():
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def work(n: int) -> int:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.01 * (n % 3))
        with lock:
            in_flight -= 1
        return n * n

    assert map_concurrently(work, list(range(12)), concurrency=3) == [n * n for n in range(12)]
    assert 1 < peak <= 3
