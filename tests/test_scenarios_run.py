"""`run_scenarios`: conversations scored by the shared scorer, expectations, the run record's
versions and hashes, and a bot that fails every scenario still giving a complete run."""

from __future__ import annotations

import hashlib
import json
import sys
import textwrap
from pathlib import Path

import pytest

from evaluator import __version__
from evaluator.codebook import load_codebook
from evaluator.config import Settings
from evaluator.errors import ConfigError, InputError
from evaluator.guidelines import load_rubrics
from evaluator.judges import register_judge, unregister_judge
from evaluator.scenarios import load_scenarios, run_scenarios, scenario_hash
from evaluator.scoring import score
from evaluator.types import IndexInfo, JudgeAnswer, UnmetExpectation

DATA = Path(__file__).parent / "data" / "scenarios"
GUIDELINES = DATA / "guidelines"


class KeywordJudge:
    """Fails a criterion when an assistant turn says `FAIL <criterion id>`; deterministic."""

    name = "keyword"
    model = None
    version = "1"
    deterministic = True
    samples = 1
    usage = None

    def judge(self, requests):
        answers = []
        for request in requests:
            replies = " ".join(t.content for t in request.transcript.turns if t.role == "assistant")
            label = "fail" if f"FAIL {request.criterion.id}" in replies else "pass"
            answers.append(JudgeAnswer(label=label, rationale=f"keyword judge: {label}"))
        return answers


@pytest.fixture(autouse=True)
def keyword_judge():
    register_judge("keyword")(lambda settings=None, *, samples=1: KeywordJudge())
    yield
    unregister_judge("keyword")


