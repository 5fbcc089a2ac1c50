"""The LLM annotator: any langchain chat model labels posts with the codebook.

The prompt follows the seed paper's extraction prompt (Li et al., github.com/Lingyao1219/
llm-mental-health-analysis, `src/core/prompt.py`): a role, the inclusion relationships (causal,
instrumental, experiential, evaluative), the exclusion rules (metaphor, insult, chatbot described
as "bipolar", unrelated use), per-field guidelines and few-shot examples. Unlike the paper, every
label definition is rendered from the codebook file, the answer is a tool call validated against
`LLMExtraction`, and nothing the model says is trusted: quotes are checked against the post and
labels are normalised to codebook ids (see `evaluator.mine.normalise`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from evaluator.codebook import codebook_version
from evaluator.llm import LLMCache, StructuredCaller, map_concurrently
from evaluator.mine.base import derive_post_labels
from evaluator.mine.normalise import NONE, LabelNormaliser, find_quote
from evaluator.types import (
    Annotation,
    AnnotatorInfo,
    Codebook,
    Impact,
    LabelDef,
    LLMExtraction,
    LLMImpact,
    Post,
)

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["LLMAnnotator", "AnnotationStats", "render_system_prompt", "PROMPT_TEMPLATE_VERSION"]

#: Bump when the prompt template or the output handling changes; cached answers are keyed by it
#: (together with a hash of the rendered codebook), so old answers are never reused by mistake.
PROMPT_TEMPLATE_VERSION = "mine-llm-1"

#: Surface forms listed per condition in the prompt (the rest only cost tokens).
_MAX_FORMS = 15

#: Longer posts are cut before prompting; quotes are still checked against the full text.
MAX_POST_CHARS = 8000

# Few-shot examples (written for this project). Labels are codebook ids of the default codebook;
# an example is left out when a label does not exist in the loaded codebook.
_FEW_SHOT: list[tuple[str, dict[str, Any]]] = [
    (
        "I have ADHD and honestly ChatGPT has been a lifesaver for breaking my assignments into "
        "tiny steps when my brain just freezes. I still see my psychiatrist, this just helps "
        "between appointments.",
        {
            "impacts": [
                {
                    "supporting_quote": "ChatGPT has been a lifesaver for breaking my assignments "
                    "into tiny steps when my brain just freezes",
                    "product": "chatgpt",
                    "sentiment": "positive",
                    "condition": "adhd",
                    "perspective": "instrumental_support",
                    "value": "human_welfare",
                    "confidence": 0.95,
                }
            ],
            "crisis": False,
        },
    ),
    (
        "Talking to my Replika every night got me through the worst of my depression last winter. "
        "But since the update she doesn't remember anything about me, and I can't stop opening "
        "the app even though it makes me cry.",
        {
            "impacts": [
                {
                    "supporting_quote": "Talking to my Replika every night got me through the "
                    "worst of my depression last winter.",
                    "product": "replika",
                    "sentiment": "positive",
                    "condition": "depressive",
                    "perspective": "emotional_support",
                    "value": "human_welfare",
                    "confidence": 0.9,
                },
                {
                    "supporting_quote": "I can't stop opening the app even though it makes me cry",
                    "product": "replika",
                    "sentiment": "negative",
                    "condition": "depressive",
                    "perspective": "dependency",
                    "value": "autonomy",
                    "confidence": 0.85,
                },
            ],
            "crisis": False,
        },
    ),
    (
        "A companion bot told a teenager who said he wanted to kill himself to 'come home' to it. "
        "These apps should not be allowed near kids in crisis and somebody has to answer for it.",
        {
            "impacts": [
                {
                    "supporting_quote": "These apps should not be allowed near kids in crisis and "
                    "somebody has to answer for it.",
                    "product": "other",
                    "sentiment": "negative",
                    "condition": "depressive",
                    "perspective": "psychological_harm",
                    "value": "accountability",
                    "confidence": 0.9,
                }
            ],
            "crisis": True,
        },
    ),
    (
        "lol Gemini is so bipolar today, first it writes my code then it refuses to open a file",
        {"impacts": [], "crisis": False},
    ),
    (
        "Charged twice for the yearly subscription and support never answered. Uninstalling.",
        {"impacts": [], "crisis": False},
    ),
]


def _label_lines(labels: Sequence[LabelDef]) -> str:
    lines = []
    for label in labels:
        name = f" ({label.name})" if label.name and label.name.lower() != label.id else ""
        line = f"  - `{label.id}`{name}: {label.definition.strip()}"
        forms = getattr(label, "surface_forms", None)
        if forms:
            line += f" Includes: {', '.join(forms[:_MAX_FORMS])}."
        if label.examples:
            line += f' Example: "{label.examples[0]}"'
        lines.append(line)
    return "\n".join(lines)


def _few_shot_block(codebook: Codebook) -> str:
    ids = {kind: set(codebook.ids(kind)) for kind in ("conditions", "perspectives", "values")}
    products = set(codebook.ids("products"))
    blocks = []
    for text, answer in _FEW_SHOT:
        usable = all(
            impact["condition"] in ids["conditions"]
            and impact["perspective"] in ids["perspectives"]
            and (impact["value"] == NONE or impact["value"] in ids["values"])
            and (impact["product"] is None or impact["product"] in products)
            for impact in answer["impacts"]
        )
        if usable:
            blocks.append(f"Post:\n{text}\n\nAnswer:\n{json.dumps(answer, ensure_ascii=False)}")
    return "\n\n---\n\n".join(blocks)


def render_system_prompt(codebook: Codebook) -> str:
    """The system prompt: role, relevance rules, label definitions and few-shot examples, all
    rendered from the codebook so a replaced codebook changes what the model is told."""
    rules = codebook.relevance
    include = "\n".join(
        f"{n}. **{rule.id}**: {rule.definition.strip()}"
        + (f' (e.g. "{rule.examples[0]}")' if rule.examples else "")
        for n, rule in enumerate(rules.include, start=1)
    )
    exclude = "\n".join(
        f"{n}. **{rule.id}**: {rule.definition.strip()}"
        + (f' (e.g. "{rule.examples[0]}")' if rule.examples else "")
        for n, rule in enumerate(rules.exclude, start=1)
    )
    few_shot = _few_shot_block(codebook)
    return f"""You are an expert in how people use large language model (LLM) chatbots for their \
