"""What the local annotator learns from (the labelled posts, the embedding cache) and the
weights it ships."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evaluator.codebook import load_codebook
from evaluator.config import Settings
from evaluator.errors import ConfigError, InputError
from evaluator.mine.local_model import (
    LABELLED_DIR,
    WEIGHTS_FILE,
    LabelModel,
    LinearModel,
    load_labelled,
    read_weights,
    save_weights,
    training_digest,
    training_embedder,
    training_texts,
)


def _shipped_annotator(cls):
    """The local annotator of the shipped codebook (its weights ship: no cache needed)."""
    return cls(load_codebook(Settings().codebook), cache_dir=None)


def test_shipped_labelled_posts_are_valid_gold():
    """Every labelled post parses, its quotes are verbatim and its labels are codebook ids."""
    labelled = load_labelled()
    assert len(labelled) >= 800
    codebook = load_codebook(Settings().codebook)
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

    texts = training_texts(_shipped_annotator(LocalAnnotator), load_labelled())
    missing = training_embedder().missing(texts)
    assert not missing, f"{len(missing)} texts missing: run python bench/refresh_annotator_cache.py"


@pytest.mark.slow
def test_cached_vectors_match_the_model(tmp_path):
    """The cache holds the vectors the installed encoder computes (to float16 precision)."""
    import numpy as np

    labelled = [item for item in load_labelled() if item.gold.impacts][:3]
    texts = [item.gold.impacts[0].supporting_quote for item in labelled]
    cached = training_embedder().encode(texts)
    fresh = training_embedder(cache_file=tmp_path / "none.npz").encode(texts)
    assert np.allclose(cached, fresh, atol=2e-3)


def test_label_model_priors_shift_balanced_scores():
    import numpy as np

    rng = np.random.default_rng(0)
    features = np.vstack([rng.normal(0, 1, (30, 4)), rng.normal(0.3, 1, (30, 4))])
    targets = ["common"] * 30 + ["rare"] * 30
    model = LabelModel.fit(features, targets, {"common": 0.9, "rare": 0.1}, c=1.0)
    balanced = model.proba(features, prior_power=0.0)
    weighted = model.proba(features, prior_power=1.0)
    rare = model.labels.index("rare")
    assert np.allclose(balanced.sum(axis=1), 1.0) and np.allclose(weighted.sum(axis=1), 1.0)
    assert (weighted[:, rare] < balanced[:, rare]).all()


def test_shipped_weights_are_fitted_on_the_shipped_training_data():
    """Editing the labelled posts, the written sentences, the codebook or a hyper-parameter
    needs a refit of the shipped weights."""
    from evaluator.codebook import codebook_version
    from evaluator.embeddings import model_info
    from evaluator.mine.local import _PARAMS

    meta, models = read_weights(WEIGHTS_FILE, "")
    stale = "stale: run python bench/fit_annotator.py"
    assert meta["codebook_version"] == codebook_version(load_codebook(Settings().codebook)), stale
    assert meta["embedding_model"] == model_info().hash, stale
    assert meta["params"] == _PARAMS, stale
    assert meta["training_digest"] == training_digest(LABELLED_DIR), stale
    assert set(models) == {"impact", "perspectives", "values", "sentiments"}
    assert WEIGHTS_FILE.stat().st_size < 500_000


def _sklearn(linear: LinearModel):
    """A LogisticRegression holding the same arrays, to compare predictions with."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression()
    model.coef_, model.intercept_ = linear.coef, linear.intercept
    model.classes_ = np.array(linear.classes)
    model.n_features_in_ = linear.width
    return model


