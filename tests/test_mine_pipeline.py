"""The mine pipeline: selection, resumability after interruption, partial-file safety."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.llm_fakes import ScriptedChatModel, tool_answer

from evaluator.codebook import load_codebook
from evaluator.errors import ConfigError, InputError, ModelError
from evaluator.mine.llm import LLMAnnotator
from evaluator.mine.pipeline import mine, partial_path, read_posts, select_posts
from evaluator.types import Annotation

DATA = Path(__file__).parent / "data" / "mine"
POSTS = DATA / "llm_posts.jsonl"


@pytest.fixture(scope="module")
def codebook():
    return load_codebook(DATA / "codebook.yaml")


@pytest.fixture(scope="module")
def answers():
    return json.loads((DATA / "llm_answers.json").read_text(encoding="utf-8"))


def llm_annotator(codebook, answers, model_name="scripted") -> LLMAnnotator:
    posts = list(read_posts(POSTS))
    model = ScriptedChatModel(
        script={post.text[:60]: [tool_answer(answers[post.id])] for post in posts},
        model_name=model_name,
    )
    return LLMAnnotator(model, codebook=codebook, concurrency=2, backoff=0)


class Interrupted(Exception):
    pass


class InterruptAfter:
    """Wraps an annotator and fails once `limit` posts have been annotated, like a crash."""

    def __init__(self, inner, limit: int) -> None:
        self.inner, self.limit, self.seen = inner, limit, 0
        self.info = inner.info

    def annotate(self, posts):
        if self.seen + len(posts) > self.limit:
            raise Interrupted
        self.seen += len(posts)
        return self.inner.annotate(posts)


def test_resume_after_interruption_equals_an_uninterrupted_run(tmp_path, codebook, answers):
    straight = tmp_path / "straight.jsonl"
    mine(
        POSTS, straight, annotator=llm_annotator(codebook, answers), codebook=codebook, batch_size=2
    )

    out = tmp_path / "resumed.jsonl"
    first = llm_annotator(codebook, answers)
    with pytest.raises(Interrupted):
        mine(POSTS, out, annotator=InterruptAfter(first, 4), codebook=codebook, batch_size=2)
    assert not out.exists()
    saved = partial_path(out).read_text().splitlines()
    assert len(saved) == 1 + 4  # header + two batches

    second = llm_annotator(codebook, answers)
    seen = []
    report = mine(
        POSTS,
        out,
        annotator=second,
        codebook=codebook,
        batch_size=2,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert (report.resumed, report.annotated, report.posts) == (4, 2, 6)
    assert second.usage.calls == 2  # only the posts missing from the partial file
    assert seen == [(4, 6), (6, 6)]
    assert out.read_bytes() == straight.read_bytes()
    assert not partial_path(out).exists()


def test_torn_last_line_of_partial_file_is_tolerated(tmp_path, codebook, answers):
    out = tmp_path / "a.jsonl"
    with pytest.raises(Interrupted):
        mine(
            POSTS,
            out,
            annotator=InterruptAfter(llm_annotator(codebook, answers), 2),
            codebook=codebook,
            batch_size=2,
        )
    with open(partial_path(out), "a", encoding="utf-8") as handle:
        handle.write('{"id": "app_store:8829f78ef2b5", "relev')  # killed mid-write
    report = mine(POSTS, out, annotator=llm_annotator(codebook, answers), codebook=codebook)
    assert (report.resumed, report.annotated) == (2, 4)
    rows = [Annotation.model_validate_json(line) for line in out.read_text().splitlines()]
    assert [row.id for row in rows] == [post.id for post in read_posts(POSTS)]


def test_partial_file_of_another_annotator_is_refused_unless_restart(tmp_path, codebook, answers):
    out = tmp_path / "a.jsonl"
    with pytest.raises(Interrupted):
        mine(
            POSTS,
            out,
            annotator=InterruptAfter(llm_annotator(codebook, answers, "model-a"), 2),
            codebook=codebook,
            batch_size=2,
        )
    other = llm_annotator(codebook, answers, "model-b")
    with pytest.raises(ConfigError, match="another annotator") as error:
        mine(POSTS, out, annotator=other, codebook=codebook)
    assert error.value.file == str(partial_path(out))
    report = mine(POSTS, out, annotator=other, codebook=codebook, restart=True)
    assert report.resumed == 0 and report.annotated == 6
    assert {row.annotator.model for row in map(Annotation.model_validate_json, out.open())} == {
        "ScriptedChatModel:model-b"
    }


def test_sample_is_seeded_and_keeps_corpus_order():
    ids = [post.id for post in read_posts(POSTS)]
    first = [post.id for post in select_posts(POSTS, sample=3, seed=1)]
    assert first == [post.id for post in select_posts(POSTS, sample=3, seed=1)]
    assert len(first) == 3 and first == sorted(first, key=ids.index)
    seeds = {tuple(post.id for post in select_posts(POSTS, sample=3, seed=s)) for s in range(6)}
    assert len(seeds) > 1
    assert [post.id for post in select_posts(POSTS, limit=2)] == ids[:2]
    assert [p.id for p in select_posts(POSTS, sample=4, seed=2, limit=2)] == [
        p.id for p in select_posts(POSTS, sample=4, seed=2)
    ][:2]


def test_mine_with_sample_writes_only_the_sample(tmp_path, codebook, answers):
    out = tmp_path / "a.jsonl"
    report = mine(
        POSTS, out, annotator=llm_annotator(codebook, answers), codebook=codebook, sample=2, seed=3
    )
    written = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert written == [post.id for post in select_posts(POSTS, sample=2, seed=3)]
    assert report.posts == 2


def test_corpus_that_is_not_normalised_names_file_line_and_field(tmp_path):
    raw = tmp_path / "raw.jsonl"
    rows = [json.loads(line) for line in POSTS.read_text().splitlines()]
    rows[1]["source"] = rows[1]["meta"].pop("source")
    raw.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    with pytest.raises(InputError) as error:
        list(read_posts(raw))
    assert (error.value.line, error.value.field) == (2, "source")
    assert "mheval corpus ingest" in str(error.value)


def test_duplicate_ids_and_empty_corpus_are_input_errors(tmp_path):
    line = POSTS.read_text().splitlines()[0]
    dup = tmp_path / "dup.jsonl"
    dup.write_text(f"{line}\n{line}\n")
    with pytest.raises(InputError, match="duplicate post id"):
        select_posts(dup)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(InputError, match="no posts"):
        select_posts(empty)


def test_annotator_that_loses_rows_is_caught(tmp_path, codebook, answers):
    class Lossy:
        info = llm_annotator(codebook, answers).info

        def annotate(self, posts):
            return [Annotation(id=post.id, relevant=False) for post in posts[1:]]

    with pytest.raises(ModelError, match="returned 1 rows for 2 posts"):
        mine(POSTS, tmp_path / "a.jsonl", annotator=Lossy(), codebook=codebook, batch_size=2)


def test_output_never_overwrites_the_corpus(codebook, answers):
    with pytest.raises(InputError, match="overwrite the corpus"):
        mine(POSTS, POSTS, annotator=llm_annotator(codebook, answers), codebook=codebook)
