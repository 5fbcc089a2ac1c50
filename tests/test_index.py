"""Corpus index: build (incremental, cached, crash-safe), retrieval (filters, relaxation, MMR),
auto-build on first use, and the CLI including its error lines.

Fixtures in tests/data/index/ are 42 real posts from the project corpus with hand-written
annotations (see tests/data/index/README.md).
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import numpy as np
import pytest

from evaluator.cli._common import state
from evaluator.config import Settings
from evaluator.errors import CorpusIndexError, InputError
from evaluator.index import Retriever, VectorStore, build_index, index_status, mmr_select
from evaluator.index import build as build_module
from evaluator.index.build import write_voice_embeddings
from evaluator.types import Annotation, IndexInfo

DATA = Path(__file__).parent / "data" / "index"
CORPUS = DATA / "corpus.jsonl"
ANNOTATIONS = DATA / "annotations.jsonl"


def _annotations() -> list[Annotation]:
    return [Annotation.model_validate_json(line) for line in ANNOTATIONS.read_text().splitlines()]


def _indexable(annotations: list[Annotation]) -> dict[str, dict]:
    """quote -> impact labels, for every impact the index must hold (computed independently)."""
    found = {}
    for annotation in annotations:
        if annotation.relevant and annotation.error is None:
            for impact in annotation.impacts:
                found[impact.supporting_quote] = {
                    "id": annotation.id,
                    **impact.model_dump(include={"condition", "sentiment", "perspective", "value"}),
                }
    return found


def _write_annotations(path: Path, annotations: list[Annotation]) -> Path:
    path.write_text("".join(a.model_dump_json() + "\n" for a in annotations))
    return path


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """One embedding cache for the session: each fixture quote is encoded once."""
    return tmp_path_factory.mktemp("embedding-cache")


def _settings(root: Path, cache: Path, annotations: Path = ANNOTATIONS) -> Settings:
    """Without the shipped voice vectors, so the embedding cache is what these tests see, and
    without the similarity floor, so filters and relaxation show on every fixture voice."""
    return Settings(
        corpus=CORPUS,
        annotations=annotations,
        index_path=root / "chroma",
        cache_dir=cache,
        voice_embeddings=root / "no-shipped-vectors.npz",
        voice_min_similarity=-1.0,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory, shared_cache) -> Settings:
    """A fixture index built once for the read-only tests of this module."""
    settings = _settings(tmp_path_factory.mktemp("index"), shared_cache)
    build_index(settings)
    return settings


@pytest.fixture(scope="module")
def retriever(built) -> Retriever:
    return Retriever.open(built, auto_build=False)


# --- build ------------------------------------------------------------------------------


def test_build_indexes_every_relevant_impact_with_its_labels(built, retriever):
    expected = _indexable(_annotations())
    manifest = retriever.manifest
    assert manifest.count == len(expected) == retriever.store.count(manifest.collection)
    indexed_posts = {key.split("#")[0] for key in manifest.items}
    assert indexed_posts == {v["id"] for v in expected.values()}
    # Irrelevant and failed annotations stay out.
    skipped = {a.id for a in _annotations() if not a.relevant or a.error}
    assert skipped and not skipped & indexed_posts
    conditions: dict[str, int] = {}
    for labels in expected.values():
        conditions[labels["condition"]] = conditions.get(labels["condition"], 0) + 1
    assert manifest.conditions == conditions
    assert manifest.codebook_version == "1"
    # A quote finds itself first, carrying the labels it was annotated with.
    quote, labels = next(iter(q for q in expected.items() if q[1]["condition"] == "bipolar"))
    top = retriever.query(quote, k=1)[0]
    assert top.quote == quote and top.similarity > 0.99
    assert (top.id, top.condition, top.sentiment, top.perspective, top.value) == (
        labels["id"],
        labels["condition"],
        labels["sentiment"],
        labels["perspective"],
        labels["value"],
    )
    assert top.platform == labels["id"].split(":")[0]


def test_chroma_metadata_has_post_context_and_no_nulls(retriever):
    hits = retriever.store.query(
        retriever.manifest.collection, retriever.embedder.encode_query("anxiety"), 60, None
    )
    assert len(hits) == retriever.manifest.count
    for hit in hits:
        assert None not in hit.metadata.values()
        assert hit.document in hit.metadata["context"]
        assert set(hit.metadata) >= {
            "post_id", "platform", "created_at", "product", "sentiment", "condition",
            "perspective", "value", "crisis", "gen",
        }  # fmt: skip
    crisis_posts = {a.id for a in _annotations() if a.crisis}
    assert {h.metadata["post_id"] for h in hits if h.metadata["crisis"]} == crisis_posts


def test_rebuild_adds_changed_and_deletes_removed_items_only(tmp_path, shared_cache):
    annotations = _annotations()
    settings = _settings(
        tmp_path, shared_cache, _write_annotations(tmp_path / "a.jsonl", annotations)
    )
    first = build_index(settings)
    assert first.full_rebuild and first.added == first.count

    again = build_index(settings)
    assert (again.added, again.removed, again.unchanged) == (0, 0, first.count)

    relevant = [a for a in annotations if a.relevant and not a.error]
    changed, dropped = relevant[0], relevant[1]
    changed.impacts[0].value = "trust" if changed.impacts[0].value != "trust" else "privacy"
    kept = [a for a in annotations if a.id != dropped.id]
    _write_annotations(tmp_path / "a.jsonl", kept)
    update = build_index(settings)
    assert not update.full_rebuild
    assert update.added == 1
    assert update.removed == 1 + len(dropped.impacts)
    assert update.count == first.count - len(dropped.impacts)
    assert update.encoded == 0  # the changed item's quote was already in the embedding cache

    retriever = Retriever.open(settings, auto_build=False)
    assert retriever.store.count(retriever.manifest.collection) == update.count
    top = retriever.query(changed.impacts[0].supporting_quote, k=1)[0]
    assert top.value == changed.impacts[0].value
    assert all(v.id != dropped.id for v in retriever.query("chatbot", k=update.count))
    retriever.close()


def test_embedding_cache_means_a_second_index_encodes_nothing(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = build_index(_settings(tmp_path / "one", cache))
    assert first.encoded == first.count and first.cached == 0

    def refuse(self, texts, **kwargs):
        raise AssertionError("encoder called although every text is cached")

    monkeypatch.setattr("evaluator.index.embeddings.Embedder._encode_raw", refuse)
    second = build_index(_settings(tmp_path / "two", cache))
    assert second.encoded == 0 and second.cached == second.count == first.count


def test_shipped_vectors_mean_a_first_build_encodes_nothing(tmp_path, shared_cache, monkeypatch):
    """What makes a fresh install's first `score` fast: the voices' vectors ship with the corpus."""
    settings = _settings(tmp_path, shared_cache).model_copy(
        update={"voice_embeddings": tmp_path / "voices.npz"}
    )
    count, _ = write_voice_embeddings(settings)
    assert count == len(_indexable(_annotations()))

    def refuse(self, texts, **kwargs):
        raise AssertionError("encoder called although every voice has a shipped vector")

    monkeypatch.setattr("evaluator.index.embeddings.Embedder._encode_raw", refuse)
    fresh = settings.model_copy(update={"cache_dir": tmp_path / "empty-cache"})
    notices = []
    report = build_index(fresh, on_start=lambda *counts: notices.append(counts))
    assert report.encoded == 0 and report.cached == report.count == count
    assert notices == [(count, 0)]


def test_voices_under_the_similarity_floor_are_not_quoted(built):
    floored = Retriever.open(built.model_copy(update={"voice_min_similarity": 0.3}))
    try:
        voices = floored.voices_for(text="the AI fed my delusions", conditions=["adhd"], k=3)
        assert all(v.similarity >= 0.3 for v in voices)
        assert floored.info().voice_queries_below_floor == (0 if voices else 1)
        off_topic = "Return the number of days in the given month of a proleptic Gregorian year."
        assert floored.voices_for(text=off_topic, conditions=["autism"], k=3) == []
        assert floored.query(off_topic, k=5) == []
        info = floored.info()
        assert info.min_similarity == 0.3 and info.voice_queries == 3
        assert info.voice_queries_below_floor >= 2
    finally:
        floored.close()


def _state(info: IndexInfo) -> dict:
    """What `info()` says about the index itself (not this retriever's query counts)."""
    return info.model_dump(exclude={"voice_queries", "voice_queries_below_floor"})


@pytest.mark.parametrize("rebuild", [False, True], ids=["incremental", "full"])
def test_crash_mid_build_leaves_previous_index_usable(tmp_path, shared_cache, monkeypatch, rebuild):
    settings = _settings(
        tmp_path, shared_cache, _write_annotations(tmp_path / "a.jsonl", _annotations())
    )
    build_index(settings)
    before = Retriever.open(settings, auto_build=False)
    probe = "the app just repeats generic answers and ignores what I said"
    expected = before.query(probe, k=8)
    expected_info = _state(before.info())
    before.close()

    # v2: every impact of the first half of the posts gets new labels (so new records).
    changed = _annotations()
    for annotation in changed[:20]:
        for impact in annotation.impacts:
            impact.sentiment = "neutral"
    _write_annotations(tmp_path / "a.jsonl", changed)
    monkeypatch.setattr(build_module, "_CHUNK", 4)
    calls = {"n": 0}
    real_add = VectorStore.add

    def dying_add(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("simulated crash mid-build")
        return real_add(self, *args, **kwargs)

    monkeypatch.setattr(VectorStore, "add", dying_add)
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_index(settings, rebuild=rebuild)
    assert calls["n"] == 3

    during = Retriever.open(settings, auto_build=False)
    assert _state(during.info()) == expected_info
    assert during.query(probe, k=8) == expected
    assert during.voices_for(text=probe, conditions=["anxiety"], k=3)
    during.close()

    monkeypatch.setattr(VectorStore, "add", real_add)
    report = build_index(settings)
    after = Retriever.open(settings, auto_build=False)
    assert report.generation == expected_info["generation"] + 1
    assert after.store.count(after.manifest.collection) == after.manifest.count
    assert after.store.voice_collections() == [after.manifest.collection]
    neutral = {i.supporting_quote for a in changed[:20] for i in a.impacts}
    assert neutral
    assert all(v.sentiment == "neutral" for v in after.query(probe, k=60) if v.quote in neutral)
    after.close()


def test_records_outside_the_manifest_never_surface(tmp_path, shared_cache):
    """An interrupted clean-up can leave records the manifest no longer lists."""
    settings = _settings(tmp_path, shared_cache)
    build_index(settings)
    retriever = Retriever.open(settings, auto_build=False)
    name = retriever.manifest.collection
    stray = retriever.embedder.encode_query("I love my replika so much")
    retriever.store.add(
        name,
        [f"stray{i}" for i in range(5)],
        np.stack([stray] * 5),
        ["I love my replika so much"] * 5,
        [{"condition": "autism", "gen": retriever.manifest.generation}] * 5,
    )
    reopened = Retriever.open(settings, auto_build=False)
    voices = reopened.voices_for(text="I love my replika so much", conditions=["autism"], k=3)
    assert len(voices) == 3 and all(v.quote != "I love my replika so much" for v in voices)
    report = build_index(settings)  # the next build removes the strays
    assert report.added == 0
    assert reopened.store.count(name) == reopened.manifest.count
    reopened.close()
    retriever.close()


def test_build_rejects_bad_annotations_with_file_and_line(tmp_path, shared_cache):
    bad = tmp_path / "bad.jsonl"
    lines = ANNOTATIONS.read_text().splitlines()
    row = json.loads(lines[2])
    row["impacts"][0]["sentiment"] = "ecstatic"
    bad.write_text("\n".join([lines[0], lines[1], json.dumps(row)]) + "\n")
    with pytest.raises(InputError) as info:
        build_index(_settings(tmp_path, shared_cache, bad))
    assert info.value.line == 3 and info.value.field == "impacts.0.sentiment"
    empty = tmp_path / "irrelevant.jsonl"
    _write_annotations(empty, [a for a in _annotations() if not a.relevant])
    with pytest.raises(InputError, match="no relevant impacts"):
        build_index(_settings(tmp_path, shared_cache, empty))


# --- retrieval --------------------------------------------------------------------------


def _labels(annotations, **want) -> list[dict]:
    return [
        labels
        for labels in _indexable(annotations).values()
        if all(labels[f] in v for f, v in want.items())
    ]


def test_voices_for_filters_or_within_and_across_fields(retriever):
    strict = _labels(_annotations(), condition={"adhd", "bipolar"}, value={"autonomy"})
    assert len(strict) >= 3
    voices = retriever.voices_for(
        text="it helps me get things done", conditions=["adhd", "bipolar"], values=["autonomy"],
        k=3,
    )  # fmt: skip
    assert len(voices) == 3
    assert all(v.condition in {"adhd", "bipolar"} and v.value == "autonomy" for v in voices)
    assert len({v.quote for v in voices}) == 3


def test_voices_for_relaxes_perspective_then_value_but_keeps_conditions(retriever):
    annotations = _annotations()
    wanted = dict(condition={"autism"}, value={"identity"}, perspective={"emotional_support"})
    assert len(_labels(annotations, **wanted)) == 1
    assert len(_labels(annotations, condition={"autism"}, value={"identity"})) == 2
    voices = retriever.voices_for(
        text="being accepted as I am",
        conditions=["autism"], values=["identity"], perspectives=["emotional_support"], k=4,
    )  # fmt: skip
    assert len(voices) == 4
    assert voices[0].perspective == "emotional_support" and voices[0].value == "identity"
    assert voices[1].value == "identity" and voices[1].perspective != "emotional_support"
    assert all(v.condition == "autism" for v in voices)

    eating = _labels(annotations, condition={"eating"})
    only = retriever.voices_for(
        text="no help", conditions=["eating"], values=["privacy"], perspectives=["dependency"], k=5
    )
    assert len(only) == len(eating) == 2
    assert all(v.condition == "eating" for v in only)
    assert len(retriever.voices_for(text="no help", k=5)) == 5


def test_mmr_prefers_diverse_voices():
    base = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    near = np.array([0.99, 0.141, 0.0], dtype=np.float32)
    other = np.array([0.6, 0.0, 0.8], dtype=np.float32)
    query = np.array([0.9, 0.1, 0.42], dtype=np.float32)
    query /= np.linalg.norm(query)
    cands = np.stack([base, near, other])
    by_similarity = list(np.argsort(-(cands @ query))[:2])
    assert set(by_similarity) == {0, 1}
    assert mmr_select(query, cands, 2, lambda_mult=1.0) == by_similarity
    assert mmr_select(query, cands, 2, lambda_mult=0.5) == [by_similarity[0], 2]
    assert mmr_select(query, cands, 1, lambda_mult=0.5, selected=base[None, :]) == [2]


def test_voices_for_with_mmr_off_or_lambda_one_is_plain_similarity(retriever):
    plain = retriever.voices_for(text="my replika is my friend", k=4, mmr=False)
    assert plain == retriever.voices_for(text="my replika is my friend", k=4, lambda_mult=1.0)
    assert [v.similarity for v in plain] == sorted((v.similarity for v in plain), reverse=True)
    diverse = retriever.voices_for(text="my replika is my friend", k=4, fetch_k=30)
    assert len(diverse) == 4 and len({v.quote for v in diverse}) == 4


def test_query_applies_exact_filters(retriever):
    negative = retriever.query("the chatbot", sentiment="negative", k=50)
    assert negative and all(v.sentiment == "negative" for v in negative)
    assert len(negative) == len(_labels(_annotations(), sentiment={"negative"}))
    both = retriever.query(
        "the chatbot", condition="anxiety", perspective="interaction_limitations"
    )
    assert both and all(
        (v.condition, v.perspective) == ("anxiety", "interaction_limitations") for v in both
    )
    assert retriever.query("x", condition="no_such_condition") == []


def test_info_names_model_codebook_count_and_location(retriever, built):
    info = retriever.info()
    assert info.embedding_model == "sentence-transformers/all-MiniLM-L6-v2"
    assert info.embedding_model_hash.startswith("sha256:")
    assert info.codebook_version == "1"
    assert info.count == len(_indexable(_annotations()))
    assert info.path == str(built.index_path)


# --- first use ----------------------------------------------------------------------------


def test_missing_index_is_built_on_first_use_with_one_notice(tmp_path, shared_cache, capsys):
    """The notice reaches the caller's `on_notice`; the library itself writes nothing."""
    settings = _settings(tmp_path, shared_cache)
    with pytest.raises(CorpusIndexError, match="index not found"):
        Retriever.open(settings, auto_build=False)
    notices: list[str] = []
    retriever = Retriever.open(settings, on_notice=notices.append)
    assert capsys.readouterr() == ("", "")
    assert len(notices) == 1
    assert re.fullmatch(
        rf"index not found at {re.escape(str(settings.index_path))}; building it from the "
        r"shipped corpus \(once, ~\d+ s\)",
        notices[0],
    )
    assert retriever.info().count == len(_indexable(_annotations()))
    retriever.close()


def test_index_older_than_its_annotations_is_updated_on_open(tmp_path, shared_cache, capsys):
    annotations = _annotations()
    path = _write_annotations(tmp_path / "a.jsonl", annotations)
    settings = _settings(tmp_path, shared_cache, path)
    first = build_index(settings)
    dropped = next(a for a in annotations if a.relevant and not a.error)
    _write_annotations(path, [a for a in annotations if a.id != dropped.id])

    stale = Retriever.open(settings, auto_build=False)  # no update without auto_build
    assert stale.info().count == first.count
    stale.close()
    notices: list[str] = []
    retriever = Retriever.open(settings, on_notice=notices.append)
    assert len(notices) == 1 and "is older than" in notices[0]
    assert retriever.info().count == first.count - len(dropped.impacts)
    retriever.close()
    Retriever.open(settings, on_notice=notices.append).close()  # up to date now: no update
    assert len(notices) == 1
    assert capsys.readouterr() == ("", "")


def test_a_first_use_build_without_on_notice_is_silent(tmp_path, shared_cache, capsys):
    Retriever.open(_settings(tmp_path, shared_cache)).close()
    assert capsys.readouterr() == ("", "")


# --- CLI ----------------------------------------------------------------------------------


def _config(tmp_path: Path, cache: Path, **overrides) -> Path:
    values = {
        "corpus": str(CORPUS),
        "annotations": str(ANNOTATIONS),
        "index_path": str(tmp_path / "chroma"),
        "cache_dir": str(cache),
        **overrides,
    }
    config = tmp_path / "mheval.toml"
    config.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()))
    return config