@pytest.mark.slow
def test_weights_predict_as_sklearn_does_on_real_posts():
    """The numpy prediction of the loaded weights is sklearn's predict_proba, on the features
    the annotator builds for real posts (every candidate sentence, and its post)."""
    import numpy as np

    from evaluator.mine.local import LocalAnnotator

    annotator = _shipped_annotator(LocalAnnotator)
    models = annotator._fit()
    items = load_labelled()[::10]
    sentences = [(item.post, s) for item in items for s in annotator.read(item.post)[0]]
    assert len(sentences) > 200
    embed = training_embedder()
    quotes = embed.encode([s.quote for _, s in sentences])
    rows = np.hstack([quotes, np.array([s.features for _, s in sentences], "float32")])
    impact = models["impact"]
    assert np.array_equal(impact.predict_proba(rows), _sklearn(impact).predict_proba(rows))
    contexts = embed.encode([annotator.context(post) for post, _ in sentences])
    texts = [s.quote for _, s in sentences]
    for kind in ("perspectives", "values", "sentiments"):
        features = annotator.label_features(kind, texts, quotes, contexts)
        linear = models[kind].linear
        ours, theirs = linear.predict_proba(features), _sklearn(linear).predict_proba(features)
        assert np.array_equal(ours, theirs), kind


def test_fitting_reduces_to_the_same_predictions():
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    features = rng.normal(0, 1, (90, 5)).astype("float32")
    for targets in (["a", "b", "c"] * 30, [True, False, False] * 30):
        ours = LinearModel.fit(features, targets, c=2.0)
        theirs = LogisticRegression(C=2.0, max_iter=3000).fit(features, targets)
        assert np.array_equal(ours.predict_proba(features), theirs.predict_proba(features))


def _annotator_with(monkeypatch, path: Path):
    import evaluator.mine.local as local

    monkeypatch.setattr(local, "WEIGHTS_FILE", path)
    return _shipped_annotator(local.LocalAnnotator)


def test_shipped_weights_load_without_fitting(monkeypatch):
    def no_fit(*args, **kwargs):
        raise AssertionError("fitted at start")

    monkeypatch.setattr(LinearModel, "fit", no_fit)
    annotator = _annotator_with(monkeypatch, WEIGHTS_FILE)
    assert annotator.info.model.endswith("weights shipped")
    assert annotator._fit()["impact"].width > 384


def test_corrupt_weights_are_an_error_naming_the_file(monkeypatch, tmp_path):
    import numpy as np

    broken = tmp_path / "local_weights.npz"
    broken.write_bytes(b"not a zip file")
    with pytest.raises(ConfigError, match="cannot be read") as error:
        _annotator_with(monkeypatch, broken)
    assert error.value.file.endswith("local_weights.npz")

    meta, models = read_weights(WEIGHTS_FILE, "")
    with np.load(WEIGHTS_FILE) as data:
        arrays = {key: data[key] for key in data.files}
    np.savez(broken, **{**arrays, "format_version": np.array(99)})
    with pytest.raises(ConfigError, match="format 99"):
        _annotator_with(monkeypatch, broken)

    np.savez(broken, **{**arrays, "values.coef": arrays["values.coef"][:, :-3]})
    with pytest.raises(ConfigError, match="values model reads") as error:
        _annotator_with(monkeypatch, broken)
    assert error.value.file.endswith("local_weights.npz")

    np.savez(broken, **{**arrays, "values.prior": arrays["values.prior"][:-1]})
    with pytest.raises(ConfigError, match="no priors"):
        _annotator_with(monkeypatch, broken)

    models["values"].linear.classes[0] = "not_a_value"
    save_weights(broken, models, meta)
    with pytest.raises(ConfigError, match="labels the codebook lacks"):
        _annotator_with(monkeypatch, broken)


def test_weights_of_other_hyper_parameters_are_refused(monkeypatch, tmp_path):
    meta, models = read_weights(WEIGHTS_FILE, "")
    other = tmp_path / "local_weights.npz"
    save_weights(other, models, {**meta, "params": {**meta["params"], "label_c": 1.0}})
    with pytest.raises(ConfigError, match="other hyper-parameters"):
        _annotator_with(monkeypatch, other)
