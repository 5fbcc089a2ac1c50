"""Make model output trustworthy: quotes must be real spans of the post, labels codebook ids.

An LLM paraphrases quotes and invents labels ("Depression", "over-reliance", "Other (grief)").
Downstream stages cite quotes as user voices and count labels, so both are checked here:
a quote is kept only if it is, or can be repaired to, a verbatim span of the post; a label is
mapped to a codebook id through ids, names, surface forms and the seed paper's label names, and
anything else becomes `other` with the model's label kept for review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evaluator.types import Codebook

__all__ = ["find_quote", "LabelNormaliser", "NormalisedLabel", "OTHER", "NONE"]

OTHER = "other"
NONE = "none"

#: Minimum rapidfuzz alignment score (0-100) for a near-miss quote to be replaced by the span.
REPAIR_THRESHOLD = 90.0

_QUOTE_CHARS = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2014": "-",
        "\u2013": "-",
        "\u2026": "...",
    }
)


def _canonical_with_map(text: str) -> tuple[str, list[int]]:
    """Text with typographic quotes made plain and whitespace runs collapsed to one space, plus
    for each kept character its offset in the original (to map a match back to a real span)."""
    chars: list[str] = []
    offsets: list[int] = []
    previous_space = False
    for index, char in enumerate(text):
        if char.isspace():
            if previous_space:
                continue
            chars.append(" ")
            offsets.append(index)
            previous_space = True
            continue
        previous_space = False
        translated = char.translate(_QUOTE_CHARS)
        for piece in translated:
            chars.append(piece)
            offsets.append(index)
    return "".join(chars), offsets


def find_quote(quote: str, text: str) -> tuple[str, bool] | None:
    """The verbatim span of `text` that `quote` stands for, and whether it had to be repaired.

    Exact substrings are kept; quotes differing only in whitespace or typographic quotes, or
    aligning with a span at >= REPAIR_THRESHOLD (rapidfuzz), are replaced by that span. None when
    no span is close enough (the model invented or paraphrased the quote).
    """
    quote = quote.strip().strip('"').strip()
    if not quote:
        return None
    if quote in text:
        return quote, False
    canon_text, offsets = _canonical_with_map(text)
    canon_quote, _ = _canonical_with_map(quote)
    start = canon_text.find(canon_quote)
    if start >= 0:
        end = start + len(canon_quote) - 1
        return text[offsets[start] : offsets[end] + 1], True

    from rapidfuzz import fuzz

    alignment = fuzz.partial_ratio_alignment(canon_quote, canon_text)
    if alignment is None or alignment.score < REPAIR_THRESHOLD:
        return None
    start, end = alignment.dest_start, alignment.dest_end
    # Extend to word boundaries so a repaired quote never starts or ends mid-word.
    while start > 0 and canon_text[start - 1].isalnum():
        start -= 1
    while end < len(canon_text) and canon_text[end].isalnum():
        end += 1
    span = text[offsets[start] : offsets[end - 1] + 1].strip().strip("\"'\u201c\u201d\u2018\u2019")
    if len(span) < 0.5 * len(quote):
        return None
    return span, True


# Seed-paper label names and common model phrasings → default codebook ids. Entries whose target
# is not in the loaded codebook are ignored, so a replaced codebook is never polluted.
_SYNONYMS: dict[str, dict[str, str]] = {
    "conditions": {
        "none": "general",
        "null": "general",
        "mental health": "general",
        "general mental health": "general",
        "loneliness": "general",
        "stress": "general",
        "depression": "depressive",
        "depressive disorder": "depressive",
        "depressive disorders": "depressive",
        "suicidal ideation": "depressive",
        "suicide": "depressive",
        "self harm": "depressive",
        "anxiety disorder": "anxiety",
        "anxiety disorders": "anxiety",
        "panic": "anxiety",
        "ocd": "anxiety",
        "ptsd": "anxiety",
        "cptsd": "anxiety",
        "bipolar disorder": "bipolar",
        "bipolar disorders": "bipolar",
        "mania": "bipolar",
        "schizophrenia": "schizophrenia_spectrum",
        "schizophrenia spectrum disorders": "schizophrenia_spectrum",
        "psychosis": "schizophrenia_spectrum",
        "ai psychosis": "schizophrenia_spectrum",
        "delusions": "schizophrenia_spectrum",
        "attention deficit hyperactivity disorder": "adhd",
        "add": "adhd",
        "autism spectrum disorder": "autism",
        "autism spectrum disorders": "autism",
        "asd": "autism",
        "autistic": "autism",
        "eating disorder": "eating",
        "eating disorders": "eating",
        "conduct disorder": "conduct",
        "conduct disorders": "conduct",
        "anger issues": "conduct",
        "intellectual disability": "intellectual_disability",
        "idiopathic developmental intellectual disability": "intellectual_disability",
        "developmental disability": "intellectual_disability",
    },
    "perspectives": {
        "emotional": "emotional_support",
        "instrumental": "instrumental_support",
        "informational": "informational_support",
        "appraisal": "appraisal_support",
        "personalized care": "emotional_support",
        "companionship": "anthropomorphism",
        "attachment": "anthropomorphism",
        "addiction": "dependency",
        "over reliance": "dependency",
        "overreliance": "dependency",
        "over use": "dependency",
        "reliance": "dependency",
        "misuse": "maladaptive_usage",
        "harm": "psychological_harm",
        "misdiagnosis": "clinical_skepticism",
        "misinformation": "clinical_skepticism",
        "hallucination": "clinical_skepticism",
        "accuracy": "clinical_skepticism",
        "data governance": "ethics",
        "security concern": "ethics",
        "privacy concern": "ethics",
        "privacy": "ethics",
        "lack human connection": "sociocultural_impact",
        "isolation": "sociocultural_impact",
        "limitations": "interaction_limitations",
    },
    "values": {
        "null": NONE,
        "welfare": "human_welfare",
        "wellbeing": "human_welfare",
        "well being": "human_welfare",
        "fairness": "freedom_from_bias",
        "bias": "freedom_from_bias",
        "consent": "informed_consent",
        "intellectual property": "ownership_and_property",
        "ownership": "ownership_and_property",
        "property": "ownership_and_property",
        "sustainability": "environmental_sustainability",
        "accessibility": "universal_usability",
        "usability": "universal_usability",
        "calm": "calmness",
    },
    "sentiments": {
        "helpful": "positive",
        "harmful": "negative",
        "not applicable": "neutral",
        "not_applicable": "neutral",
    },
    "products": {
        "gpt": "chatgpt",
        "openai": "chatgpt",
        "character ai": "character_ai",
        "characterai": "character_ai",
        "c.ai": "character_ai",
    },
}

_EMPTY = {"", "null", "none", "n/a", "na", "unknown", "unspecified"}
_GENERIC_PRODUCTS = {"ai", "chatbot", "chatbots", "ai chatbot", "llm", "llms", "a chatbot", "bot"}
_OTHER_PREFIX = re.compile(r"^\s*others?\b\s*[:(\-]?\s*", re.IGNORECASE)


def _key(label: str) -> str:
    """Case, spacing, hyphens and underscores do not distinguish labels."""
    return re.sub(r"[\s_\-/]+", " ", label.strip().lower()).strip(" .'\"`")


@dataclass(frozen=True)
class NormalisedLabel:
    id: str | None
    unknown: bool = False  # the model's label matched nothing and became `other`


class LabelNormaliser:
    """Maps free-text labels of one kind (conditions, perspectives, values, sentiments,
    products) to the codebook's ids."""

    def __init__(self, codebook: Codebook) -> None:
        self.codebook = codebook
        self._index: dict[str, dict[str, str]] = {}
        self._phrases: dict[str, list[tuple[str, str]]] = {}
        for kind in ("conditions", "perspectives", "values", "sentiments", "products"):
            labels = getattr(codebook, kind)
            ids = {label.id for label in labels}
            index: dict[str, str] = {}
            for source, target in _SYNONYMS.get(kind, {}).items():
                if target in ids or target == NONE:
                    index[_key(source)] = target
            phrases: list[tuple[str, str]] = []
            for label in labels:
                names = [label.id, label.name or "", *getattr(label, "surface_forms", [])]
                if kind == "products":
                    names += label.cues
                category = getattr(label, "paper_category", None)
                if category:
                    names.append(category)
                for name in names:
                    if _key(name):
                        index[_key(name)] = label.id
                        phrases.append((_key(name), label.id))
            self._index[kind] = index
            # Longest phrase first: "social anxiety disorder" before "anxiety".
            self._phrases[kind] = sorted(set(phrases), key=lambda item: -len(item[0]))

    def ids(self, kind: str) -> set[str]:
        return set(self.codebook.ids(kind))

    def normalise(self, kind: str, raw: str | None) -> NormalisedLabel:
        """The codebook id for `raw`. Products and values may be empty (None / `none`).

        `unknown` is set whenever the result is `other` but the model said something else
        ("Other (grief)", "nostalgia"), so the caller keeps the model's words."""
        label = self._lookup(kind, raw)
        if label.id == OTHER and _key(raw or "") != OTHER:
            return NormalisedLabel(OTHER, unknown=True)
        return label

    def _lookup(self, kind: str, raw: str | None) -> NormalisedLabel:
        key = _key(raw or "")
        if kind == "products" and (key in _EMPTY or key in _GENERIC_PRODUCTS):
            return NormalisedLabel(None)
        if kind == "values" and key in _EMPTY:
            return NormalisedLabel(NONE)
        index = self._index[kind]
        if key in index:
            return NormalisedLabel(index[key])
        stripped = _key(_OTHER_PREFIX.sub("", raw or "").rstrip(")"))
        if stripped != key and stripped in index:
            return NormalisedLabel(index[stripped])
        # A known phrase inside a longer label ("generalized anxiety", "ChatGPT-4o").
        padded = f" {key} "
        for phrase, label_id in self._phrases[kind]:
            if len(phrase) >= 3 and (f" {phrase} " in padded or key.startswith(phrase + " ")):
                return NormalisedLabel(label_id)
            if kind == "products" and len(phrase) >= 4 and key.startswith(phrase):
                return NormalisedLabel(label_id)
        if kind == "sentiments":
            return NormalisedLabel("neutral", unknown=True)
        return NormalisedLabel(OTHER, unknown=True)
