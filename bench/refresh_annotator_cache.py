"""Re-embed the local annotator's training texts into bench/data/mine_labelled/embeddings.npz.

Run after editing the labelled posts, the written training sentences or the codebook's
examples, then `python bench/fit_annotator.py`; without it a fit embeds what the cache lacks.

    python bench/refresh_annotator_cache.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluator.codebook import load_codebook  # noqa: E402
from evaluator.config import load_settings  # noqa: E402
from evaluator.mine.local import LocalAnnotator  # noqa: E402
from evaluator.mine.local_model import (  # noqa: E402
    EMBEDDING_CACHE,
    load_labelled,
    save_training_cache,
    training_embedder,
    training_texts,
)


def main() -> None:
    started = time.perf_counter()
    settings = load_settings()
    annotator = LocalAnnotator(load_codebook(settings.codebook), cache_dir=settings.cache_dir)
    texts = training_texts(annotator, load_labelled())
    count = save_training_cache(EMBEDDING_CACHE, texts, training_embedder())
    size = EMBEDDING_CACHE.stat().st_size / 1e6
    elapsed = time.perf_counter() - started
    print(f"{count} texts -> {EMBEDDING_CACHE} ({size:.1f} MB) in {elapsed:.0f}s")


if __name__ == "__main__":
    main()
