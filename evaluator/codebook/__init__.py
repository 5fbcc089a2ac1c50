"""The codebook (the label scheme) and the condition detector built on it.

    load_codebook(path) -> Codebook; codebook_version(codebook) -> "VERSION+HASH"
    detect(text, codebook) -> Detection; find_mentions(text, codebook)

Below `mine/`, `score` and `run`: every stage that reads labels or detects conditions imports
this room, never the annotator's.
"""

from evaluator.codebook.detect import Detection, Mention, PhraseMatcher, detect, find_mentions
from evaluator.codebook.loader import codebook_version, load_codebook

__all__ = [
    "Detection",
    "Mention",
    "PhraseMatcher",
    "codebook_version",
    "detect",
    "find_mentions",
    "load_codebook",
]
