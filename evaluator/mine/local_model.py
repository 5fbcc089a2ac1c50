"""What the local annotator learns from, the small models it fits, and their weights on disk.

Training data: the codebook's examples of each label, the hand-written sentences of
`resources/local_training.yaml`, and hand-labelled corpus posts (`bench/data/mine_labelled/` of
a checkout, posts and gold annotations side by side, with MiniLM embeddings of every training
text cached in its `embeddings.npz`, an `evaluator.embeddings.NpzCache`). Neither the posts nor
the cache ship in the package: it ships the fitted weights (`resources/local_weights.npz`,
`python bench/fit_annotator.py`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from evaluator.errors import ConfigError
from evaluator.io import iter_jsonl, validation_error_to_message
from evaluator.types import Annotation, Post

__all__ = [
    "LabelledPost",
    "post_from_row",
    "load_labelled",
    "load_written",
    "training_embedder",
    "save_training_cache",
    "LabelModel",
    "LinearModel",
    "save_weights",
    "read_weights",
    "WEIGHTS_FILE",
    "LABELLED_DIR",
    "LABELLED_ENV",
    "labelled_dir",
    "training_digest",
    "EMBEDDING_CACHE",
]

RESOURCES = Path(__file__).parent / "resources"
WRITTEN_FILE = RESOURCES / "local_training.yaml"
# Maintainer data, present in a checkout only.
LABELLED_DIR = Path(__file__).resolve().parents[2] / "bench" / "data" / "mine_labelled"
EMBEDDING_CACHE = LABELLED_DIR / "embeddings.npz"
#: The fitted models of the shipped codebook (`python bench/fit_annotator.py` writes them).
WEIGHTS_FILE = RESOURCES / "local_weights.npz"
#: Bumped when the layout of a weights file changes; a file of another format is refused.
WEIGHTS_FORMAT = 1
_MAX_ITER = 3000
#: Names a folder of labelled posts for refitting when the checkout's are not there (a wheel).
LABELLED_ENV = "MHEVAL_ANNOTATOR_LABELLED"


@dataclass(frozen=True)
class LabelledPost:
    """A corpus post with its hand-made gold annotation."""

    post: Post
    gold: Annotation


def post_from_row(row: dict) -> Post:
    """A post as sampled from the collected corpus: fields the Post schema lacks (`source`) go
    to `meta`, so the annotator sees the text and meta exactly as the corpus has them."""
    known = set(Post.model_fields)
    meta = dict(row.get("meta") or {})
    meta.update({key: value for key, value in row.items() if key not in known})
    return Post.model_validate({**{k: v for k, v in row.items() if k in known}, "meta": meta})


def labelled_dir() -> Path | None:
    """Where a refit for an edited codebook finds labelled posts: the checkout's, else the
    folder `$MHEVAL_ANNOTATOR_LABELLED` names, else nowhere."""
    if LABELLED_DIR.is_dir():
        return LABELLED_DIR
    named = os.environ.get(LABELLED_ENV)
    if not named:
        return None
    directory = Path(named).expanduser()
    if not directory.is_dir():
        raise ConfigError("not a folder of labelled posts", file=directory, field=LABELLED_ENV)
    return directory


def load_labelled(directory: Path = LABELLED_DIR) -> list[LabelledPost]:
    """Every `posts_*.jsonl` with its `gold_*.jsonl`, in file order. Gold rows carry an
    optional `note` (the labeller's reason for a hard call), which is not part of an annotation."""
    if not directory.is_dir():
        raise ConfigError("no folder of labelled posts here", file=directory)
    labelled = []
    for posts_file in sorted(directory.glob("posts_*.jsonl")):
        gold_file = posts_file.with_name(posts_file.name.replace("posts_", "gold_", 1))
        if not gold_file.is_file():
            raise ConfigError("labelled posts without their gold file", file=gold_file)
        posts = list(iter_jsonl(posts_file))
        golds = list(iter_jsonl(gold_file))
        if [p.get("id") for _, p in posts] != [g.get("id") for _, g in golds]:
            raise ConfigError(f"ids differ from {posts_file.name}", file=gold_file, field="id")
        for (line, row), (_, gold) in zip(posts, golds, strict=True):
            gold.pop("note", None)
            try:
                post = post_from_row(row)
            except ValidationError as exc:
                raise _invalid(exc, posts_file, line) from None
            try:
                labelled.append(LabelledPost(post=post, gold=Annotation.model_validate(gold)))
            except ValidationError as exc:
                raise _invalid(exc, gold_file, line) from None
    return labelled


def _invalid(exc: ValidationError, path: Path, line: int) -> ConfigError:
    field, message = validation_error_to_message(exc)
    return ConfigError(message, file=path, line=line, field=field)


def load_written() -> dict:
    """The hand-written and corpus-quoted training sentences, by kind and label."""
    try:
        with open(WRITTEN_FILE, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read training sentences: {exc}", file=WRITTEN_FILE) from None


def training_digest(directory: Path = LABELLED_DIR) -> str:
    """A hash of what a fit reads besides the codebook (the written sentences, the labelled
    posts), so a test can tell that the shipped weights are stale."""
    import json

    digest = hashlib.sha256(json.dumps(load_written(), sort_keys=True).encode("utf-8"))
    for path in sorted(directory.glob("*_*.jsonl")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return "sha256:" + digest.hexdigest()[:16]


def training_embedder(cache_file: Path | None = EMBEDDING_CACHE, *, remember: bool = False):
    """The embedder of a fit: the training cache (read as stored, float16, when the installed
    model made it), then the encoder. `remember` keeps new vectors too (for repeated fits)."""
    from evaluator.embeddings import Embedder, MemoryCache, NpzCache, model_info

    caches: list = [NpzCache(cache_file, model_info(), normalise=False)]
    if remember:
        caches.append(MemoryCache())
    return Embedder(caches)


def save_training_cache(cache_file: Path, texts: list[str], embedder) -> int:
    """Write a cache for exactly these texts (the maintainer's step after labelling)."""
    from evaluator.embeddings import NpzCache, text_hash

    unique = sorted(set(texts))
    vectors = embedder.encode(unique)
    NpzCache.write(
        cache_file,
        {text_hash(t): v for t, v in zip(unique, vectors, strict=True)},
        embedder.info,
    )
    return len(unique)


class LinearModel:
    """A fitted logistic regression reduced to its arrays. It predicts exactly as sklearn's
    `predict_proba` does (a dot product, then the logistic or the softmax function), so the
    annotator can load shipped weights and predict without importing or fitting sklearn."""

    def __init__(self, coef, intercept, classes: list[str]) -> None:
        import numpy as np

        # sklearn fits float32 features in float32: keeping the dtype keeps its predictions.
        self.coef = np.asarray(coef)
        self.intercept = np.asarray(intercept)
        self.classes = [str(label) for label in classes]

    @classmethod
    def fit(cls, features, targets: list, c: float, class_weight=None) -> LinearModel:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=c, max_iter=_MAX_ITER, class_weight=class_weight)
        model.fit(features, targets)
        return cls(model.coef_, model.intercept_, model.classes_.tolist())

    @property
    def width(self) -> int:
        return int(self.coef.shape[1])

    def predict_proba(self, features):
        """As sklearn 1.x: binary, expit of the decision; else the softmax, max subtracted."""
        import numpy as np

        scores = np.asarray(features) @ self.coef.T + self.intercept
        if len(self.classes) == 2:
            from scipy.special import expit

            positive = expit(scores[:, 0])
            return np.stack([1 - positive, positive], axis=1)
        scores -= scores.max(axis=1).reshape(-1, 1)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1).reshape(-1, 1)
        return scores


class LabelModel:
    """Logistic regression over [embedding, extra features] for one label family. Classes are
    balanced in training and the label priors applied afterwards, so a rare label with few
    examples is still learnt but not over-predicted."""

    def __init__(self, linear: LinearModel, prior) -> None:
        import numpy as np

        self.linear = linear
        self.labels = linear.classes
        self._prior = np.asarray(prior, dtype="float64")

    @classmethod
    def fit(cls, features, targets: list[str], priors: dict[str, float], c: float) -> LabelModel:
        linear = LinearModel.fit(features, targets, c, class_weight="balanced")
        floor = min(priors.values()) if priors else 1.0
        return cls(linear, [priors.get(label, floor) for label in linear.classes])

    @property
    def prior(self):
        return self._prior

    def proba(self, features, prior_power: float = 1.0):
        """Class probabilities with the priors raised to `prior_power` (0 keeps them balanced)."""
        scores = self.linear.predict_proba(features) * self._prior**prior_power
        return scores / scores.sum(axis=1, keepdims=True)


# ----- fitted weights on disk -----------------------------------------------------------------
MODEL_NAMES = ("impact", "perspectives", "values", "sentiments")


def save_weights(path: Path, models: dict, meta: dict) -> None:
    """Write the four models' arrays and `meta` (codebook version, embedding model hash,
    hyper-parameters, provenance) to one npz, atomically."""
    import json

    import numpy as np

    from evaluator.io import atomic_write

    arrays = {"format_version": np.array(WEIGHTS_FORMAT), "meta": np.array(json.dumps(meta))}
    for name in MODEL_NAMES:
        model = models.get(name)
        if model is None:
            continue
        linear = model.linear if isinstance(model, LabelModel) else model
        arrays[f"{name}.coef"] = linear.coef
        arrays[f"{name}.intercept"] = linear.intercept
        arrays[f"{name}.classes"] = np.array(linear.classes)
        if isinstance(model, LabelModel):
            arrays[f"{name}.prior"] = model.prior
    with atomic_write(path, mode="wb") as handle:
        np.savez_compressed(handle, **arrays)


def read_weights(path: Path, fix: str) -> tuple[dict, dict]:
    """(meta, models) of a weights file; a file this version cannot read is a ConfigError that
    names it and says `fix`. Shapes are checked here, widths against the features by the caller.
    """
    import json
    import zipfile

    import numpy as np

    def corrupt(why: str) -> ConfigError:
        return ConfigError(f"annotator weights {why}; {fix}", file=path)

    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise corrupt(f"cannot be read ({exc})") from None
    if "format_version" not in arrays or "meta" not in arrays:
        raise corrupt("lack format_version or meta")
    if int(arrays["format_version"]) != WEIGHTS_FORMAT:
        raise corrupt(f"are format {int(arrays['format_version'])}, not {WEIGHTS_FORMAT}")
    try:
        meta = json.loads(str(arrays["meta"]))
    except json.JSONDecodeError as exc:
        raise corrupt(f"have unreadable meta ({exc})") from None
    models: dict = {}
    for name in MODEL_NAMES:
        keys = [f"{name}.{part}" for part in ("coef", "intercept", "classes")]
        if name == "impact" and keys[0] not in arrays:
            models[name] = None  # fitted on posts of one class: no scorer
            continue
        if any(key not in arrays for key in keys):
            raise corrupt(f"lack {name}")
        coef, intercept, classes = (arrays[key] for key in keys)
        rows = 1 if len(classes) == 2 else len(classes)
        if (
            coef.ndim != 2
            or coef.shape[0] != rows
            or intercept.shape != (rows,)
            or classes.ndim != 1
            or len(classes) < 2
            or coef.dtype.kind != "f"
            or intercept.dtype != coef.dtype
            or not np.isfinite(coef).all()
        ):
            raise corrupt(
                f"have a malformed {name} model (coef {coef.shape}, {len(classes)} classes)"
            )
        linear = LinearModel(coef, intercept, classes.tolist())
        if name == "impact":
            models[name] = linear
            continue
        prior = arrays.get(f"{name}.prior")
        if prior is None or prior.shape != (len(classes),):
            raise corrupt(f"have no priors matching the {name} classes")
        models[name] = LabelModel(linear, prior)
    return meta, models