@pytest.fixture
def bots(tmp_path, monkeypatch):
    (tmp_path / "runbots.py").write_text(
        textwrap.dedent(
            """
            def careful(messages):
                return "I hear you. Are you safe right now? You can call 988."

            def feeds_mania(messages):
                last = messages[-1]["content"]
                if "savings" in last or "steps" in last:
                    return "Great plan! FAIL bipolar.no_mania_plans"
                return "ok"

            def broken(messages):
                raise RuntimeError("bot down")
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "runbots"
    sys.modules.pop("runbots", None)


def _run(target, **kwargs):
    settings = Settings(guidelines=GUIDELINES)
    options = {"judge_spec": "keyword", "retrieval": False, "retries": 0, **kwargs}
    return run_scenarios([DATA / "scenarios"], target, settings=settings, **options)


def test_run_record_versions_hashes_and_prompt(bots, tmp_path):
    prompt = tmp_path / "system.txt"
    prompt.write_text("Be careful.\n")
    progress = []
    run = _run(
        f"python:{bots}:careful",
        system_prompt_file=prompt,
        on_progress=lambda stage, done, total: progress.append((stage, done, total)),
    )
    scenarios = load_scenarios([DATA / "scenarios"])
    assert run.tool_version == __version__ and run.kind == "run"
    assert run.scenarios == {s.id: scenario_hash(s) for s in scenarios}
    assert run.target.spec == f"python:{bots}:careful"
    assert run.target.system_prompt.sha256 == hashlib.sha256(b"Be careful.\n").hexdigest()
    assert run.score.judge.name == "keyword"
    assert set(run.score.rubrics) == {"base", "bipolar", "depressive"}
    assert ("converse", 3, 3) in progress
    for outcome in run.outcomes:
        assert outcome.transcript.metadata["prompt_sha256"] == run.target.system_prompt.sha256[:16]
        assert outcome.verdict == "pass"
    assert run.summary.scenarios == 3 and run.summary.passed == 3


def test_scored_by_the_same_function_as_mheval_score(bots):
    run = _run(f"python:{bots}:careful")
    again = score(
        [o.transcript for o in run.outcomes],
        rubrics=load_rubrics(GUIDELINES),
        judge=KeywordJudge(),
        codebook=load_codebook(Settings().codebook),
    )
    strip = {"created_at", "timings", "codebook"}
    assert run.score.model_dump(exclude=strip) == again.model_dump(exclude=strip)
    by_id = {r.id: r for r in run.score.transcripts}
    # the scenario's declared condition selects its rubric; declared crisis selects crisis criteria
    assert by_id["bipolar-invest-savings"].conditions == ["bipolar"]
    assert by_id["depressive-passive-si"].crisis is True
    passive = {v.criterion_id: v.label for v in by_id["depressive-passive-si"].criteria}
    assert passive["base.crisis.recognise"] == "pass"


def test_expectations_record_labels_and_an_unmet_one_fails_the_scenario(bots):
    run = _run(f"python:{bots}:feeds_mania")
    outcome = next(o for o in run.outcomes if o.scenario_id == "bipolar-invest-savings")
    assert outcome.expectations == {
        "bipolar/bipolar.no_mania_plans": "fail",
        "base/base.symptom.no_feeding": "pass",
    }
    assert outcome.verdict == "fail"
    assert run.summary.expectations.unmet == [
        UnmetExpectation(
            scenario="bipolar-invest-savings",
            criterion="bipolar/bipolar.no_mania_plans",
            label="fail",
        )
    ]


def test_a_bot_that_fails_everything_still_gives_a_complete_run(bots):
    run = _run(f"python:{bots}:broken")
    assert [o.verdict for o in run.outcomes] == ["error"] * 3
    assert all("RuntimeError: bot down" in o.error for o in run.outcomes)
    assert run.score.transcripts == [] and run.score.judge.name == "keyword"
    assert run.summary.errors == 3


def test_input_errors_come_before_any_bot_call(bots, tmp_path):
    with pytest.raises(InputError, match="system prompt file not found"):
        _run(f"python:{bots}:careful", system_prompt_file=tmp_path / "missing.txt")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (DATA / "scenarios" / "bipolar_invest_savings.yaml")
        .read_text()
        .replace("bipolar.no_mania_plans", "bipolar.no_such_thing")
    )
    with pytest.raises(ConfigError) as caught:
        run_scenarios(
            [bad],
            f"python:{bots}:careful",
            settings=Settings(guidelines=GUIDELINES),
            judge_spec="keyword",
            retrieval=False,
        )
    assert caught.value.file == str(bad) and caught.value.field == "expect.0"


def test_judge_noise_end_to_end_run_samples_then_check_samples(bots, cli, tmp_path):
    """An LLM judge sampled 3 times: a failure seen in 2 of 3 samples blocks `check --samples 2`
    and is only reported (unconfirmed) under `check --samples 3`."""
    from support.llm_fakes import ScriptedChatModel, tool_answer

    from evaluator.io import write_json
    from evaluator.llm import register_chat_model, unregister_chat_model
    from evaluator.scenarios import bless

    def answer(label: str):
        score = {"pass": 1.0, "fail": 0.0}[label]
        return tool_answer(
            {"label": label, "score": score, "rationale": label}, name="GradingOutput"
        )

    def factory(name, *, temperature, timeout):
        mania = (
            [answer("pass")]
            if name == "steady"
            else [answer("fail"), answer("fail"), answer("pass")]
        )
        return ScriptedChatModel(
            model_name=name,
            script={
                "criterion bipolar.no_mania_plans only": mania,
                "Give your verdict on criterion": [answer("pass")],
            },
        )

    register_chat_model("noisyjudge", factory)
    try:
        runs = {}
        for name in ("steady", "noisy"):
            runs[name] = run_scenarios(
                [DATA / "scenarios" / "bipolar_invest_savings.yaml"],
                f"python:{bots}:careful",
                settings=Settings(guidelines=GUIDELINES),
                judge_spec=f"noisyjudge:{name}",
                samples=3,
                retrieval=False,
            )
    finally:
        unregister_chat_model("noisyjudge")
    verdict = next(
        v
        for v in runs["noisy"].score.transcripts[0].criteria
        if v.criterion_id == "bipolar.no_mania_plans"
    )
    assert verdict.label == "fail" and not verdict.deterministic
    assert sorted(verdict.samples) == ["fail", "fail", "pass"]
    baseline, run = tmp_path / "baseline.json", tmp_path / "run.json"
    write_json(baseline, bless(runs["steady"]))
    write_json(run, runs["noisy"])
    confirmed = cli("check", run, "--baseline", baseline, "--samples", "2", "--max-drop", "1")
    assert confirmed.exit_code == 1
    assert "new failure of bipolar.no_mania_plans" in confirmed.output
    unconfirmed = cli(
        "--json", "check", run, "--baseline", baseline, "--samples", "3", "--max-drop", "1"
    )
    assert unconfirmed.exit_code == 0, unconfirmed.output
    changes = json.loads(unconfirmed.stdout)["changes"]
    assert [(c["criterion_id"], c["change"]) for c in changes] == [
        ("bipolar.no_mania_plans", "unconfirmed_failure")
    ]


def test_cli_run_with_a_simulated_user(bots, cli, tmp_path):
    """`--simulator PROVIDER:MODEL` plays the persona after the scripted turns."""
    from langchain_core.messages import AIMessage
    from support.llm_fakes import ScriptedChatModel

    from evaluator.llm import register_chat_model, unregister_chat_model

    seen = []

    def factory(name, *, temperature, timeout):
        seen.append((name, temperature))
        return ScriptedChatModel(
            model_name=name, script={"": [AIMessage(content="but I really want it tonight")]}
        )

    register_chat_model("fakesim", factory)
    out = tmp_path / "run.json"
    try:
        result = cli(
            "--json",
            "--config",
            _config(tmp_path),
            "run",
            DATA / "scenarios" / "bipolar_invest_savings.yaml",
            "--target",
            f"python:{bots}:careful",
            "--judge",
            "keyword",
            "--simulator",
            "fakesim:persona",
            "--no-retrieval",
            "--out",
            out,
        )
    finally:
        unregister_chat_model("fakesim")
    assert result.exit_code == 0, result.output
    assert seen == [("persona", 0.7)]
    from evaluator.io import read_run

    [outcome] = read_run(out).outcomes
    users = [t.content for t in outcome.transcript.turns if t.role == "user"]
    assert users[-3:] == ["but I really want it tonight"] * 3  # simulate.max_turns = 3
    assert json.loads(result.stdout)["target"]["simulator"] == "fakesim:persona"


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "mheval.toml"
    config.write_text(f'guidelines = "{GUIDELINES}"\n')
    return config


def test_run_closes_the_corpus_index_it_opened(bots, monkeypatch):
    """`run` used to open the index and never close it; the scoring session now does both."""
    from evaluator import index

    opened = []

    class Recording:
        def __init__(self) -> None:
            self.closed = False
            opened.append(self)

        def voices_for(self, **_):
            return []

        def info(self) -> IndexInfo:
            return IndexInfo()

        def close(self) -> None:
            self.closed = True

    monkeypatch.setattr(index.Retriever, "open", classmethod(lambda cls, *a, **k: Recording()))
    _run(f"python:{bots}:careful", retrieval=True)
    assert len(opened) == 1 and opened[0].closed


class UnscoredJudge(KeywordJudge):
    """A judge whose model never gives a usable answer (a dead endpoint)."""

    name = "unscored"

    def judge(self, requests):
        return [JudgeAnswer(label="unscored", rationale="model answer unusable: HTTP 500")] * len(
            requests
        )


def test_a_judge_that_cannot_judge_makes_scenarios_inconclusive_and_check_fail(bots):
    from evaluator.check import check_run

    baseline = _run(f"python:{bots}:careful")
    register_judge("unscored")(lambda settings=None, *, samples=1: UnscoredJudge())
    try:
        broken = _run(f"python:{bots}:careful", judge_spec="unscored")
    finally:
        unregister_judge("unscored")
    assert {o.verdict for o in broken.outcomes} == {"inconclusive"}
    assert broken.summary.inconclusive == 3 and broken.summary.passed == 0
    report = check_run(broken, baseline)
    assert not report.passed
    assert any("inconclusive" in reason and "HTTP 500" in reason for reason in report.reasons)
    assert check_run(broken, baseline, allow_unscored=True, max_drop=1.0).passed
