"""The one embedder: each distinct text encoded once per call, none a cache holds, and the
vectors the encoder computes."""

from __future__ import annotations

import numpy as np

from evaluator.embeddings import Embedder, MemoryCache, NpzCache, model_info, text_hash

TEXTS = [
    "The app helped me through a panic attack.",
    "I stopped using it when it forgot everything.",
    "The app helped me through a panic attack.",
]


def _counting(monkeypatch) -> list[list[str]]:
    calls: list[list[str]] = []
    raw = Embedder._encode_raw

    def counted(self, texts, **kwargs):
        calls.append(list(texts))
        return raw(self, texts, **kwargs)

    monkeypatch.setattr(Embedder, "_encode_raw", counted)
    return calls


def test_repeated_texts_are_encoded_once_and_cached(monkeypatch):
    calls = _counting(monkeypatch)
    embedder = Embedder([MemoryCache()])
    vectors, cached = embedder.encode_counted(TEXTS)
    assert calls == [TEXTS[:2]] and cached == 0
    assert vectors.shape == (3, model_info().dim) and vectors.dtype == np.float32
    assert np.array_equal(vectors[0], vectors[2])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    again, cached = embedder.encode_counted(TEXTS[::-1])
    assert len(calls) == 1 and cached == 3
    assert np.array_equal(again, vectors[::-1])
    assert embedder.encode([]).shape == (0, model_info().dim)


def test_caches_are_read_in_order_and_shipped_vectors_are_used(tmp_path, monkeypatch):
    info = model_info()
    fresh = Embedder().encode(TEXTS[:2])
    path = tmp_path / "shipped.npz"
    NpzCache.write(path, {text_hash(TEXTS[0]): fresh[0]}, info)
    calls = _counting(monkeypatch)
    memory = MemoryCache()
    embedder = Embedder([NpzCache(path, info), memory])
    assert embedder.missing(TEXTS) == [TEXTS[1]]
    vectors, cached = embedder.encode_counted(TEXTS)
    assert calls == [[TEXTS[1]]] and cached == 2
    assert np.allclose(vectors[0], fresh[0], atol=2e-3)
    assert np.allclose(vectors[1], fresh[1], atol=1e-5)
    assert set(memory.get_many([text_hash(t) for t in TEXTS])) == {text_hash(TEXTS[1])}
