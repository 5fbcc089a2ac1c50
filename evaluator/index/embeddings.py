"""The embedder of an index build: the vectors of the shipped voices first
(`corpus_index/voice_embeddings.npz`, float16: encoding 12,800 quotes costs minutes on 2 cores,
so a first build reads them), then the user's SQLite cache, so a rebuild (or a second index of
the same corpus) never re-encodes a text it has already seen."""

from __future__ import annotations

from pathlib import Path

from evaluator.embeddings import Embedder, NpzCache, SqliteCache, model_info

__all__ = ["Embedder", "build_embedder"]

#: Texts per encoder call, so that a progress bar moves during a long build.
_ENCODE_CHUNK = 256


def build_embedder(cache_dir: Path, shipped: Path | None) -> tuple[Embedder, NpzCache, SqliteCache]:
    """(embedder, its shipped vectors, its disk cache); close the disk cache when done."""
    info = model_info()
    voices = NpzCache(shipped, info)
    disk = SqliteCache(cache_dir, info)
    return Embedder([voices, disk], chunk=_ENCODE_CHUNK), voices, disk
