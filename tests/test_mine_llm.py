"""The LLM annotator on real posts with a scripted fake model: library and `mheval mine` CLI."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path

import pytest
from support.llm_fakes import (
    ScriptedChatModel,
    authentication_error,
    invalid_json_answer,
    rate_limit_error,
    timeout_error,
    tool_answer,
)

from evaluator.codebook import load_codebook
from evaluator.errors import ModelError
from evaluator.llm import register_chat_model, unregister_chat_model
from evaluator.mine.llm import LLMAnnotator, render_system_prompt
from evaluator.mine.pipeline import read_posts
from evaluator.types import Annotation

DATA = Path(__file__).parent / "data" / "mine"
POSTS = DATA / "llm_posts.jsonl"
CODEBOOK = DATA / "codebook.yaml"
_names = itertools.count()


@pytest.fixture(scope="module")
def posts():
    return list(read_posts(POSTS))


@pytest.fixture(scope="module")
def codebook():
    return load_codebook(CODEBOOK)


@pytest.fixture
def answers() -> dict:
    return json.loads((DATA / "llm_answers.json").read_text(encoding="utf-8"))


def script_for(posts, answers, overrides: dict | None = None) -> dict[str, list]:
    """Replies keyed by the start of each post's text (what the fake finds in the prompt)."""
    overrides = overrides or {}
    return {
        post.text[:60]: overrides.get(post.id, [tool_answer(answers[post.id])]) for post in posts
    }


def annotate(posts, codebook, script, **kwargs):
    model = ScriptedChatModel(script=script)
    kwargs.setdefault("backoff", 0)
    annotator = LLMAnnotator(model, codebook=codebook, concurrency=3, **kwargs)
    rows = {row.id: row for row in annotator.annotate(posts)}
    return annotator, model, rows


@pytest.fixture
def fake_provider():
    """Route `fake:NAME` model ids to a scripted model through the public registry hook.
    Each test gets a fresh model name, so answers cached by another test never match."""
    models: dict[str, ScriptedChatModel] = {}

    def install(script) -> str:
        name = f"scripted-{next(_names)}"
        models[name] = ScriptedChatModel(script=script)
        return name

    register_chat_model("fake", lambda name, **_: models[name])
    yield install, models
    unregister_chat_model("fake")


# --- library ------------------------------------------------------------------------------------


def test_valid_answers_become_codebook_annotations(posts, codebook, answers):
    annotator, model, rows = annotate(posts, codebook, script_for(posts, answers))
    assert list(rows) == [post.id for post in posts] and len(model.calls) == len(posts)

    adhd = rows["reddit:t1_l25tf0z"]
    assert adhd.relevant and adhd.post_sentiment == "positive"
    assert (adhd.conditions, adhd.perspectives, adhd.values) == (
        ["adhd"],
        ["instrumental_support"],
        ["human_welfare"],
    )
    assert adhd.impacts[0].product == "chatgpt"  # "ChatGPT" normalised to the codebook id

    mixed = rows["app_store:8829f78ef2b5"]
    assert mixed.crisis and mixed.post_sentiment == "mixed"
    assert mixed.conditions == ["anxiety", "depressive"]

    for not_relevant in ("reddit:t3_lgf7y4", "google_play:b1a03c60-73bc-40a6-9074-f0e881b45194"):
        assert rows[not_relevant].relevant is False and rows[not_relevant].impacts == []

    grief = rows["reddit:t1_jaqasum"]
    assert grief.conditions == ["general"] and grief.values == ["human_welfare"]
    text = {post.id: post.text for post in posts}
    for row in rows.values():
        assert row.error is None
        assert row.annotator.name == "llm" and row.annotator.codebook_version.startswith("test-1")
        for impact in row.impacts:
            assert impact.supporting_quote in text[row.id]
    assert annotator.stats.quotes_repaired == 1  # the grief quote had its spaces collapsed
    assert annotator.usage.report().input_tokens == 1200 * len(posts)