mental health and how chatbots affect it. You read one social-media post or app review at a time \
and extract every statement that relates the use of a chatbot to a person's mental health. Be \
objective and context-sensitive; do not assume facts that are not in the post.

## Relevance
{rules.description.strip()}
Extract an impact ONLY if there is a DIRECT relationship of one of these kinds:
{include}

Return an empty `impacts` list if ANY of these is true:
{exclude}
Mental-health words that describe the chatbot's behaviour ("this AI is so bipolar", "ChatGPT is \
schizo today") are never a person's condition.

## Fields of each impact
- `supporting_quote`: copy the words EXACTLY as they appear in the post (same spelling, \
punctuation and case), one contiguous passage of at least 5 words that on its own justifies every \
other field. Never paraphrase, shorten with "...", correct typos or join separate passages.
- `product`: the chatbot the impact is about, as one of these ids (null if none fits):
{_label_lines(codebook.products)}
- `sentiment`: the impact of the chatbot's use on mental health as the author frames it:
{_label_lines(codebook.sentiments)}
- `condition`: whose mental health: a person's, never the chatbot's. One of:
{_label_lines(codebook.conditions)}
- `perspective`: the user's perspective on the chatbot's use. One of:
{_label_lines(codebook.perspectives)}
- `value`: the human value at stake (value-sensitive design), or `none`. One of:
{_label_lines(codebook.values)}
- `confidence`: 0 to 1, how sure you are about this impact.

Use the ids exactly as written. Extract one impact per distinct statement; two quotes that make \
the same point are one impact.

## Crisis
`crisis`: {codebook.crisis.definition.strip()} Set it from the whole post, also when there is no \
impact.

## Examples

