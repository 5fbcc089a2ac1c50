"""The offline annotator: codebook cues for relevance and conditions, small embedding
classifiers for perspective, value and sentiment. Deterministic, no API key, no network.

How a post is read:
1. Split into sentences, keeping character offsets so every quote is a verbatim span.
2. A sentence is an impact candidate when it links mental health (a condition named by the
   detector, or a relevance cue from the codebook) to a chatbot: named in the sentence or a
   neighbouring one, or implied because the post is a review of a chatbot app.
3. Posts that are bare promotion (links, hashtags, titles with no one speaking) are dropped.
4. In a post that is relevant, sentences about the chatbot carrying a complaint or a clear
   perspective cue (paywall, canned replies, manipulation) become impacts too.
5. At most four sentences are kept per post; each is an impact whose condition is the one named
   in it (else `general`); sentiment, perspective and value come from logistic regressions on
   MiniLM sentence embeddings (trained at load time on the codebook's examples plus the
   hand-written and hand-labelled sentences of `resources/local_training.yaml`, weighted by label
   priors), nudged by the codebook cues of each label found in the quote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from evaluator.embeddings import MODEL_NAME
from evaluator.errors import ConfigError
from evaluator.mine.base import derive_post_labels, register_annotator
from evaluator.mine.codebook import codebook_version, load_codebook
from evaluator.mine.detect import Mention, PhraseMatcher, find_mentions
from evaluator.types import Annotation, AnnotatorInfo, Codebook, Impact, Post

__all__ = ["LocalAnnotator", "split_sentences"]

TRAINING_FILE = Path(__file__).parent / "resources" / "local_training.yaml"

_MAX_IMPACTS = 4
# How a perspective leans, by the codebook's own definitions of positive (support, coping,
# relief) and negative (harm, dependency, misinformation, loss) impacts.
_LEAN = {
    "emotional_support": 1,
    "instrumental_support": 1,
    "informational_support": 1,
    "appraisal_support": 1,
    "dependency": -1,
    "maladaptive_usage": -1,
    "psychological_harm": -1,
    "interaction_limitations": -1,
    "ethics": -1,
}
_PERSPECTIVE_LEAN = 0.3
_NEUTRAL_BAND = 0.05
_MIXED_MARGIN = 0.5
# Perspectives whose cues mark an impact even in a sentence without a mental-health word.
_SECONDARY_PERSPECTIVES = {
    "interaction_limitations",
    "ethics",
    "clinical_skepticism",
    "dependency",
    "informational_support",
}
_CUE_WEIGHT = {"perspectives": 0.15, "values": 0.3}
_MAX_QUOTE_CHARS = 320
_MIN_QUOTE_WORDS = 5
_APP_REVIEW_PLATFORMS = {"google_play", "app_store"}
# In a review of a chatbot app or a post in a chatbot's forum, these words name the chatbot.
_IMPLICIT_BOT = re.compile(r"\b(?:(?:this|the)\s+app|app|it|it's|it’s)\b", re.I)
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|im|i've|i'd|me|my|mine|myself|we|us|our)\b", re.I)
_URL = re.compile(r"https?://\S+|www\.\S+|\b\S+\.(?:com|net|org|io|ly)/\S*", re.I)
_HASHTAG = re.compile(r"#\w+")
# Sentence ends: terminal punctuation followed by space, or line breaks.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+|\s*\n\s*")


def _encoder():
    """The shared sentence embedding model (loaded once per process)."""
    from evaluator.embeddings import load_model

    return load_model()


def _embed(texts: list[str]):
    import numpy as np

    if not texts:
        return np.zeros((0, 384), dtype="float32")
    return _encoder().encode(
        texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False
    )


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of sentences, whitespace-trimmed; short fragments join the next one
    so that a quote has at least five words when the text allows it."""
    spans: list[tuple[int, int]] = []
    position = 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((position, match.start()))
        position = match.end()
    spans.append((position, len(text)))
    trimmed = []
    for start, end in spans:
        chunk = text[start:end]
        stripped = chunk.strip()
        if not stripped:
            continue
        start += len(chunk) - len(chunk.lstrip())
        trimmed.append((start, start + len(stripped)))
    merged: list[tuple[int, int]] = []
    for start, end in trimmed:
        if merged and len(text[merged[-1][0] : merged[-1][1]].split()) < _MIN_QUOTE_WORDS:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    if len(merged) > 1 and len(text[merged[-1][0] : merged[-1][1]].split()) < _MIN_QUOTE_WORDS:
        last = merged.pop()
        merged[-1] = (merged[-1][0], last[1])
    return merged


@dataclass
class _Sentence:
    start: int
    end: int
    products: list[str] = field(default_factory=list)
    named: bool = False
    conditions: list[str] = field(default_factory=list)
    cues: int = 0


