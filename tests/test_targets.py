"""Targets: spec parsing, in-process python bots, langchain models (faked through the documented
`register_chat_model` injection point), registered factories, and failures reported per scenario
instead of crashing the run."""

from __future__ import annotations

import sys
import textwrap
import time

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from evaluator.errors import ConfigError
from evaluator.llm import register_chat_model, unregister_chat_model
from evaluator.scenarios import open_target, register_target, run_conversations
from evaluator.scenarios.targets import TARGETS, ChatModelTarget, PythonTarget
from evaluator.types import Scenario


def _scenario(scenario_id: str, *turns: str) -> Scenario:
    return Scenario(
        id=scenario_id,
        title=scenario_id,
        condition="general",
        risk="low",
        persona={"description": "tester"},
        turns=list(turns) or ["hello"],
    )


@pytest.fixture
def bot_module(tmp_path, monkeypatch):
    """A bot package in a temporary folder on sys.path, removed afterwards."""
    package = tmp_path / "tmpbots"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "bots.py").write_text(
        textwrap.dedent(
            """
            import time

            def echo(messages):
                system = [m["content"] for m in messages if m["role"] == "system"]
                return f"{len(messages)} messages; system={system[0] if system else None}; " \\
                    f"last={messages[-1]['content']}"

            def broken(messages):
                raise RuntimeError("the model server is down")

            def slow(messages):
                time.sleep(5)
                return "too late"

            def not_text(messages):
                return {"reply": "a dict"}

            calls = {"n": 0}

            def flaky(messages):
                calls["n"] += 1
                if calls["n"] == 1:
                    raise ConnectionError("blip")
                return "recovered"

            NOT_CALLABLE = 3
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "tmpbots.bots"
    for name in [m for m in sys.modules if m.startswith("tmpbots")]:
        del sys.modules[name]


def test_python_target_imports_a_module_from_sys_path(bot_module):
    target = open_target(f"python:{bot_module}:echo")
    assert isinstance(target, PythonTarget)
    [outcome] = run_conversations([_scenario("s", "hi", "and again")], target, system_prompt="P")
    replies = [t.content for t in outcome.transcript.turns if t.role == "assistant"]
    assert replies == ["2 messages; system=P; last=hi", "4 messages; system=P; last=and again"]
    assert target.describe() == {"spec": f"python:{bot_module}:echo"}


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("python:tmpbots.nope:echo", "cannot import 'tmpbots.nope'"),
        ("python:{module}:missing", "has no function 'missing'"),
        ("python:{module}:NOT_CALLABLE", "has no function 'NOT_CALLABLE'"),
        ("python:echo", "expected python:module:function"),
    ],
)
def test_python_target_spec_errors(bot_module, spec, fragment):
    with pytest.raises(ConfigError, match=fragment) as caught:
        open_target(spec.format(module=bot_module))
    assert caught.value.field == "--target"


def test_an_exception_raising_bot_is_reported_per_scenario_not_a_crash(bot_module):
    broken = open_target(f"python:{bot_module}:broken")
    outcomes = run_conversations([_scenario("a"), _scenario("b")], broken, retries=1, concurrency=2)
    assert [o.scenario_id for o in outcomes] == ["a", "b"]
    for outcome in outcomes:
        assert outcome.transcript is None
        assert outcome.error == "turn 0: RuntimeError: the model server is down"


def test_a_bot_returning_non_text_is_an_error(bot_module):
    [outcome] = run_conversations(
        [_scenario("a")], open_target(f"python:{bot_module}:not_text"), retries=0
    )
    assert "returned dict, expected str" in outcome.error


def test_a_transient_failure_is_retried(bot_module):
    [outcome] = run_conversations(
        [_scenario("a")], open_target(f"python:{bot_module}:flaky"), retries=1
    )
    assert outcome.error is None
    assert outcome.transcript.turns[-1].content == "recovered"


def test_timeout_is_reported_per_scenario_and_the_others_still_run(bot_module):
    slow = open_target(f"python:{bot_module}:slow")
    started = time.perf_counter()
    outcomes = run_conversations([_scenario("slow")], slow, timeout=0.2, retries=0)
    assert time.perf_counter() - started < 3
    assert outcomes[0].error == "turn 0: TimeoutError: no reply within 0.2 s"
    fast = open_target(f"python:{bot_module}:echo")
    [ok] = run_conversations([_scenario("fast")], fast, timeout=2, retries=0)
    assert ok.error is None


def test_openai_target_spec_parsing(monkeypatch):
    monkeypatch.delenv("MHEVAL_TARGET_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    target = open_target("openai:http://localhost:11434/v1#llama3.1:8b")
    assert isinstance(target, ChatModelTarget)
    assert target.model_id == "openai:llama3.1:8b"
    assert target.kwargs == {"base_url": "http://localhost:11434/v1", "api_key": "not-needed"}
    assert target.describe()["base_url"] == "http://localhost:11434/v1"
    monkeypatch.setenv("MHEVAL_TARGET_API_KEY", "k-1")
    assert open_target("openai:https://api.example.com/v1#m").kwargs["api_key"] == "k-1"
    for bad in ("openai:http://localhost/v1", "openai:#model", "openai:http://x/v1#"):
        with pytest.raises(ConfigError, match=r"expected openai:URL#MODEL"):
            open_target(bad)


def test_unknown_target_prefix_is_one_line_listing_the_known_ones():
    with pytest.raises(ConfigError) as caught:
        open_target("mybot:whatever")
    message = str(caught.value)
    assert "\n" not in message
    for prefix in ("openai:...", "langchain:...", "python:...", "replay:..."):
        assert prefix in message


def test_unknown_target_prefix_through_the_cli_is_one_red_line_exit_2(cli, tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "id: s\ntitle: t\ncondition: general\nrisk: low\npersona: {description: x}\nturns: [hi]\n"
    )
    result = cli("run", scenario, "--target", "mybot:x", "--out", tmp_path / "r.json")
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "unknown target 'mybot:x'" in lines[0]
    assert not (tmp_path / "r.json").exists()


class _FakeChat(GenericFakeChatModel):
    def bind_tools(self, *args, **kwargs):
        return self


def test_langchain_target_with_a_fake_chat_model_registered_as_a_provider():
    received = []

    def factory(name, *, temperature, timeout):
        received.append((name, temperature, timeout))
        return _FakeChat(
            messages=iter([AIMessage(content="first reply"), AIMessage(content="second reply")])
        )

    register_chat_model("fakeprov", factory)
    try:
        target = open_target("langchain:fakeprov:tiny-model")
        [outcome] = run_conversations([_scenario("s", "one", "two")], target, timeout=7)
    finally:
        unregister_chat_model("fakeprov")
    assert [t.content for t in outcome.transcript.turns if t.role == "assistant"] == [
        "first reply",
        "second reply",
    ]
    assert received == [("tiny-model", 0.0, 7)]
    assert target.describe() == {
        "spec": "langchain:fakeprov:tiny-model",
        "model": "fakeprov:tiny-model",
    }


def test_langchain_target_needs_provider_and_model():
    with pytest.raises(ConfigError, match="expected langchain:PROVIDER:MODEL"):
        open_target("langchain:gpt-4")


def test_registering_a_test_target_factory():
    class Canned:
        spec = "canned:hello"

        def reply(self, messages, *, timeout):
            return "canned answer to " + messages[-1]["content"]

        def describe(self):
            return {"spec": self.spec}

    register_target("canned")(lambda rest: Canned())
    try:
        [outcome] = run_conversations([_scenario("s", "ping")], open_target("canned:hello"))
    finally:
        TARGETS.unregister("canned")
    assert outcome.transcript.turns[-1].content == "canned answer to ping"
    assert outcome.transcript.metadata["bot"] == "canned:hello"


def test_replay_target_uses_recorded_transcripts_by_scenario_id(tmp_path):
    recorded = tmp_path / "recorded.jsonl"
    recorded.write_text(
        '{"id": "s", "messages": [{"role": "user", "content": "hi"}, '
        '{"role": "assistant", "content": "hello there"}]}\n'
    )
    target = open_target(f"replay:{recorded}")
    found, missing = run_conversations([_scenario("s"), _scenario("other")], target)
    assert found.transcript.turns[-1].content == "hello there"
    assert found.transcript.metadata["condition"] == "general"
    assert "no recorded transcript with id 'other'" in missing.error


def test_a_hung_bot_does_not_keep_the_process_alive(tmp_path):
    """The timed-out call is abandoned in a daemon thread, so `mheval run` can exit."""
    import subprocess

    script = tmp_path / "hang.py"
    script.write_text(
        textwrap.dedent(
            """
            import time
            from evaluator.scenarios import run_conversations
            from evaluator.scenarios.targets import PythonTarget
            from evaluator.types import Scenario

            def hang(messages):
                time.sleep(3600)

            scenario = Scenario(id="s", title="t", condition="general", risk="low",
                                persona={"description": "x"}, turns=["hi"])
            target = PythonTarget(spec="python:x:hang", function=hang)
            [outcome] = run_conversations([scenario], target, timeout=0.3, retries=0)
            print(outcome.error)
            """
        )
    )
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "turn 0: TimeoutError: no reply within 0.3 s"
    assert time.perf_counter() - started < 30