{few_shot}
"""


@dataclass
class AnnotationStats:
    """What the checks changed, for the run summary. Thread-safe."""

    quotes_repaired: int = 0
    impacts_dropped: int = 0
    labels_other: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, *, repaired: int = 0, dropped: int = 0, other: int = 0) -> None:
        with self._lock:
            self.quotes_repaired += repaired
            self.impacts_dropped += dropped
            self.labels_other += other


class LLMAnnotator:
    """Annotates posts with a chat model: one structured call per post, cached and retried.

    A post whose call still fails after retries becomes an error row (`error` set, not
    relevant), so the output always has one row per input post.
    """

    name = "llm"

    def __init__(
        self,
        model: str | BaseChatModel,
        *,
        codebook: Codebook,
        cache: LLMCache | None = None,
        concurrency: int = 4,
        timeout: float = 60.0,
        max_retries: int = 4,
        backoff: float = 1.0,
    ) -> None:
        from langchain_core.messages import SystemMessage

        self.codebook = codebook
        self.concurrency = concurrency
        self.batch_size = max(8, concurrency * 4)
        self.normaliser = LabelNormaliser(codebook)
        self.stats = AnnotationStats()
        system_prompt = render_system_prompt(codebook)
        prompt_hash = hashlib.sha256(system_prompt.encode("utf-8")).hexdigest()[:12]
        self.prompt_version = f"{PROMPT_TEMPLATE_VERSION}+{prompt_hash}"
        self._system = SystemMessage(content=system_prompt)
        self.caller = StructuredCaller(
            model,
            LLMExtraction,
            prompt_version=self.prompt_version,
            cache=cache,
            max_retries=max_retries,
            backoff=backoff,
            timeout=timeout,
        )
        self.usage = self.caller.usage
        self.info = AnnotatorInfo(
            name=self.name,
            model=self.caller.model_id,
            codebook_version=codebook_version(codebook),
            prompt_version=self.prompt_version,
        )

    def annotate(self, posts: Sequence[Post]) -> list[Annotation]:
        """One annotation per post. A wrong base URL or a dead server stops the run with
        `ModelError` (the caller's breaker: failed attempts in a row) instead of turning the
        corpus into error rows."""
        return map_concurrently(self.annotate_one, list(posts), concurrency=self.concurrency)

    def annotate_one(self, post: Post) -> Annotation:
        from langchain_core.messages import HumanMessage

        text = post.text[:MAX_POST_CHARS]
        human = HumanMessage(content=f"Post ({post.platform}):\n{text}")
        outcome = self.caller.call([self._system, human], cache_input=text)
        if outcome.value is None:
            return Annotation(id=post.id, relevant=False, error=outcome.error, annotator=self.info)
        impacts = [
            impact
            for raw in outcome.value.impacts
            if (impact := self._to_impact(raw, post.text)) is not None
        ]
        return derive_post_labels(
            post.id, impacts, crisis=outcome.value.crisis, annotator=self.info
        )

    def _to_impact(self, raw: LLMImpact, text: str) -> Impact | None:
        found = find_quote(raw.supporting_quote, text)
        if found is None:
            self.stats.add(dropped=1)
            return None
        quote, repaired = found
        labels: dict[str, str | None] = {}
        raw_labels: dict[str, str] = {}
        for impact_field, kind, given in (
            ("product", "products", raw.product),
            ("sentiment", "sentiments", raw.sentiment),
            ("condition", "conditions", raw.condition),
            ("perspective", "perspectives", raw.perspective),
            ("value", "values", raw.value),
        ):
            label = self.normaliser.normalise(kind, given)
            labels[impact_field] = label.id
            if label.unknown:
                raw_labels[impact_field] = str(given)
        self.stats.add(repaired=int(repaired), other=len(raw_labels))
        return Impact(
            supporting_quote=quote,
            product=labels["product"],
            sentiment=labels["sentiment"],
            condition=labels["condition"],
            perspective=labels["perspective"],
            value=labels["value"],
            confidence=min(1.0, max(0.0, raw.confidence)),
            raw_labels=raw_labels or None,
        )