@dataclass
class _Candidate:
    post_index: int
    sentence: _Sentence
    quote: str
    product: str | None
    condition: str
    score: float


class _Classifier:
    """Logistic regression over sentence embeddings, one per label family."""

    def __init__(self, examples: dict[str, list[str]], priors: dict[str, float]) -> None:
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        labels = [label for label, texts in examples.items() if texts]
        texts = [text for label in labels for text in examples[label]]
        targets = [label for label in labels for _ in examples[label]]
        self.model = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced")
        self.model.fit(_embed(texts), targets)
        self.labels = list(self.model.classes_)
        floor = min(priors.values()) if priors else 1.0
        self._prior = np.array([priors.get(label, floor) for label in self.labels])

    def proba(self, embeddings):
        """Class probabilities under the label priors (the model itself saw balanced classes)."""
        scores = self.model.predict_proba(embeddings) * self._prior
        return scores / scores.sum(axis=1, keepdims=True)


def _training_examples(codebook: Codebook, kind: str, shipped: dict) -> dict[str, list[str]]:
    """Codebook examples of each label plus the shipped sentences for labels the codebook has."""
    labels = getattr(codebook, kind)
    written = shipped.get(kind.rstrip("s"), {})
    quoted = shipped.get("corpus_" + kind.rstrip("s"), {})
    return {
        label.id: [*label.examples, *written.get(label.id, []), *quoted.get(label.id, [])]
        for label in labels
    }