def test_hallucinated_quote_is_dropped_and_counted(posts, codebook, answers):
    answer = copy.deepcopy(answers["app_store:03eb903a9ba1"])
    answer["impacts"][0]["supporting_quote"] = "This bot made my anxiety so much worse every day"
    annotator, _, rows = annotate(
        posts,
        codebook,
        script_for(posts, answers, {"app_store:03eb903a9ba1": [tool_answer(answer)]}),
    )
    row = rows["app_store:03eb903a9ba1"]
    assert row.relevant is False and row.impacts == [] and row.error is None
    assert annotator.stats.impacts_dropped == 1


def test_unknown_label_becomes_other_with_the_raw_label_kept(posts, codebook, answers):
    answer = copy.deepcopy(answers["reddit:t1_jaqasum"])
    answer["impacts"][0]["perspective"] = "grief over a lost companion"
    answer["impacts"][0]["value"] = "Friendship"
    annotator, _, rows = annotate(
        posts, codebook, script_for(posts, answers, {"reddit:t1_jaqasum": [tool_answer(answer)]})
    )
    impact = rows["reddit:t1_jaqasum"].impacts[0]
    assert (impact.perspective, impact.value) == ("other", "other")
    assert impact.raw_labels == {
        "perspective": "grief over a lost companion",
        "value": "Friendship",
    }
    assert annotator.stats.labels_other == 2


def test_malformed_output_is_retried_then_recorded_as_error_row(posts, codebook, answers):
    bad = [invalid_json_answer(), tool_answer({"impacts": [{"quote": "x"}]})]
    annotator, model, rows = annotate(
        posts, codebook, script_for(posts, answers, {"reddit:t1_l25tf0z": bad}), max_retries=2
    )
    row = rows["reddit:t1_l25tf0z"]
    assert row.relevant is False and row.impacts == []
    assert "does not fit the schema" in row.error and "after 3 attempts" in row.error
    assert model.calls.count(posts[0].text[:60]) == 3
    assert all(rows[p.id].error is None for p in posts[1:])
    assert annotator.usage.failed == 1


def test_refusal_is_an_error_row(posts, codebook, answers):
    refusal = ["I can't help with analysing posts about self-harm."]
    _, model, rows = annotate(
        posts, codebook, script_for(posts, answers, {"app_store:8829f78ef2b5": refusal})
    )
    row = rows["app_store:8829f78ef2b5"]
    assert row.error.startswith("model refused: I can't help") and row.relevant is False
    assert model.calls.count(posts[3].text[:60]) == 1


@pytest.mark.parametrize("error", [rate_limit_error, timeout_error])
def test_transient_errors_are_retried(posts, codebook, answers, error):
    post_id = "reddit:t1_jaqasum"
    flaky = [error(), error(), tool_answer(answers[post_id])]
    _, _, rows = annotate(posts, codebook, script_for(posts, answers, {post_id: flaky}))
    assert rows[post_id].error is None and rows[post_id].relevant

    _, _, rows = annotate(
        posts, codebook, script_for(posts, answers, {post_id: [error()]}), max_retries=1
    )
    assert rows[post_id].relevant is False and "after 2 attempts" in rows[post_id].error


def test_dead_server_stops_the_run_instead_of_writing_error_rows(posts, codebook, answers):
    dead = {post.id: [timeout_error()] for post in posts}
    with pytest.raises(ModelError, match="ScriptedChatModel:scripted failed 4 attempts in a row"):
        annotate(posts, codebook, script_for(posts, answers, dead), max_retries=0)
    # A single failing post is an error row: it may be a refusal, not a dead server.
    _, _, rows = annotate(posts[:1], codebook, script_for(posts, answers, dead), max_retries=0)
    assert rows[posts[0].id].error.startswith("APITimeoutError")


def test_prompt_renders_the_codebook_and_few_shot_examples(codebook):
    prompt = render_system_prompt(codebook)
    for label in ("causal", "instrumental", "experiential", "evaluative", "metaphor"):
        assert f"**{label}**" in prompt
    assert "`interaction_limitations`" in prompt and "`freedom_from_bias`" in prompt
    assert "so bipolar" in prompt  # the exclusion example
    assert prompt.count("Answer:") == 5


