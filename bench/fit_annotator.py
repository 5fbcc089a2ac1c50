"""Fit the local annotator's four models on the labelled posts and write the weights it ships
(evaluator/mine/resources/local_weights.npz), so no start of `mheval mine` fits anything.

Run after editing the labelled posts (bench/data/mine_labelled), the written training sentences,
the codebook or the annotator's hyper-parameters; a test fails until then.

    python bench/fit_annotator.py
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
    LABELLED_DIR,
    WEIGHTS_FILE,
    fit_models,
    load_labelled,
    save_weights,
    training_digest,
    training_embedder,
    training_texts,
)


def main() -> None:
    started = time.perf_counter()
    labelled = load_labelled(LABELLED_DIR)
    annotator = LocalAnnotator(
        load_codebook(load_settings().codebook), cache_dir=None, labelled=labelled
    )
    embed = training_embedder()
    missing = len(set(embed.missing(training_texts(annotator, labelled))))
    if missing:
        print(f"{missing} training texts are not in the embedding cache; embedding them now")
    models = fit_models(annotator, labelled, embed)
    meta = annotator._meta(f"fitted by bench/fit_annotator.py on {len(labelled)} labelled posts")
    meta["training_digest"] = training_digest(LABELLED_DIR)
    save_weights(WEIGHTS_FILE, models, meta)
    size = WEIGHTS_FILE.stat().st_size / 1e3
    elapsed = time.perf_counter() - started
    print(f"{len(labelled)} labelled posts -> {WEIGHTS_FILE} ({size:.0f} kB) in {elapsed:.0f}s")
    print({key: value for key, value in meta.items() if key != "params"})


if __name__ == "__main__":
    main()
