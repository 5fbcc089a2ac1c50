"""Sentence embeddings for the corpus index: the bundled all-MiniLM-L6-v2, loaded once per
process, batch encoding, and an on-disk cache keyed by content hash so a rebuild (or a second
index of the same corpus) never re-encodes a text it has already seen.

The vectors of the shipped voices also ship (`corpus_index/voice_embeddings.npz`, float16,
keyed by model hash and text hash): encoding 12,800 quotes costs minutes on 2 cores, so a first
index build reads them instead (`ShippedVectors`)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from evaluator.embeddings import MODEL_NAME, load_model, model_info
from evaluator.types.index import EmbeddingModelInfo

__all__ = [
    "MODEL_NAME",
    "model_info",
    "load_model",
    "text_hash",
    "EmbeddingCache",
    "ShippedVectors",
    "Embedder",
]


@contextlib.contextmanager
def _torch_threads(count: int | None) -> Iterator[None]:
    """Run with `count` intra-op threads, then restore. One short query gains nothing from more
    threads, and on a busy machine OpenMP spin-waiting makes it 10-20x slower
    (BENCHMARKS.md, Corpus index)."""
    if not count:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _batch_threads() -> int | None:
    """`MHEVAL_EMBED_THREADS` caps the threads of batch encoding (default: torch's choice)."""
    value = os.environ.get("MHEVAL_EMBED_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """float32 vectors in SQLite, keyed by text hash, one file per model hash."""

    def __init__(self, folder: Path, model: EmbeddingModelInfo) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{model.hash.replace(':', '-')}.sqlite"
        self.dim = model.dim
        self._db = sqlite3.connect(self.path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (hash TEXT PRIMARY KEY, vec BLOB)")

    def get_many(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT hash, vec FROM vectors WHERE hash IN ({marks})", chunk
            ).fetchall()
            for key, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape[0] == self.dim:
                    found[key] = vector
        return found

    def put_many(self, vectors: dict[str, np.ndarray]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (hash, vec) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()],
            )

    def close(self) -> None:
        self._db.close()


class ShippedVectors:
    """Read-only float16 vectors in an .npz: `model_hash`, `keys` (first 16 bytes of each
    text's sha256, uint8 rows) and `vectors`. A file made with another model, or none, is
    empty: the texts are then encoded as usual."""

    _KEY_BYTES = 16

    def __init__(self, path: Path | None, model: EmbeddingModelInfo) -> None:
        self._rows: dict[bytes, int] = {}
        self._vectors = np.zeros((0, model.dim), dtype=np.float16)
        if path is None or not path.is_file():
            return
        with np.load(path) as data:
            if str(data["model_hash"]) != model.hash or data["vectors"].shape[1] != model.dim:
                return
            self._vectors = data["vectors"]
            self._rows = {key.tobytes(): row for row, key in enumerate(data["keys"])}

    def __contains__(self, hash_hex: str) -> bool:
        return self.key(hash_hex) in self._rows

    @classmethod
    def key(cls, hash_hex: str) -> bytes:
        return bytes.fromhex(hash_hex[: 2 * cls._KEY_BYTES])

    def get_many(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Unit float32 vectors (re-normalised after the float16 round trip) of known hashes."""
        found = {h: self._rows[self.key(h)] for h in hashes if h in self}
        if not found:
            return {}
        vectors = self._vectors[list(found.values())].astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return dict(zip(found, vectors, strict=True))

    @classmethod
    def write(cls, path: Path, vectors: dict[str, np.ndarray], model: EmbeddingModelInfo) -> None:
        """Ship exactly `vectors` (text hash -> vector), sorted so the file is reproducible."""
        from evaluator.io import atomic_write

        hashes = sorted(vectors)
        keys = np.frombuffer(b"".join(cls.key(h) for h in hashes), dtype=np.uint8)
        with atomic_write(path, mode="wb") as handle:
            np.savez_compressed(
                handle,
                model_hash=np.array(model.hash),
                keys=keys.reshape(len(hashes), cls._KEY_BYTES),
                vectors=np.stack([vectors[h] for h in hashes]).astype(np.float16),
            )


class Embedder:
    """Encodes texts to unit vectors (so cosine similarity is a dot product), through the
    shipped vectors and the cache."""

    def __init__(
        self, cache_dir: Path | None = None, *, shipped: Path | None = None, batch_size: int = 64
    ) -> None:
        self.info = model_info()
        self.batch_size = batch_size
        self.cache = EmbeddingCache(cache_dir, self.info) if cache_dir is not None else None
        self.shipped = ShippedVectors(shipped, self.info)

    def _encode_raw(self, texts: Sequence[str], *, threads: int | None = None) -> np.ndarray:
        model = load_model()
        with _torch_threads(threads):
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def encode(
        self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None
    ) -> tuple[np.ndarray, int]:
        """Vectors for `texts` (rows in order) and how many came from shipped vectors or cache.

        `on_batch(n)` is called after each batch of n texts is ready, for progress bars.
        """
        hashes = [text_hash(t) for t in texts]
        known = self.shipped.get_many(hashes)
        rest = [h for h in hashes if h not in known]
        if self.cache is not None and rest:
            known.update(self.cache.get_many(rest))
        cached = sum(1 for h in hashes if h in known)
        if on_batch is not None and cached:
            on_batch(cached)
        missing = list(dict.fromkeys(h for h in hashes if h not in known))
        text_of = dict(zip(hashes, texts, strict=True))
        step = self.batch_size * 4
        for start in range(0, len(missing), step):
            chunk = missing[start : start + step]
            vectors = self._encode_raw([text_of[h] for h in chunk], threads=_batch_threads())
            fresh = dict(zip(chunk, vectors, strict=True))
            if self.cache is not None:
                self.cache.put_many(fresh)
            known.update(fresh)
            if on_batch is not None:
                on_batch(sum(1 for h in hashes if h in fresh))
        if not texts:
            return np.zeros((0, self.info.dim), dtype=np.float32), 0
        return np.stack([known[h] for h in hashes]), cached

    @functools.lru_cache(maxsize=512)  # noqa: B019 - one Embedder per process; queries repeat
    def encode_query(self, text: str) -> np.ndarray:
        return self._encode_raw([text], threads=1)[0]