def run_cli(monkeypatch, *args) -> tuple[int, str, str]:
    """Run `mheval ...` in-process: exit code, stdout, stderr."""
    from typer.testing import CliRunner

    from evaluator.cli.app import app

    monkeypatch.setattr(state, "_settings", None)  # settings are cached per process
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_cli_build_query_status(tmp_path, shared_cache, monkeypatch):
    config = _config(tmp_path, shared_cache)
    code, out, _ = run_cli(monkeypatch, "--config", config, "index", "build", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["count"] == len(_indexable(_annotations())) and report["backend"] == "embedded"

    code, out, _ = run_cli(monkeypatch, "--config", config, "index", "build")
    assert code == 0 and "up to date" in out

    code, out, _ = run_cli(
        monkeypatch, "--config", config, "--json", "index", "query",
        "it breaks my tasks into small steps", "--condition", "adhd", "-k", "2",
    )  # fmt: skip
    assert code == 0
    voices = json.loads(out)["voices"]
    assert len(voices) == 2 and all(v["condition"] == "adhd" for v in voices)
    assert "breaks bigger tasks down" in voices[0]["quote"]

    code, out, _ = run_cli(
        monkeypatch, "--config", config, "index", "query", "delusions", "-k", "3"
    )
    assert code == 0 and "delusion" in out and "sim" in out

    code, out, _ = run_cli(
        monkeypatch, "--config", config, "index", "query", "delusions", "--min-similarity", "0.99"
    )
    assert code == 0 and "no voice is as similar as 0.99" in out

    code, out, _ = run_cli(monkeypatch, "--config", config, "index", "status", "--json")
    status = json.loads(out)
    assert status["count"] == report["count"] and status["model_matches"]
    assert status["size_bytes"] > 0 and status["conditions"]["autism"] == 10
    code, out, _ = run_cli(monkeypatch, "--config", config, "index", "status")
    assert code == 0 and "voices per condition" in out and "autism" in out


def test_cli_shows_the_first_use_notice_of_query_and_score(tmp_path, shared_cache, monkeypatch):
    """The library is quiet; the CLI passes a callback that prints its notice on stderr, for
    `index query` and for the scoring session of `score`."""
    from support.scoring import FakeJudge, write_guidelines

    from evaluator.judges.base import JUDGES, register_judge

    if JUDGES.find("test-index-pass") is None:
        register_judge("test-index-pass")(lambda settings=None, *, samples=1: FakeJudge())
    guidelines = tmp_path / "guidelines"
    write_guidelines(guidelines)
    notice = "index not found at {}; building it from the shipped corpus"
    for name, args in (
        ("query", ("index", "query", "a friend")),
        ("score", ("score", DATA.parent / "transcripts" / "formats" / "chat.json",
                   "--judge", "test-index-pass", "--guidelines", guidelines, "--exit-zero")),
    ):  # fmt: skip
        root = tmp_path / name
        root.mkdir()
        config = _config(root, shared_cache)
        code, _, err = run_cli(monkeypatch, "--config", config, *args)
        assert code == 0, err
        assert notice.format(root / "chroma") in err


def _assert_one_error_line(code: int, err: str, pattern: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error:") and re.search(pattern, lines[0]), lines[0]


def test_cli_missing_index_without_annotations_is_one_error(tmp_path, shared_cache, monkeypatch):
    config = _config(tmp_path, shared_cache, annotations=str(tmp_path / "none.jsonl"))
    code, _, err = run_cli(monkeypatch, "--config", config, "index", "query", "help")
    _assert_one_error_line(code, err, r"index not found; no annotations at .*none\.jsonl")
    code, _, err = run_cli(monkeypatch, "--config", config, "index", "status")
    _assert_one_error_line(code, err, r"chroma: index not found")


def test_cli_corrupt_index_and_model_mismatch(tmp_path, shared_cache, monkeypatch):
    config = _config(tmp_path, shared_cache)
    assert run_cli(monkeypatch, "--config", config, "index", "build")[0] == 0
    manifest_file = tmp_path / "chroma" / "manifest.json"
    good = manifest_file.read_text()

    manifest = json.loads(good)
    manifest["embedding_model"]["hash"] = "sha256:0000000000000000"
    manifest_file.write_text(json.dumps(manifest))
    code, _, err = run_cli(monkeypatch, "--config", config, "index", "query", "help")
    _assert_one_error_line(code, err, r"built with embedding model .*sha256:0000000000000000")

    manifest_file.write_text(good[: len(good) // 2])
    code, _, err = run_cli(monkeypatch, "--config", config, "index", "query", "help")
    _assert_one_error_line(code, err, r"manifest\.json: corrupt index: .*--rebuild")

    manifest = json.loads(good)
    manifest["collection"] = "mheval_voices_999"
    manifest_file.write_text(json.dumps(manifest))
    code, _, err = run_cli(monkeypatch, "--config", config, "index", "query", "help")
    _assert_one_error_line(code, err, r"corrupt index: collection 'mheval_voices_999'")

    code, out, _ = run_cli(monkeypatch, "--config", config, "index", "build", "--rebuild")
    assert code == 0 and "rebuilt" in out
    assert run_cli(monkeypatch, "--config", config, "index", "query", "help")[0] == 0

    (tmp_path / "chroma" / "chroma.sqlite3").write_bytes(b"this is not a database" * 200)
    code, _, err = run_cli(monkeypatch, "--config", config, "index", "query", "help")
    _assert_one_error_line(code, err, r"chroma: corrupt index: cannot open it: .*--rebuild")
    code, out, err = run_cli(monkeypatch, "--config", config, "index", "build", "--rebuild")
    assert code == 0 and "rebuilt" in out
    assert "unreadable index moved to chroma.corrupt-" in err
    assert [p.name.split("-")[0] for p in tmp_path.glob("chroma.corrupt-*")] == ["chroma.corrupt"]
    assert run_cli(monkeypatch, "--config", config, "index", "query", "help")[0] == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cli_unreachable_server_is_one_error(tmp_path, shared_cache, monkeypatch):
    config = _config(tmp_path, shared_cache)
    url = f"http://127.0.0.1:{_free_port()}"
    for command in (["query", "help"], ["status"], ["build"]):
        code, _, err = run_cli(
            monkeypatch, "--config", config, "index", *command, "--chroma-url", url
        )
        _assert_one_error_line(code, err, rf"{re.escape(url)}: cannot reach Chroma server")
    assert not (tmp_path / "chroma").exists()


def test_fixture_quotes_are_verbatim():
    """The fixture must stay honest: each quote is a substring of its real post."""
    posts = {json.loads(line)["id"]: json.loads(line)["text"] for line in CORPUS.open()}
    for annotation in _annotations():
        for impact in annotation.impacts:
            assert impact.supporting_quote in posts[annotation.id]


def test_index_status_reports_missing_index(tmp_path):
    with pytest.raises(CorpusIndexError, match="index not found"):
        index_status(Settings(index_path=tmp_path / "nothing", cache_dir=tmp_path))
    assert not (tmp_path / "nothing").exists()


def test_post_missing_from_corpus_is_indexed_with_platform_from_its_id(tmp_path, shared_cache):
    posts = CORPUS.read_text().splitlines()
    kept = [line for line in posts if not line.startswith('{"id":"app_store:8829f78ef2b5"')]
    assert len(kept) == len(posts) - 1
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(kept) + "\n")
    settings = _settings(tmp_path, shared_cache).model_copy(update={"corpus": corpus})
    build_index(settings)
    retriever = Retriever.open(settings, auto_build=False)
    voice = retriever.query("calming you down if you have anxiety", condition="anxiety", k=1)[0]
    assert (voice.id, voice.platform) == ("app_store:8829f78ef2b5", "app_store")
    retriever.close()


def test_concurrent_builds_of_one_index_run_one_after_the_other(tmp_path, shared_cache):
    from concurrent.futures import ThreadPoolExecutor

    settings = _settings(tmp_path, shared_cache)
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda _: build_index(settings), range(2)))
    first, second = sorted(reports, key=lambda r: -r.added)
    assert first.full_rebuild and first.added == first.count
    assert (second.added, second.removed, second.unchanged) == (0, 0, first.count)
    retriever = Retriever.open(settings, auto_build=False)
    assert retriever.store.voice_collections() == [retriever.manifest.collection]
    retriever.close()
