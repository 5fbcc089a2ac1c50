"""Annotations for the findings and rubric tests: the hand-labelled fixture of real posts
(`SMALL`, with its `REFERENCE` counts) and a synthetic corpus with planted associations."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

__all__ = [
    "SMALL",
    "REFERENCE",
    "SYNTHETIC_PROFILES",
    "synthetic_annotations",
    "write_annotations",
]

DATA = Path(__file__).parents[1] / "data" / "findings"
SMALL = DATA / "annotations_small.jsonl"
REFERENCE = DATA / "reference_counts.json"

# --------------------------------------------------------------------------- synthetic corpus
# Each condition: (impacts, perspective weights, sentiment weights, crisis share). Values follow
# the perspective (see _VALUES), so value × perspective associations are planted too.
SYNTHETIC_PROFILES = {
    "general": (
        300,
        {
            "dependency": 25,
            "anthropomorphism": 25,
            "emotional_support": 30,
            "ethics": 10,
            "interaction_limitations": 10,
        },
        {"negative": 50, "positive": 35, "neutral": 15},
        0.02,
    ),
    "adhd": (
        120,
        {"instrumental_support": 60, "appraisal_support": 20, "emotional_support": 20},
        {"positive": 80, "neutral": 15, "negative": 5},
        0.0,
    ),
    "schizophrenia_spectrum": (
        80,
        {"psychological_harm": 60, "clinical_skepticism": 30, "emotional_support": 10},
        {"negative": 85, "neutral": 10, "positive": 5},
        0.0,
    ),
    "anxiety": (
        100,
        {"emotional_support": 60, "maladaptive_usage": 20, "informational_support": 20},
        {"positive": 60, "neutral": 20, "negative": 20},
        0.0,
    ),
    "depressive": (
        100,
        {"emotional_support": 70, "interaction_limitations": 30},
        {"positive": 45, "negative": 45, "neutral": 10},
        0.2,
    ),
    "bipolar": (10, {"psychological_harm": 5, "clinical_skepticism": 5}, {"negative": 1}, 0.0),
    "autism": (8, {"instrumental_support": 1}, {"positive": 1}, 0.0),
}
_VALUES = {
    "dependency": {"autonomy": 70, "human_welfare": 30},
    "anthropomorphism": {"human_welfare": 70, "identity": 30},
    "emotional_support": {"calmness": 50, "human_welfare": 50},
    "ethics": {"privacy": 80, "trust": 20},
    "interaction_limitations": {"trust": 60, "universal_usability": 40},
    "instrumental_support": {"universal_usability": 50, "autonomy": 30, "none": 20},
    "appraisal_support": {"identity": 80, "autonomy": 20},
    "psychological_harm": {"human_welfare": 80, "trust": 20},
    "clinical_skepticism": {"trust": 70, "informed_consent": 30},
    "maladaptive_usage": {"calmness": 50, "autonomy": 50},
    "informational_support": {"informed_consent": 60, "none": 40},
}


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def synthetic_annotations(seed: int = 7, profiles=None) -> list[dict]:
    """A SYNTHETIC corpus with planted associations (one or two impacts per post)."""
    rng = random.Random(seed)
    rows: list[dict] = []
    number = 0
    for condition, (n, perspectives, sentiments, crisis) in (
        profiles or SYNTHETIC_PROFILES
    ).items():
        left = n
        while left:
            size = min(left, rng.choice((1, 1, 2)))
            left -= size
            impacts = []
            for _ in range(size):
                perspective = _pick(rng, perspectives)
                impacts.append(
                    {
                        "supporting_quote": f"synthetic {condition} {perspective} quote {number}",
                        "product": "Replika" if condition == "general" else "ChatGPT",
                        "sentiment": _pick(rng, sentiments),
                        "condition": condition,
                        "perspective": perspective,
                        "value": _pick(rng, _VALUES[perspective]),
                        "confidence": 0.9,
                    }
                )
            number += 1
            rows.append(
                {
                    "id": f"synthetic:{number}",
                    "relevant": True,
                    "crisis": rng.random() < crisis,
                    "impacts": impacts,
                    "annotator": {"name": "synthetic", "codebook_version": "1.0"},
                }
            )
    rows += [{"id": f"synthetic:irrelevant{i}", "relevant": False} for i in range(20)]
    return rows


def write_annotations(path: Path, rows: list[dict]) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    return path
