"""Quote verification and label normalisation of model output, on real posts."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluator.codebook import load_codebook
from evaluator.mine.normalise import LabelNormaliser, find_quote
from evaluator.mine.pipeline import read_posts

DATA = Path(__file__).parent / "data" / "mine"


@pytest.fixture(scope="module")
def posts():
    return {post.id: post.text for post in read_posts(DATA / "llm_posts.jsonl")}


@pytest.fixture(scope="module")
def normaliser():
    return LabelNormaliser(load_codebook(DATA / "codebook.yaml"))


def test_exact_quote_is_kept(posts):
    text = posts["app_store:8829f78ef2b5"]
    quote = "It can't handle more than one problem at a time."
    assert find_quote(quote, text) == (quote, False)


def test_collapsed_whitespace_is_repaired_to_the_real_span(posts):
    text = posts["reddit:t1_jaqasum"]
    span, repaired = find_quote("I just miss my friend. Her name was Joy", text)
    assert repaired and span == "I just miss my friend.   Her name was Joy"
    assert span in text


def test_typographic_quotes_are_repaired(posts):
    text = "It\u2019s the only thing that doesn\u2019t judge me when my anxiety spikes at night."
    span, repaired = find_quote("It's the only thing that doesn't judge me", text)
    assert repaired and span == "It\u2019s the only thing that doesn\u2019t judge me"


def test_small_typo_is_repaired_by_fuzzy_alignment(posts):
    text = posts["app_store:03eb903a9ba1"]
    span, repaired = find_quote("It just repeats the same proces over and over again", text)
    assert repaired and span in text
    assert span.startswith("It just repeats") and span.endswith("over and over again")


def test_invented_quote_is_rejected(posts):
    text = posts["app_store:03eb903a9ba1"]
    assert find_quote("This chatbot cured my depression in a week", text) is None
    assert find_quote("", text) is None


@pytest.mark.parametrize(
    ("kind", "raw", "expected", "unknown"),
    [
        ("conditions", "ADHD", "adhd", False),
        ("conditions", "Depression", "depressive", False),
        ("conditions", "social anxiety", "anxiety", False),
        ("conditions", "none", "general", False),
        ("conditions", "Other (insomnia)", "other", True),
        ("conditions", "Other (depression)", "depressive", False),
        ("perspectives", "Emotional Support", "emotional_support", False),
        ("perspectives", "over-reliance", "dependency", False),
        ("perspectives", "misinformation", "clinical_skepticism", False),
        ("perspectives", "nostalgia", "other", True),
        ("values", "human welfare", "human_welfare", False),
        ("values", "Fairness", "freedom_from_bias", False),
        ("values", "none", "none", False),
        ("values", "curiosity", "other", True),
        ("sentiments", "Positive", "positive", False),
        ("sentiments", "mixed", "neutral", True),
        ("products", "ChatGPT-4o", "chatgpt", False),
        ("products", "Claude Sonnet 4.5", "claude", False),
        ("products", "Character.AI", "character_ai", False),
        ("products", "AI", None, False),
        ("products", None, None, False),
        ("products", "Nomi", "other", True),
    ],
)
def test_labels_are_normalised_to_codebook_ids(normaliser, kind, raw, expected, unknown):
    label = normaliser.normalise(kind, raw)
    assert (label.id, label.unknown) == (expected, unknown)


def test_synonyms_never_map_to_labels_missing_from_the_codebook(normaliser):
    small = normaliser.codebook.model_copy(
        update={"values": [v for v in normaliser.codebook.values if v.id != "freedom_from_bias"]}
    )
    label = LabelNormaliser(small).normalise("values", "fairness")
    assert (label.id, label.unknown) == ("other", True)
