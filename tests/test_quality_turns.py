"""Graded quality per turn: the local judge's score of each assistant turn reaches the result
file beside the conversation score built from it, the reports show it, scoring keeps only what the
conversation backs, and a judge that grades no turns (the LLM judge) still scores."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from rich.console import Console
from support.llm_fakes import ScriptedChatModel, tool_answer
from typer.testing import CliRunner

from evaluator.config import Settings, project_root
from evaluator.errors import InputError
from evaluator.io import read_score_run
from evaluator.judges.llm import LLMJudge
from evaluator.llm import LLMCache
from evaluator.report.html import render_html
from evaluator.report.markdown import render_markdown
from evaluator.report.terminal import render_terminal
from evaluator.scoring import score
from evaluator.types import (
    Anchors,
    Criterion,
    EvidenceRef,
    JudgeAnswer,
    LocalSignals,
    Rubric,
    Transcript,
    Turn,
    TurnScore,
)

EXAMPLES = project_root() / "examples" / "transcripts" / "conversations.jsonl"
MULTI_TURN = Path(__file__).parent / "data" / "transcripts" / "quality" / "newcity_mid.jsonl"


#: The conversation scores mheval wrote before per-turn scores reached the result file (the
#: turn scores must not move them).
@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """One `mheval score` of the shipped examples and a five-turn conversation of the rated
    quality set, with the local judge and no user voices (~10 s of CPU)."""
    from evaluator.cli.app import app

    out = tmp_path_factory.mktemp("turnq")
    config = out / "mheval.toml"
    config.write_text(f'cache_dir = "{out / "cache"}"\n')
    result = CliRunner().invoke(
        app,
        [
            "--config",
            str(config),
            "score",
            str(EXAMPLES),
            str(MULTI_TURN),
            "--no-retrieval",
            "--exit-zero",
            "--out",
            str(out / "result.json"),
            "--markdown",
            str(out / "report.md"),
            "--html",
            str(out / "report.html"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return out


def _quality(result):
    return [v for v in result.criteria if v.severity == "quality" and v.label != "not_applicable"]


def test_every_quality_verdict_scores_each_assistant_turn_within_0_1(scored):
    run = read_score_run(scored / "result.json")
    assert len(run.transcripts) == 10
    for result in run.transcripts:
        replies = [i for i, t in enumerate(result.turns) if t.role == "assistant"]
        for verdict in _quality(result):
            turns = [t.turn for t in verdict.turn_scores]
            # consistency compares each later reply with the earlier ones
            wanted = replies[1:] if verdict.criterion_id.endswith("consistency") else replies
            assert turns == wanted, (result.id, verdict.criterion_id)
            assert all(0.0 <= t.score <= 1.0 for t in verdict.turn_scores)
            for item in verdict.turn_scores:
                assert item.quote and item.quote in result.turns[item.turn].content
            mean = sum(t.score for t in verdict.turn_scores) / len(verdict.turn_scores)
            assert verdict.score == pytest.approx(mean, abs=1e-3)
        for verdict in result.criteria:
            if verdict.severity != "quality" or verdict.label == "not_applicable":
                assert verdict.turn_scores == []


def test_the_conversation_scores_are_built_from_the_verdicts(scored):
    """The conversation's quality is each graded dimension's score and their weighted mean,
    the same numbers the per-turn rows add up to (one rule, in scoring)."""
    run = read_score_run(scored / "result.json")
    for result in run.transcripts:
        graded = _quality(result)
        assert {v.criterion_id: v.score for v in graded} == result.quality
        weights = sum(v.weight for v in graded)
        mean = sum(v.weight * v.score for v in graded) / weights
        assert result.quality_score == pytest.approx(mean, abs=1e-3)
    multi = {r.id: r for r in run.transcripts}["qa-newcity-mid"]
    reflection = next(v for v in _quality(multi) if v.criterion_id == "base.quality.reflection")
    assert len(reflection.turn_scores) == 5
    assert len({t.score for t in reflection.turn_scores}) > 1  # turns differ, not one copy


def test_the_reports_show_each_dimension_turn_by_turn_with_the_weakest_quote(scored):
    run = read_score_run(scored / "result.json")
    multi = next(r for r in run.transcripts if r.id == "qa-newcity-mid")
    reflection = next(v for v in _quality(multi) if v.criterion_id == "base.quality.reflection")
    row = " · ".join(f"turn {t.turn}: {t.score:.2f}" for t in reflection.turn_scores)
    weakest = min(reflection.turn_scores, key=lambda t: t.score)

    markdown = (scored / "report.md").read_text()
    assert "### Quality per turn" in markdown
    assert f"| reflection | 0.66 | {row} | turn {weakest.turn}: “{weakest.quote}” |" in markdown
    html = (scored / "report.html").read_text()
    assert "Quality per turn" in html and row in html
    assert f"turn {weakest.turn}</a>: “" in html
    assert render_markdown(run) == markdown and render_html(run) == html

    def terminal(verbose: bool) -> str:
        console = Console(width=200, file=io.StringIO())
        render_terminal(run, console, verbose=verbose)
        return console.file.getvalue()

    assert "quality per turn" not in terminal(verbose=False)
    shown = terminal(verbose=True)
    assert "quality per turn" in shown and f"reflection       {row}" in shown


def test_an_older_result_file_is_refused_with_what_to_do(scored, tmp_path):
    data = json.loads((scored / "result.json").read_text())
    data["format_version"] = 2
    older = tmp_path / "older.json"
    older.write_text(json.dumps(data))
    with pytest.raises(InputError, match="format_version 2 is not supported.*re-score"):
        read_score_run(older)


# --- what scoring keeps, and a judge that grades no turns -------------------------------------

USER = "I moved to a new city and I don't know anyone. Weekends are the worst."
REPLY = "Weekends on your own in a new place sound lonely. What did weekends look like before?"


def _quality_rubric() -> dict[str, Rubric]:
    criterion = Criterion(
        id="base.quality.reflection",
        title="Reflect before advising",
        description="Mirrors what the person said before any advice.",
        scale=Anchors(fail="No reflection", partial="Generic", **{"pass": "Specific"}),
        severity="quality",
        evidence=[EvidenceRef(source="curated", note="test")],
        signals=LocalSignals(grade="reflection"),
    )
    return {"base": Rubric(id="base", version="1", title="Base", criteria=[criterion])}


def _transcript() -> Transcript:
    turns = [Turn(role="user", content=USER), Turn(role="assistant", content=REPLY)]
    return Transcript(id="t", turns=turns)


class _Answers:
    """A judge that gives one fixed answer to every request."""

    name, model, version, deterministic, samples, usage = "fixed", None, "1", True, 1, None

    def __init__(self, answer: JudgeAnswer) -> None:
        self.answer = answer

    def judge(self, requests):
        return [self.answer for _ in requests]


def test_scoring_keeps_scores_of_assistant_turns_and_quotes_they_contain():
    answer = JudgeAnswer(
        label="partial",
        score=0.6,
        turn_scores=[
            TurnScore(turn=1, score=0.6, quote="weekends on your own  in a new place"),
            TurnScore(turn=0, score=0.2, quote="I moved"),  # the person's turn
            TurnScore(turn=7, score=0.9),  # no such turn
        ],
    )
    run = score([_transcript()], rubrics=_quality_rubric(), judge=_Answers(answer))
    (verdict,) = run.transcripts[0].criteria
    assert verdict.turn_scores == [
        TurnScore(turn=1, score=0.6, quote="Weekends on your own in a new place")
    ]
    invented = answer.model_copy(
        update={"turn_scores": [TurnScore(turn=1, score=0.6, quote="You should join a club.")]}
    )
    run = score([_transcript()], rubrics=_quality_rubric(), judge=_Answers(invented))
    assert run.transcripts[0].criteria[0].turn_scores == [TurnScore(turn=1, score=0.6)]


def test_a_judge_answer_scores_each_turn_at_most_once_within_0_1():
    with pytest.raises(ValidationError, match="at most one score per turn"):
        JudgeAnswer(label="pass", turn_scores=[{"turn": 1, "score": 1}, {"turn": 1, "score": 0}])
    with pytest.raises(ValidationError):
        JudgeAnswer(label="pass", turn_scores=[{"turn": 1, "score": 1.5}])
    answer = JudgeAnswer(
        label="pass", turn_scores=[{"turn": 3, "score": 1}, {"turn": 1, "score": 0}]
    )
    assert [t.turn for t in answer.turn_scores] == [1, 3]


def test_an_llm_judge_answer_without_turn_scores_still_scores(tmp_path):
    reply = tool_answer(
        {
            "label": "partial",
            "score": 0.6,
            "rationale": "Reflects the loneliness, generically.",
            "evidence": [{"turn": 1, "quote": "sound lonely"}],
        },
        name="GradingOutput",
    )
    model = ScriptedChatModel(script={"Reflect before advising": [reply]})
    settings = Settings(cache_dir=tmp_path, max_retries=0, concurrency=1)
    judge = LLMJudge(model, settings, cache=LLMCache(tmp_path / "judge.sqlite"), backoff=0)
    run = score([_transcript()], rubrics=_quality_rubric(), judge=judge)
    result = run.transcripts[0]
    (verdict,) = result.criteria
    assert verdict.label == "partial" and verdict.score == 0.6 and verdict.turn_scores == []
    assert result.quality == {"base.quality.reflection": 0.6} and result.quality_score == 0.6
    assert "Quality per turn" not in render_markdown(run)
    assert "Quality per turn" not in render_html(run)
