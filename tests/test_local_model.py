"""What the local annotator learns from: the shipped labelled posts and the embedding cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evaluator.errors import ConfigError, InputError
from evaluator.mine.codebook import load_codebook
from evaluator.mine.local_model import (
    LABELLED_DIR,
    Embedder,
    LabelModel,
    load_labelled,
)


def test_shipped_labelled_posts_are_valid_gold():
    """Every labelled post parses, its quotes are verbatim and its labels are codebook ids."""
    labelled = load_labelled()
    assert len(labelled) >= 800
    codebook = load_codebook()
    ids = {kind: set(codebook.ids(kind)) for kind in ("conditions", "perspectives", "values")}
    relevant = 0
    for item in labelled:
        relevant += item.gold.relevant
        assert item.gold.relevant == bool(item.gold.impacts)
        for impact in item.gold.impacts:
            assert impact.supporting_quote in item.post.text
            assert impact.condition in ids["conditions"]
            assert impact.perspective in ids["perspectives"]
            assert impact.value in ids["values"] | {"none"}
    assert 0.5 < relevant / len(labelled) < 0.9


def test_labelled_posts_do_not_overlap_the_dev_set():
    dev = Path(__file__).parent.parent / "bench" / "data" / "mine_dev" / "posts.jsonl"
    if not dev.is_file():
        pytest.skip("bench data not in this checkout")
    dev_rows = [json.loads(line) for line in dev.read_text(encoding="utf-8").splitlines()]
    dev_ids = {row["id"] for row in dev_rows}
    dev_texts = {row["text"].strip().lower() for row in dev_rows}
    for item in load_labelled():
        assert item.post.id not in dev_ids
        assert item.post.text.strip().lower() not in dev_texts


def test_gold_without_posts_or_with_other_ids_is_an_error(tmp_path):
    shutil.copy(LABELLED_DIR / "posts_c.jsonl", tmp_path / "posts_c.jsonl")
    with pytest.raises(ConfigError, match="without their gold file"):
        load_labelled(tmp_path)
    rows = (LABELLED_DIR / "gold_c.jsonl").read_text(encoding="utf-8").splitlines()
    (tmp_path / "gold_c.jsonl").write_text("\n".join(reversed(rows)) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="ids differ") as error:
        load_labelled(tmp_path)
    assert "gold_c.jsonl" in str(error.value)


def test_malformed_gold_names_the_file_and_line(tmp_path):
    shutil.copy(LABELLED_DIR / "posts_c.jsonl", tmp_path / "posts_c.jsonl")
    (tmp_path / "gold_c.jsonl").write_text('{"id": "x", "relevant": tru\n', encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_labelled(tmp_path)
    assert error.value.file.endswith("gold_c.jsonl") and error.value.line == 1


def test_gold_with_an_invalid_label_names_file_line_and_field(tmp_path):
    shutil.copy(LABELLED_DIR / "posts_c.jsonl", tmp_path / "posts_c.jsonl")
    rows = [json.loads(line) for line in (LABELLED_DIR / "gold_c.jsonl").open(encoding="utf-8")]
    number, row = next((n, r) for n, r in enumerate(rows, 1) if r["impacts"])
    row["impacts"][0]["sentiment"] = "ecstatic"
    lines = [json.dumps(r) for r in rows]
    (tmp_path / "gold_c.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_labelled(tmp_path)
    assert error.value.file.endswith("gold_c.jsonl")
    assert error.value.line == number
    assert error.value.field == "impacts.0.sentiment"


def test_embedding_cache_covers_every_training_text():
    """A stale cache would make every `mheval mine` start embed thousands of sentences."""
    from evaluator.mine.local import LocalAnnotator

    missing = Embedder().missing(LocalAnnotator().training_texts())
    assert not missing, f"{len(missing)} texts missing: run python bench/refresh_annotator_cache.py"


@pytest.mark.slow
def test_cached_vectors_match_the_model(tmp_path):
    """The cache holds the vectors the installed encoder computes (to float16 precision)."""
    import numpy as np

    labelled = [item for item in load_labelled() if item.gold.impacts][:3]
    texts = [item.gold.impacts[0].supporting_quote for item in labelled]
    cached = Embedder()(texts)
    fresh = Embedder(cache_file=tmp_path / "none.npz")(texts)
    assert np.allclose(cached, fresh, atol=2e-3)


def test_label_model_priors_shift_balanced_scores():
    import numpy as np

    rng = np.random.default_rng(0)
    features = np.vstack([rng.normal(0, 1, (30, 4)), rng.normal(0.3, 1, (30, 4))])
    targets = ["common"] * 30 + ["rare"] * 30
    model = LabelModel(features, targets, {"common": 0.9, "rare": 0.1}, c=1.0)
    balanced = model.proba(features, prior_power=0.0)
    weighted = model.proba(features, prior_power=1.0)
    rare = model.labels.index("rare")
    assert np.allclose(balanced.sum(axis=1), 1.0) and np.allclose(weighted.sum(axis=1), 1.0)
    assert (weighted[:, rare] < balanced[:, rare]).all()
