"""The annotator interface, its registry, and the codebook's rule for post-level labels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from evaluator.registry import Registry
from evaluator.types import Annotation, AnnotatorInfo, Impact, Post

__all__ = ["Annotator", "ANNOTATORS", "register_annotator", "derive_post_labels"]


class Annotator(Protocol):
    """Turns posts into annotations. One Annotation per post, in input order, never fewer."""

    info: AnnotatorInfo

    def annotate(self, posts: Sequence[Post]) -> list[Annotation]: ...


#: Annotator factories `factory(codebook=..., cache_dir=...) -> Annotator` (cache_dir None: no
#: on-disk cache), by `--annotator` name.
ANNOTATORS: Registry[Callable[..., Annotator]] = Registry("annotator", field="annotator")

#: Decorator: `@register_annotator("name")` makes a factory available as `--annotator name`.
register_annotator = ANNOTATORS.register


def derive_post_labels(
    post_id: str, impacts: list[Impact], *, crisis: bool, annotator: AnnotatorInfo
) -> Annotation:
    """Post-level labels as the codebook defines them: unions over impacts; sentiment is the
    single impact sentiment, or `mixed` when positive and negative impacts both occur."""

    def ordered_union(values: list[str]) -> list[str]:
        return list(dict.fromkeys(v for v in values if v and v != "none"))

    if not impacts:
        return Annotation(id=post_id, relevant=False, crisis=crisis, annotator=annotator)
    sentiments = {impact.sentiment for impact in impacts}
    if {"positive", "negative"} <= sentiments:
        post_sentiment = "mixed"
    elif "positive" in sentiments:
        post_sentiment = "positive"
    elif "negative" in sentiments:
        post_sentiment = "negative"
    else:
        post_sentiment = "neutral"
    return Annotation(
        id=post_id,
        relevant=True,
        crisis=crisis,
        post_sentiment=post_sentiment,
        conditions=ordered_union([i.condition for i in impacts]),
        perspectives=ordered_union([i.perspective for i in impacts]),
        values=ordered_union([i.value for i in impacts]),
        impacts=impacts,
        annotator=annotator,
    )
