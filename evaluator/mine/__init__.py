"""The mine stage: label posts with the codebook (corpus.jsonl → annotations.jsonl) and score
annotations against hand labels.

    mine(corpus, out, annotator="local" | "PROVIDER:MODEL" | Annotator, ...) -> MineReport
    validate(pred_path, gold_path, min_support=5) -> ValidationReport

Annotators implement the `Annotator` protocol and register with `register_annotator(name)`;
`PROVIDER:MODEL` names resolve to `LLMAnnotator` (any langchain `init_chat_model` id).
"""

from evaluator.mine.base import ANNOTATORS, Annotator, derive_post_labels, register_annotator
from evaluator.mine.llm import LLMAnnotator
from evaluator.mine.pipeline import mine, partial_path, read_posts, resolve_annotator, select_posts
from evaluator.mine.validate import read_labels, validate

__all__ = [
    "Annotator",
    "ANNOTATORS",
    "derive_post_labels",
    "register_annotator",
    "LLMAnnotator",
    "mine",
    "partial_path",
    "read_posts",
    "resolve_annotator",
    "select_posts",
    "read_labels",
    "validate",
]