def _load_training() -> dict:
    try:
        with open(TRAINING_FILE, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read training sentences: {exc}", file=TRAINING_FILE) from None


class LocalAnnotator:
    """Annotates posts offline. Construct once: building it trains three small classifiers."""

    #: Posts per `annotate` call the pipeline should send: sentences are embedded per call.
    batch_size = 256

    def __init__(self, codebook: Codebook | None = None) -> None:
        self.codebook = codebook or load_codebook()
        cb = self.codebook
        self.info = AnnotatorInfo(
            name="local",
            model=f"{MODEL_NAME} + logistic regression + codebook cues",
            codebook_version=codebook_version(cb),
        )
        self._products = [
            (label.name or label.id, PhraseMatcher(label.id, label.cues, label.exact_case))
            for label in cb.products
        ]
        cue_phrases = [cue for rule in cb.relevance.include for cue in rule.cues]
        self._mh_cues = PhraseMatcher("mental_health", cue_phrases)
        self._condition_ids = set(cb.ids("conditions"))
        self._fallback_condition = "general" if "general" in self._condition_ids else None
        self._label_cues = {
            kind: {
                label.id: PhraseMatcher(label.id, label.cues, label.exact_case)
                for label in getattr(cb, kind)
                if label.cues
            }
            for kind in ("perspectives", "values")
        }
        # Words that frame the chatbot's effect ("helped", "made it worse"), per sentiment.
        self._framing = {
            label.id: PhraseMatcher(label.id, label.cues, label.exact_case)
            for label in cb.sentiments
        }
        self._models: dict[str, _Classifier] | None = None

    # ----- models -----------------------------------------------------------------------
    def _classifiers(self) -> dict[str, _Classifier]:
        if self._models is None:
            shipped = _load_training()
            priors = shipped.get("priors", {})
            self._models = {
                kind: _Classifier(
                    _training_examples(self.codebook, kind, shipped),
                    priors.get(kind.rstrip("s"), {}),
                )
                for kind in ("perspectives", "values", "sentiments")
            }
        return self._models

    # ----- reading one post ---------------------------------------------------------------
    def _default_product(self, post: Post) -> str | None:
        """The app a review is about, or the chatbot a forum is about (r/Replika)."""
        meta = post.meta or {}
        for key in ("app", "subreddit"):
            value = meta.get(key)
            if not isinstance(value, str) or not value:
                continue
            for name, matcher in self._products:
                if name == "other":
                    continue
                if matcher.find(value) or value.lower().startswith(name.lower().replace(".", "")):
                    return name
        return None

    def _is_app_review(self, post: Post, default_product: str | None) -> bool:
        return post.platform in _APP_REVIEW_PLATFORMS and default_product is not None

    def _is_promotion(self, post: Post) -> bool:
        """Links, hashtags and titles with nobody speaking: an ad or a bare headline."""
        text = post.text
        words = len(text.split())
        tags = len(_HASHTAG.findall(text))
        if tags >= 3 and tags * 4 >= words:
            return True
        if post.platform in ("youtube", "hackernews") and not _FIRST_PERSON.search(text):
            return True
        stripped = _URL.sub("", _HASHTAG.sub("", text)).strip()
        return len(stripped.split()) < _MIN_QUOTE_WORDS

    def _candidates(self, index: int, post: Post) -> list[_Candidate]:
        text = post.text
        if self._is_promotion(post):
            return []
        default_product = self._default_product(post)
        app_review = self._is_app_review(post, default_product)
        spans = split_sentences(text)
        sentences = [_Sentence(start, end) for start, end in spans]
        condition_mentions, _ = find_mentions(text, self.codebook)
        product_mentions: list[tuple[str, Mention]] = [
            (name, mention) for name, matcher in self._products for mention in matcher.find(text)
        ]
        cue_mentions = self._mh_cues.find(text)
        if default_product:
            for match in _IMPLICIT_BOT.finditer(text):
                product_mentions.append(
                    (default_product, Mention("implicit", match.start(), match.end(), ""))
                )
        # In a chatbot's own forum or app review, once the chatbot is mentioned the whole post
        # is about it; elsewhere the link must be within two sentences.
        explicit = [m for _, m in product_mentions if m.label != "implicit"]
        whole_post = app_review or (default_product is not None and bool(explicit))
        for sentence in sentences:
            inside = lambda m, s=sentence: s.start <= m.start < s.end  # noqa: E731
            named = [(m.start, name) for name, m in product_mentions if inside(m)]
            sentence.products = [name for _, name in sorted(named)]
            sentence.named = any(inside(m) for m in explicit)
            sentence.conditions = [m.label for m in condition_mentions if inside(m)]
            sentence.cues = sum(1 for m in cue_mentions if inside(m))
        post_conditions = [m.label for m in condition_mentions]
        candidates = []
        last_product = default_product
        for position, sentence in enumerate(sentences):
            neighbours = sentences[max(0, position - 2) : position + 3]
            if sentence.products:
                last_product = sentence.products[0]
            mental = bool(sentence.conditions) or sentence.cues > 0
            if not mental:
                continue
            bot_here = bool(sentence.products)
            bot_near = any(s.named for s in neighbours)
            if not (bot_here or bot_near or whole_post):
                continue
            quote = _quote(text, sentence)
            if len(quote.split()) < _MIN_QUOTE_WORDS:
                continue
            product = (
                sentence.products[0]
                if sentence.products
                else next((s.products[0] for s in neighbours if s.products), last_product)
            )
            if product == "other" and default_product:
                product = default_product
            conditions = list(dict.fromkeys(sentence.conditions))[:2] or [
                self._fallback_condition or (post_conditions or ["other"])[0]
            ]
            score = (
                2.0 * len(conditions)
                + min(sentence.cues, 3)
                + (1.5 if bot_here else 0.5 if bot_near else 0.0)
            )
            # One impact per condition the sentence names ("anxious or depressed").
            for condition in conditions:
                candidates.append(_Candidate(index, sentence, quote, product, condition, score))
        if candidates:
            candidates += self._secondary(
                index, text, sentences, candidates, whole_post, last_product or default_product
            )
        starts = sorted(
            {c.sentence.start for c in candidates},
            key=lambda start: (
                -max(c.score for c in candidates if c.sentence.start == start),
                start,
            ),
        )
        keep = set(starts[:_MAX_IMPACTS])
        return [c for c in candidates if c.sentence.start in keep]

    def _secondary(self, index, text, sentences, primary, whole_post, product):
        """In a relevant post, sentences about the chatbot that carry a clear perspective cue
        (a paywall, a canned reply, a privacy worry) are impacts too, even without a
        mental-health word: the post as a whole already ties the chatbot to mental health."""
        taken = {c.sentence.start for c in primary}
        extra = []
        condition = (
            primary[0].condition
            if len({c.condition for c in primary}) == 1
            else (self._fallback_condition or primary[0].condition)
        )
        for position, sentence in enumerate(sentences):
            if sentence.start in taken:
                continue
            neighbours = sentences[max(0, position - 2) : position + 3]
            if not (whole_post or any(s.named for s in neighbours)):
                continue
            quote = _quote(text, sentence)
            if len(quote.split()) < _MIN_QUOTE_WORDS:
                continue
            hits = sum(
                len(matcher.find(quote))
                for label, matcher in self._label_cues["perspectives"].items()
                if label in _SECONDARY_PERSPECTIVES
            ) + len(self._framing["negative"].find(quote))
            if hits:
                name = sentence.products[0] if sentence.products else product
                extra.append(_Candidate(index, sentence, quote, name, condition, 0.5 * hits))
        return extra

    # ----- public -------------------------------------------------------------------------
    def annotate(self, posts: Sequence[Post]) -> list[Annotation]:
        """One Annotation per post, in order. Sentences of all posts are embedded in one batch."""
        per_post = [self._candidates(index, post) for index, post in enumerate(posts)]
        flat = [candidate for candidates in per_post for candidate in candidates]
        labels = self._label(flat) if flat else []
        label_of = {id(candidate): label for candidate, label in zip(flat, labels, strict=True)}
        annotations = []
        for post, candidates in zip(posts, per_post, strict=True):
            _, crisis_mentions = find_mentions(post.text, self.codebook)
            impacts = []
            sentiments = _post_sentiments([label_of[id(c)][0] for c in candidates])
            for candidate, sentiment in zip(candidates, sentiments, strict=True):
                _, perspective, value, confidence = label_of[id(candidate)]
                impacts.append(
                    Impact(
                        supporting_quote=candidate.quote,
                        product=candidate.product,
                        sentiment=sentiment,
                        condition=candidate.condition,
                        perspective=perspective,
                        value=value,
                        confidence=confidence,
                    )
                )
            annotations.append(
                derive_post_labels(
                    post.id, impacts, crisis=bool(crisis_mentions), annotator=self.info
                )
            )
        return annotations

    def _label(self, candidates: list[_Candidate]) -> list[tuple[float, str, str, float]]:
        """(sentiment score, perspective, value, confidence) per candidate."""
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        models = self._classifiers()
        embeddings = _embed([c.quote for c in candidates])
        perspective_p = models["perspectives"].proba(embeddings)
        value_p = models["values"].proba(embeddings)
        sentiment_p = models["sentiments"].proba(embeddings)
        vader = SentimentIntensityAnalyzer()
        results = []
        s_labels = models["sentiments"].labels
        for row, candidate in enumerate(candidates):
            p_row = self._with_cues("perspectives", models, perspective_p[row], candidate.quote)
            best = int(p_row.argmax())
            perspective = models["perspectives"].labels[best]
            v_row = self._with_cues("values", models, value_p[row], candidate.quote)
            value = models["values"].labels[int(v_row.argmax())]
            polarity = vader.polarity_scores(_mask_conditions(candidate.quote))["compound"]
            probs = dict(zip(s_labels, sentiment_p[row], strict=True))
            framing = len(self._framing["positive"].find(candidate.quote)) - len(
                self._framing["negative"].find(candidate.quote)
            )
            score = (
                probs.get("positive", 0)
                - probs.get("negative", 0)
                + 0.6 * polarity
                + 0.4 * max(-2, min(2, framing))
                + _PERSPECTIVE_LEAN * _LEAN.get(perspective, 0)
            )
            confidence = float(perspective_p[row][best])
            results.append((float(score), perspective, value, round(confidence, 3)))
        return results

    def _with_cues(self, kind: str, models: dict[str, _Classifier], probs, quote: str):
        """Classifier probabilities plus a bonus per codebook cue of the label in the quote:
        the embedding captures the gist, a cue like "paywall" pins down the aspect."""
        scores = probs.copy()
        for column, label in enumerate(models[kind].labels):
            matcher = self._label_cues[kind].get(label)
            if matcher is not None:
                scores[column] += _CUE_WEIGHT[kind] * min(len(matcher.find(quote)), 2)
        return scores


def _post_sentiments(scores: list[float]) -> list[str]:
    """Impact sentiments from scores. A post is `mixed` only when it clearly says both: when
    signs conflict, impacts with a weak score are read as neutral."""
    labels = [
        "positive" if s > _NEUTRAL_BAND else "negative" if s < -_NEUTRAL_BAND else "neutral"
        for s in scores
    ]
    if "positive" in labels and "negative" in labels:
        labels = [
            label if abs(score) >= _MIXED_MARGIN else "neutral"
            for label, score in zip(labels, scores, strict=True)
        ]
    return labels


_CONDITION_WORDS = re.compile(
    r"\b(?:anxiety|anxious|depression|depressed|lonely|loneliness|stress|stressed|panic|"
    r"ptsd|trauma|grief|sad|sadness|suicidal|suicide|mental illness|disorder|miserable|alone|"
    r"isolation|isolated|struggling|struggle|pain|painful|hurt|crying|cry|scared|afraid|fear|"
    r"distress|distressed|low|dark|overwhelmed|addiction|problems|issues)\b",
    re.I,
)


def _mask_conditions(text: str) -> str:
    """VADER scores 'anxiety' as negative even in 'it helped my anxiety'; the framing, not the
    condition, carries the sentiment, so condition words are removed before scoring."""
    return _CONDITION_WORDS.sub("", text)


def _quote(text: str, sentence: _Sentence) -> str:
    """The sentence, or for a very long one its first part cut at a word boundary."""
    quote = text[sentence.start : sentence.end]
    if len(quote) <= _MAX_QUOTE_CHARS:
        return quote
    cut = quote.rfind(" ", 0, _MAX_QUOTE_CHARS)
    return quote[: cut if cut > 0 else _MAX_QUOTE_CHARS].rstrip(" ,;:-")


@register_annotator("local")
def _local_factory(codebook: Codebook | None = None) -> LocalAnnotator:
    return LocalAnnotator(codebook)
