"""The local annotator on a slice of real posts (not in the dev set), with our own labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluator.codebook import codebook_version, load_codebook
from evaluator.config import Settings
from evaluator.errors import ConfigError
from evaluator.mine.base import ANNOTATORS
from evaluator.mine.local import LocalAnnotator
from evaluator.types import Annotation, Post

DATA = Path(__file__).parent / "data" / "local_annotator"

# Loading the embedding model and training the classifiers takes ~30 s on a busy 2-core box.
pytestmark = pytest.mark.slow


def _read(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="module")
def codebook():
    return load_codebook(Settings().codebook)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def annotator(codebook, cache_dir):
    return LocalAnnotator(codebook, cache_dir=cache_dir)


@pytest.fixture(scope="module")
def posts() -> list[Post]:
    return [Post.model_validate(row) for row in _read("posts.jsonl")]


@pytest.fixture(scope="module")
def labels() -> dict[str, dict]:
    return {row["id"]: row for row in _read("labels.jsonl")}


@pytest.fixture(scope="module")
def annotations(annotator, posts) -> list[Annotation]:
    return annotator.annotate(posts)


def test_one_annotation_per_post_in_order(posts, annotations, annotator):
    assert [a.id for a in annotations] == [p.id for p in posts]
    assert all(a.annotator == annotator.info for a in annotations)
    assert annotator.info.name == "local"
    assert annotator.info.codebook_version == codebook_version(load_codebook(Settings().codebook))


def test_quotes_are_verbatim_spans_of_the_post(posts, annotations):
    text_of = {post.id: post.text for post in posts}
    quotes = [(a.id, i.supporting_quote) for a in annotations for i in a.impacts]
    assert quotes, "the slice has relevant posts, so there must be impacts"
    for post_id, quote in quotes:
        assert quote in text_of[post_id]
        assert len(quote.split()) >= 5
        assert quote == quote.strip()


def test_labels_come_from_the_codebook(annotations, codebook):
    products = {product.name for product in codebook.products}
    for annotation in annotations:
        if not annotation.relevant:
            assert annotation.impacts == []
            assert annotation.post_sentiment is None
            assert annotation.perspectives == annotation.values == annotation.conditions == []
            continue
        assert annotation.post_sentiment in {"positive", "negative", "neutral", "mixed"}
        for impact in annotation.impacts:
            assert impact.condition in codebook.ids("conditions")
            assert impact.perspective in codebook.ids("perspectives")
            assert impact.value in codebook.ids("values")
            assert impact.sentiment in {"positive", "negative", "neutral"}
            assert impact.product in products
            assert 0.0 <= impact.confidence <= 1.0
        assert set(annotation.perspectives) == {i.perspective for i in annotation.impacts}


def test_relevance_and_crisis_agree_with_hand_labels(annotations, labels):
    relevant_ok = sum(a.relevant == labels[a.id]["relevant"] for a in annotations)
    assert relevant_ok / len(annotations) >= 0.8
    flagged = {a.id for a in annotations if a.crisis}
    truth = {post_id for post_id, row in labels.items() if row["crisis"]}
    assert truth <= flagged
    assert len(flagged - truth) <= 1


def test_app_reviews_name_their_app_and_frame_sentiment(annotations, posts):
    by_id = {a.id: a for a in annotations}
    review = next(p for p in posts if p.text.startswith("It really helps. Helped me with my dep"))
    annotation = by_id[review.id]
    assert annotation.relevant
    assert annotation.post_sentiment == "positive"  # though "depression" is a negative word
    assert {"depressive", "anxiety"} <= set(annotation.conditions)
    assert {impact.product for impact in annotation.impacts} == {"Youper"}


def test_deterministic_across_instances(posts, annotations, codebook, cache_dir):
    again = LocalAnnotator(codebook, cache_dir=cache_dir).annotate(posts)
    assert [a.model_dump() for a in again] == [a.model_dump() for a in annotations]


def test_shipped_codebook_loads_the_shipped_weights(annotator):
    assert annotator.info.model.endswith(", weights shipped")


def test_codebook_is_the_label_scheme(posts, codebook, tmp_path, monkeypatch):
    """Drop a perspective from the codebook and the annotator can no longer emit it: the
    models are refit for that codebook once, into the cache, and loaded from there next time."""
    from evaluator.mine.local_model import LinearModel

    edited = codebook.model_copy(deep=True)
    edited.perspectives = [p for p in edited.perspectives if p.id != "emotional_support"]
    refit = LocalAnnotator(edited, cache_dir=tmp_path)
    version = codebook_version(edited)
    assert refit.info.model.endswith(f", refit for codebook {version}")
    result = refit.annotate(posts[:12])
    emitted = {i.perspective for a in result for i in a.impacts}
    assert emitted and "emotional_support" not in emitted
    assert (tmp_path / "annotator" / f"{version}.npz").is_file()

    monkeypatch.setattr(LinearModel, "fit", lambda *a, **k: pytest.fail("refit again"))
    again = LocalAnnotator(edited, cache_dir=tmp_path)
    assert again.info == refit.info
    assert [a.model_dump() for a in again.annotate(posts[:12])] == [a.model_dump() for a in result]


def test_edited_codebook_without_labelled_posts_reuses_the_shipped_scorer(
    posts, codebook, tmp_path, monkeypatch
):
    """No labelled posts (an installed wheel): the label models are fit on the codebook's
    examples and the written sentences, next to the shipped impact scorer."""
    import evaluator.mine.local as local

    monkeypatch.setattr(local, "labelled_dir", lambda: None)
    edited = codebook.model_copy(deep=True)
    edited.perspectives[0].examples.append("My chatbot listens when I need to vent at night.")
    annotator = LocalAnnotator(edited, cache_dir=tmp_path)
    assert "without labelled posts, impact scorer shipped" in annotator.info.model
    shipped = LocalAnnotator(codebook, cache_dir=tmp_path)._fit()["impact"]
    assert (annotator._fit()["impact"].coef == shipped.coef).all()
    assert any(a.relevant for a in annotator.annotate(posts[:12]))

    # Fewer cue-bearing perspectives: the shipped scorer no longer fits the features.
    edited.perspectives = edited.perspectives[1:]
    with pytest.raises(ConfigError, match="MHEVAL_ANNOTATOR_LABELLED") as error:
        LocalAnnotator(edited, cache_dir=tmp_path).annotate(posts[:1])
    assert error.value.field == "MHEVAL_ANNOTATOR_LABELLED"


def test_short_and_promotional_posts_are_not_relevant(annotator):
    posts = [
        Post(id="t:1", platform="google_play", text="Good app!", meta={"app": "wysa"}),
        Post(
            id="t:2",
            platform="youtube",
            text="Can AI chatbots replace therapists? | Full episode on mental health",
        ),
        Post(id="t:3", platform="bluesky", text="#AI #mentalhealth #chatbot #startup #growth"),
    ]
    assert [a.relevant for a in annotator.annotate(posts)] == [False, False, False]


def test_empty_input_and_registry(annotator, codebook, cache_dir):
    assert annotator.annotate([]) == []
    factory = ANNOTATORS.find("local")
    assert factory is not None
    assert isinstance(factory(codebook=codebook, cache_dir=cache_dir), LocalAnnotator)


def test_without_a_cache_dir_a_refit_stays_in_memory(codebook, monkeypatch, tmp_path):
    """The caller names the cache (`mine --no-cache`: none); the annotator reads no config."""
    import evaluator.mine.local as local

    monkeypatch.setenv("MHEVAL_CACHE", str(tmp_path))  # what config would name: never used
    edited = codebook.model_copy(deep=True)
    edited.perspectives = [p for p in edited.perspectives if p.id != "emotional_support"]
    monkeypatch.setattr(local, "refit_models", lambda *a: {"refit": True})
    monkeypatch.setattr(local, "save_weights", lambda *a: pytest.fail("saved without a cache"))
    annotator = LocalAnnotator(edited, cache_dir=None)
    assert annotator.info.model.endswith(f", refit for codebook {codebook_version(edited)}")
    assert annotator._fit() == {"refit": True}
    assert list(tmp_path.iterdir()) == []
