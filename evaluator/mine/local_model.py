"""What the local annotator learns from, and the small models it fits at load time.

Training data: the codebook's examples of each label, the hand-written sentences of
`resources/local_training.yaml`, and hand-labelled corpus posts (`resources/labelled/`, posts
and gold annotations side by side). MiniLM embeddings of all of it are cached in
`resources/embeddings.npz`, so fitting at load time takes a second instead of a minute, and an
edited codebook or new labelled posts still work (what the cache lacks is embedded on the fly).
"""

from __future__ import annotations

import hashlib
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
    "Embedder",
    "LabelModel",
    "LABELLED_DIR",
    "EMBEDDING_CACHE",
]

RESOURCES = Path(__file__).parent / "resources"
LABELLED_DIR = RESOURCES / "labelled"
WRITTEN_FILE = RESOURCES / "local_training.yaml"
EMBEDDING_CACHE = RESOURCES / "embeddings.npz"


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


def load_labelled(directory: Path = LABELLED_DIR) -> list[LabelledPost]:
    """Every `posts_*.jsonl` with its `gold_*.jsonl`, in file order. Gold rows carry an
    optional `note` (the labeller's reason for a hard call), which is not part of an annotation."""
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


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


class Embedder:
    """Normalised MiniLM embeddings, served from the shipped cache when the installed model is
    the one the cache was made with. `remember` keeps new embeddings too (for repeated fits)."""

    def __init__(self, cache_file: Path = EMBEDDING_CACHE, *, remember: bool = False) -> None:
        self._remember = remember
        self._cache: dict[str, object] = {}
        if cache_file.is_file():
            import numpy as np

            from evaluator.embeddings import model_info

            with np.load(cache_file) as data:
                if str(data["model_hash"]) == model_info().hash:
                    self._cache = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    def __call__(self, texts: list[str]):
        import numpy as np

        if not texts:
            return np.zeros((0, 384), dtype="float32")
        missing = list(dict.fromkeys(self.missing(texts)))
        fresh = {}
        if missing:
            from evaluator.embeddings import load_model

            vectors = load_model().encode(
                missing, batch_size=64, normalize_embeddings=True, show_progress_bar=False
            )
            fresh = {_key(text): vector for text, vector in zip(missing, vectors, strict=True)}
            if self._remember:
                self._cache.update(fresh)
        return np.stack(
            [np.asarray(fresh.get(_key(t), self._cache.get(_key(t))), "float32") for t in texts]
        )

    def missing(self, texts: list[str]) -> list[str]:
        """The texts this embedder would have to encode (not in its cache)."""
        return [text for text in texts if _key(text) not in self._cache]

    def save_to(self, cache_file: Path, texts: list[str]) -> int:
        """Write a cache for exactly these texts (the maintainer's step after labelling)."""
        import numpy as np

        from evaluator.embeddings import model_info
        from evaluator.io import atomic_write

        unique = sorted(set(texts))
        vectors = self(unique).astype("float16")
        with atomic_write(cache_file, mode="wb") as handle:
            np.savez_compressed(
                handle,
                keys=np.array([_key(t) for t in unique]),
                vectors=vectors,
                model_hash=np.array(model_info().hash),
            )
        return len(unique)


class LabelModel:
    """Logistic regression over [embedding, extra features] for one label family. Classes are
    balanced in training and the label priors applied afterwards, so a rare label with few
    examples is still learnt but not over-predicted."""

    def __init__(self, features, targets: list[str], priors: dict[str, float], c: float) -> None:
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        self.model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
        self.model.fit(features, targets)
        self.labels = list(self.model.classes_)
        floor = min(priors.values()) if priors else 1.0
        self._prior = np.array([priors.get(label, floor) for label in self.labels])

    def proba(self, features, prior_power: float = 1.0):
        """Class probabilities with the priors raised to `prior_power` (0 keeps them balanced)."""
        scores = self.model.predict_proba(features) * self._prior**prior_power
        return scores / scores.sum(axis=1, keepdims=True)
