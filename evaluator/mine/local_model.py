"""What the local annotator learns from, how it fits its small models, and their weights on
disk.

Training data: the codebook's examples of each label, the hand-written sentences of
`resources/local_training.yaml`, and hand-labelled corpus posts (`bench/data/mine_labelled/` of
a checkout, posts and gold annotations side by side, with MiniLM embeddings of every training
text cached in its `embeddings.npz`, an `evaluator.embeddings.NpzCache`). Neither the posts nor
the cache ship in the package: it ships the fitted weights (`resources/local_weights.npz`,
`python bench/fit_annotator.py`).

Fitting reads posts through the annotator (a `Reader`: its candidate sentences, their rule
features, the label features), so the models learn from exactly what `annotate` feeds them.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import yaml
from pydantic import ValidationError

from evaluator.errors import ConfigError
from evaluator.io import iter_jsonl, validation_error_to_message
from evaluator.types import Annotation, Codebook, Post

if TYPE_CHECKING:
    from evaluator.embeddings import Embedder

__all__ = [
    "IMPACT_C",
    "LABEL_C",
    "MAX_ITER",
    "Reader",
    "fit_models",
    "refit_models",
    "training_texts",
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
    "SHIPPED_FIX",
]

RESOURCES = Path(__file__).parent / "resources"
WRITTEN_FILE = RESOURCES / "local_training.yaml"
# Maintainer data, present in a checkout only.
LABELLED_DIR = Path(__file__).resolve().parents[2] / "bench" / "data" / "mine_labelled"
EMBEDDING_CACHE = LABELLED_DIR / "embeddings.npz"
#: The fitted models of the shipped codebook (`python bench/fit_annotator.py` writes them).
WEIGHTS_FILE = RESOURCES / "local_weights.npz"
#: What to do about shipped weights this version cannot use.
SHIPPED_FIX = "refit them with `python bench/fit_annotator.py`"
#: Bumped when the layout of a weights file changes; a file of another format is refused.
WEIGHTS_FORMAT = 1
# Regularisation of the impact scorer and the label models (chosen by cross-validation on the
# labelled posts, see bench/bench_local_annotator.py --cv).
IMPACT_C = 1.0
LABEL_C = 4.0
MAX_ITER = 3000
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

        model = LogisticRegression(C=c, max_iter=MAX_ITER, class_weight=class_weight)
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


# ----- fitting --------------------------------------------------------------------------------
class Reader(Protocol):
    """What a fit needs of the annotator (`LocalAnnotator` is one): its codebook and how it
    reads a post into features."""

    codebook: Codebook

    def read(self, post: Post) -> tuple[list, bool]:
        """The post's candidate sentences (`start`, `end`, `quote`, rule `features`), and more."""

    def context(self, post: Post) -> str:
        """What the label models read of the post around a quote."""

    def label_features(self, kind: str, texts: list[str], embeddings, contexts):
        """The features of one label family's model."""

    def widths(self) -> dict[str, int]:
        """How many features each model reads."""


def training_texts(reader: Reader, labelled: list[LabelledPost]) -> list[str]:
    """Every text a fit embeds: what the training cache (`EMBEDDING_CACHE`) should hold."""
    texts = _impact_examples(reader, labelled)[1]
    written = load_written()
    for kind in ("perspectives", "values", "sentiments"):
        for text, _, context in _label_examples(reader, kind, labelled, written)[0]:
            texts += [text, context]
    return texts


def fit_models(
    reader: Reader,
    labelled: list[LabelledPost],
    embed: Embedder,
    scorer: LinearModel | None = None,
) -> dict:
    """Fit the impact scorer (unless `scorer` is given) and the three label models."""
    import numpy as np

    if scorer is None:
        rows, quotes, targets = _impact_examples(reader, labelled)
        if len(set(targets)) == 2:
            features = np.hstack([embed.encode(quotes), np.array(rows, dtype="float32")])
            scorer = LinearModel.fit(features, targets, IMPACT_C)
    models: dict = {"impact": scorer}
    written = load_written()
    for kind in ("perspectives", "values", "sentiments"):
        examples, priors = _label_examples(reader, kind, labelled, written)
        texts = [text for text, _, _ in examples]
        contexts = embed.encode([context for _, _, context in examples])
        features = reader.label_features(kind, texts, embed.encode(texts), contexts)
        targets = [label for _, label, _ in examples]
        models[kind] = LabelModel.fit(features, targets, priors, LABEL_C)
    return models


def refit_models(reader: Reader, directory: Path | None, embed: Embedder | None) -> dict:
    """Models for an edited codebook: fitted on the labelled posts of `directory` when there is
    one, else label models on the codebook examples and written sentences next to the shipped
    scorer. `embed` replaces the training embedder."""
    if directory is not None:
        cache = directory / EMBEDDING_CACHE.name
        return fit_models(reader, load_labelled(directory), embed or training_embedder(cache))
    from evaluator.embeddings import model_info

    scorer = None
    if WEIGHTS_FILE.is_file():
        meta, shipped = read_weights(WEIGHTS_FILE, SHIPPED_FIX)
        if meta.get("embedding_model") == model_info().hash:
            scorer = shipped["impact"]
    width = reader.widths()["impact"]
    if scorer is None or scorer.width != width:
        raise ConfigError(
            f"this codebook gives the impact scorer {width} features, the shipped one reads "
            f"{scorer.width if scorer else 'none'}: it must be refit on labelled posts. Set "
            f"{LABELLED_ENV} to a folder of posts_*.jsonl with their gold_*.jsonl (as "
            "bench/data/mine_labelled of the mheval repository), or keep the codebook's "
            "products, relevance cues and perspective and sentiment cues as shipped",
            field=LABELLED_ENV,
        )
    return fit_models(reader, [], embed or training_embedder(), scorer=scorer)


def _impact_examples(reader: Reader, labelled: list[LabelledPost]):
    """Every candidate sentence of the labelled posts, positive when it overlaps a gold
    quote: (rule features, quotes, targets)."""
    rows, quotes, targets = [], [], []
    for item in labelled:
        spans = _gold_spans(item)
        for sentence in reader.read(item.post)[0]:
            rows.append(sentence.features)
            quotes.append(sentence.quote)
            targets.append(any(s < sentence.end and sentence.start < e for s, e in spans))
    return rows, quotes, targets


def _label_examples(reader: Reader, kind: str, labelled: list[LabelledPost], written: dict):
    """(text, label, context) triples for one family: codebook examples and written
    sentences (their own context) and gold quotes (the start of their post); and the label
    priors, measured on the gold impacts."""
    codebook = reader.codebook
    singular = kind.rstrip("s")
    known = set(codebook.ids(kind))
    examples: list[tuple[str, str, str]] = []
    for label in getattr(codebook, kind):
        examples += [(text, label.id, text) for text in label.examples]
    for section in (singular, "corpus_" + singular):
        for label, texts in (written.get(section) or {}).items():
            if label in known:
                examples += [(text, label, text) for text in texts]
    gold = [
        (impact.supporting_quote, getattr(impact, singular), reader.context(item.post))
        for item in labelled
        for impact in item.gold.impacts
        if getattr(impact, singular) in known
    ]
    counts = Counter(label for _, label, _ in gold)
    priors = {label: (counts[label] + 1) / (len(gold) + len(known)) for label in known}
    return examples + gold, priors


def _gold_spans(item: LabelledPost) -> list[tuple[int, int]]:
    text = item.post.text
    spans = []
    for impact in item.gold.impacts:
        start = text.find(impact.supporting_quote)
        if start >= 0:
            spans.append((start, start + len(impact.supporting_quote)))
    return spans


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