# --- CLI ----------------------------------------------------------------------------------------


def run_mine(cli, out: Path, model_name: str, *extra: str):
    return cli(
        "--json",
        "mine",
        POSTS,
        "--out",
        out,
        "--annotator",
        f"fake:{model_name}",
        "--codebook",
        CODEBOOK,
        "--concurrency",
        "2",
        *extra,
    )


def test_cli_end_to_end_and_second_run_is_served_from_cache(
    cli, tmp_path, posts, answers, fake_provider
):
    install, models = fake_provider
    name = install(script_for(posts, answers))
    out = tmp_path / "annotations.jsonl"

    result = run_mine(cli, out, name)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    rows = [Annotation.model_validate_json(line) for line in out.read_text().splitlines()]
    assert [row.id for row in rows] == [post.id for post in posts]
    assert [row.relevant for row in rows] == [True, False, False, True, True, True]
    assert rows[0].annotator.model == f"fake:{name}"
    assert report["relevant"] == 4 and report["errors"] == 0 and report["crisis"] == 1
    assert report["conditions"] == {"general": 2, "adhd": 1, "anxiety": 1, "depressive": 1}
    assert report["usage"]["calls"] == 6 and report["usage"]["input_tokens"] == 7200
    assert report["usage"]["estimated_cost_usd"] is None  # a fake model has no price
    assert not (tmp_path / "annotations.jsonl.partial.jsonl").exists()
    first_output = out.read_text()

    calls_before = len(models[name].calls)
    again = run_mine(cli, out, name)
    assert again.exit_code == 0, again.output
    assert len(models[name].calls) == calls_before  # zero model calls
    assert json.loads(again.stdout)["usage"]["cached"] == 6
    assert out.read_text() == first_output


def test_cli_human_summary_and_gzip_output(cli, tmp_path, posts, answers, fake_provider):
    import gzip

    install, _ = fake_provider
    name = install(script_for(posts, answers))
    out = tmp_path / "annotations.jsonl.gz"
    result = cli(
        "mine", POSTS, "--out", out, "-a", f"fake:{name}", "--codebook", CODEBOOK, "--limit", "3"
    )
    assert result.exit_code == 0, result.output
    assert "relevant" in result.stdout and "1 (33.3%)" in result.stdout
    assert "estimated cost n/a" in result.stdout
    with gzip.open(out, "rt", encoding="utf-8") as handle:
        assert len(handle.read().splitlines()) == 3


def test_cli_error_rows_are_reported(cli, tmp_path, posts, answers, fake_provider):
    install, _ = fake_provider
    refusal = {"app_store:8829f78ef2b5": ["Sorry, I cannot do that."]}
    name = install(script_for(posts, answers, refusal))
    out = tmp_path / "a.jsonl"
    result = run_mine(cli, out, name)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["errors"] == 1
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == len(posts)
    assert [row["id"] for row in rows if row["error"]] == ["app_store:8829f78ef2b5"]


def test_cli_authentication_error_is_one_red_line_and_keeps_progress(
    cli, tmp_path, posts, answers, fake_provider
):
    install, _ = fake_provider
    name = install(script_for(posts, answers, {"reddit:t1_l25tf0z": [authentication_error()]}))
    out = tmp_path / "a.jsonl"
    result = run_mine(cli, out, name, "--concurrency", "1")
    assert result.exit_code == 2
    assert "error:" in result.stderr and "AuthenticationError" in result.stderr
    assert not out.exists()
    assert (tmp_path / "a.jsonl.partial.jsonl").exists()


def test_cli_unknown_annotator_name(cli, tmp_path):
    result = cli("mine", POSTS, "--out", tmp_path / "a.jsonl", "--annotator", "gpt4")
    assert result.exit_code == 2 and "unknown annotator 'gpt4'" in result.stderr
