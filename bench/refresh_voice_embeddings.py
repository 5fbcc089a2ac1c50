"""Re-embed the shipped corpus's voices into corpus_index/voice_embeddings.npz (float16).

Run after re-mining `corpus_index/annotations.jsonl.gz`: a first index build (the first
`mheval score` of a fresh install) reads these vectors instead of encoding ~12,800 quotes, which
costs minutes on 2 cores. Voices already in the file or the embedding cache are not re-encoded;
`tests/test_index.py` fails when the file lacks a shipped voice.

    python bench/refresh_voice_embeddings.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluator.config import Settings, setup_offline_env  # noqa: E402

setup_offline_env()

from evaluator.index.build import write_voice_embeddings  # noqa: E402


def main() -> None:
    started = time.perf_counter()
    settings = Settings()
    count, encoded = write_voice_embeddings(settings)
    size = settings.voice_embeddings.stat().st_size / 1e6
    print(
        f"{count} voices ({encoded} newly encoded) -> {settings.voice_embeddings} "
        f"({size:.1f} MB) in {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
