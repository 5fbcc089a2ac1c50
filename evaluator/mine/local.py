"""The offline annotator: codebook cues find where a post links a chatbot to mental health, small
models fitted on hand-labelled posts decide which sentences are impacts and how to label them.
Deterministic, no API key, no network.

How a post is read:
1. Split into sentences, keeping character offsets so every quote is a verbatim span.
2. Sentences linked to a chatbot (named in the sentence or within two sentences, or implied
   because the post is a review of a chatbot app or sits in a chatbot's forum) are candidates;
   bare promotion (links, hashtags, titles with no one speaking) has none.
3. Each candidate gets rule features (a condition named by the detector, codebook relevance
   cues, where the chatbot is named, perspective cues, the platform) next to its MiniLM
   embedding; a logistic regression fitted on the hand-labelled posts of
   `bench/data/mine_labelled/` gives the probability that the sentence is an impact. A post is
   relevant when its best sentence clears `relevance_threshold`; up to four sentences above
   `impact_threshold` become impacts.
4. Condition: the one the detector finds in the sentence (one impact per condition named),
   else the single condition the post's impacts name, else `general`.
5. Sentiment, perspective and value: logistic regressions over the embedding plus codebook cue
   counts (and VADER for sentiment), fitted on the codebook's examples, the hand-written
   sentences of `resources/local_training.yaml` and the gold quotes of the labelled posts;
   class-balanced in training, then weighted by label priors measured on the labelled posts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evaluator.codebook import (
    Mention,
    PhraseMatcher,
    codebook_version,
    find_mentions,
)
from evaluator.embeddings import MODEL_NAME, Embedder
from evaluator.errors import ConfigError
from evaluator.mine.base import derive_post_labels, register_annotator
from evaluator.mine.local_model import (
    IMPACT_C,
    LABEL_C,
    MAX_ITER,
    SHIPPED_FIX,
    WEIGHTS_FILE,
    LabelledPost,
    LabelModel,
    fit_models,
    labelled_dir,
    read_weights,
    refit_models,
    save_weights,
    training_embedder,
)
from evaluator.text import ANNOTATOR, sentence_spans
from evaluator.types import Annotation, AnnotatorInfo, Codebook, Impact, Post

__all__ = ["LocalAnnotator"]

_MAX_IMPACTS = 4
_MAX_QUOTE_CHARS = 320
_MIN_QUOTE_WORDS = ANNOTATOR.min_words
_APP_REVIEW_PLATFORMS = {"google_play", "app_store"}
_PLATFORM_GROUPS = (
    ("google_play", "app_store"),
    ("reddit",),
    ("bluesky",),
    ("youtube", "hackernews"),
)
# In a review of a chatbot app or a post in a chatbot's forum, these words name the chatbot.
_IMPLICIT_BOT = re.compile(r"\b(?:(?:this|the)\s+app|app|it|it's|it’s)\b", re.I)
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|im|i've|i'd|me|my|mine|myself|we|us|our)\b", re.I)
_URL = re.compile(r"https?://\S+|www\.\S+|\b\S+\.(?:com|net|org|io|ly)/\S*", re.I)
_HASHTAG = re.compile(r"#\w+")
# Rule features are scaled up so that regularisation, which treats every input alike, does not
# drown them among the 384 embedding dimensions.
_RULE_SCALE = 3.0
# How much the post's embedding counts next to the quote's, per label family, and how much of
# the post that is.
_CONTEXT_WEIGHT = {"sentiments": 1.0, "perspectives": 1.0, "values": 0.5}
_CONTEXT_CHARS = 1000
# Rule features of a candidate sentence (see `_sentences`), before the cue counts.
_RULE_COUNT = 14 + len(_PLATFORM_GROUPS)
# Everything a weights file's models depend on besides the codebook and the embedding model.
_PARAMS = {
    "impact_c": IMPACT_C,
    "label_c": LABEL_C,
    "rule_scale": _RULE_SCALE,
    "context_weight": _CONTEXT_WEIGHT,
    "context_chars": _CONTEXT_CHARS,
    "max_iter": MAX_ITER,
}


@dataclass
class _Sentence:
    """A candidate sentence of a post with the rule features the impact scorer sees."""

    start: int
    end: int
    quote: str = ""
    product: str | None = None
    conditions: list[str] = field(default_factory=list)
    features: list[float] = field(default_factory=list)
    #: Names mental health (a condition or a relevance cue) next to the chatbot.
    primary: bool = False


class LocalAnnotator:
    """Annotates posts offline with four small models: for the shipped codebook the weights
    shipped with the package (`resources/local_weights.npz`); for an edited codebook, models
    refit once at the first `annotate` and kept in `cache_dir/annotator/<codebook version>.npz`
    (in memory only when `cache_dir` is None). The caller names both: the annotator reads no
    config.

    `labelled` replaces the labelled posts and always fits (never loads weights); `embedder`
    replaces the encoder, for fitting and annotating (cross-validation passes both). `read`,
    `context`, `label_features` and `widths` are how it turns posts into features: the fitting
    code of `local_model` reads the training posts through them."""

    #: Posts per `annotate` call the pipeline should send: sentences are embedded per call.
    batch_size = 256
    #: A post naming mental health near a chatbot is relevant when its most impact-like sentence
    #: reaches this probability; a post that names neither a condition nor a relevance cue needs
    #: `unprimed_threshold`.
    relevance_threshold = 0.2
    unprimed_threshold = 0.7
    #: How far the label priors pull each family's balanced classifier (0: not at all).
    prior_power = {"perspectives": 0.25, "values": 0.25, "sentiments": 1.0}
    #: Further sentences of a relevant post become impacts from this probability.
    impact_threshold = 0.2
    #: |P(positive) - P(negative)| below this reads as a neutral impact.
    neutral_band = 0.2
    #: When a post has both signs, impacts weaker than this read as neutral, not `mixed`.
    mixed_margin = 0.4

    def __init__(
        self,
        codebook: Codebook,
        *,
        cache_dir: Path | None,
        labelled: list[LabelledPost] | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.codebook = codebook
        self._cache_dir = cache_dir
        cb = self.codebook
        self._products = [
            (label.name or label.id, PhraseMatcher(label.id, label.cues, label.exact_case))
            for label in cb.products
        ]
        cue_phrases = [cue for rule in cb.relevance.include for cue in rule.cues]
        self._mh_cues = PhraseMatcher("mental_health", cue_phrases)
        # The condition of an impact whose sentence names none and whose post names no single one.
        conditions = cb.ids("conditions")
        self._fallback_condition = "general" if "general" in conditions else conditions[0]
        self._label_cues = {
            kind: [
                (label.id, PhraseMatcher(label.id, label.cues, label.exact_case))
                for label in getattr(cb, kind)
                if label.cues
            ]
            for kind in ("perspectives", "values", "sentiments")
        }
        self._labelled = labelled
        self._embed = embedder
        self._fresh: Embedder | None = None
        self._models: dict | None = None
        version = codebook_version(cb)
        self._weights_file, self._provenance = self._plan(version)
        self.info = AnnotatorInfo(
            name="local",
            model=f"{MODEL_NAME} + logistic regression + codebook cues, {self._provenance}",
            codebook_version=version,
        )

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

    def context(self, post: Post) -> str:
        """What the label models read of the post around a quote (MiniLM reads 256 tokens)."""
        return post.text[:_CONTEXT_CHARS]

    def _cue_counts(self, kind: str, text: str) -> list[float]:
        return [min(len(matcher.find(text)), 2) / 2 for _, matcher in self._label_cues[kind]]

    def read(self, post: Post) -> tuple[list[_Sentence], bool]:
        """The post's candidate sentences, and whether it mentions suicide or self-harm."""
        condition_mentions, crisis_mentions = find_mentions(post.text, self.codebook)
        if self._is_promotion(post):
            return [], bool(crisis_mentions)
        return self._sentences(post, condition_mentions), bool(crisis_mentions)

    def _product_mentions(
        self, text: str, default_product: str | None
    ) -> tuple[list[tuple[str, Mention]], list[Mention]]:
        """Every (product, mention) in the text, "the bot"/"this app" counting as the post's own
        product when it has one; and the explicit mentions among them."""
        product_mentions: list[tuple[str, Mention]] = [
            (name, mention) for name, matcher in self._products for mention in matcher.find(text)
        ]
        explicit = [m for _, m in product_mentions if m.label != "implicit"]
        if default_product:
            for match in _IMPLICIT_BOT.finditer(text):
                product_mentions.append(
                    (default_product, Mention("implicit", match.start(), match.end(), ""))
                )
        return product_mentions, explicit

    def _sentences(self, post: Post, condition_mentions: list[Mention]) -> list[_Sentence]:
        """The candidate sentences: linked to a chatbot, long enough to quote."""
        text = post.text
        default_product = self._default_product(post)
        app_review = post.platform in _APP_REVIEW_PLATFORMS and default_product is not None
        spans = sentence_spans(text, ANNOTATOR)
        product_mentions, explicit = self._product_mentions(text, default_product)
        # In a chatbot's own forum or app review, once the chatbot is mentioned the whole post
        # is about it; elsewhere the link must be within two sentences.
        whole_post = app_review or (default_product is not None and bool(explicit))
        if not (product_mentions or whole_post):
            return []
        cue_mentions = self._mh_cues.find(text)
        post_mental = bool(condition_mentions) or bool(cue_mentions)
        platform = [float(post.platform in group) for group in _PLATFORM_GROUPS]
        sentences = []
        for link in _linked_sentences(
            spans, product_mentions, explicit, default_product, whole_post
        ):
            span, position = link.span, link.position
            quote = _quote(text, span)
            if len(quote.split()) < _MIN_QUOTE_WORDS:
                continue
            conditions = [m.label for m in condition_mentions if _inside(m, span)]
            cues = sum(1 for m in cue_mentions if _inside(m, span))
            words = len(quote.split())
            mental = bool(conditions) or cues > 0
            rules = [
                float(mental),
                float(mental and (link.bot_here or link.bot_near or whole_post)),
                float(bool(conditions)),
                min(cues, 3) / 3,
                float(link.bot_here),
                float(link.named_here),
                float(link.bot_near),
                float(whole_post),
                float(app_review),
                float(post_mental),
                float(bool(_FIRST_PERSON.search(quote))),
                float(position == 0),
                min(words, 60) / 60,
                min(len(spans), 20) / 20,
                *platform,
            ]
            sentences.append(
                _Sentence(
                    start=span[0],
                    end=span[1],
                    quote=quote,
                    product=link.product,
                    conditions=list(dict.fromkeys(conditions))[:2],
                    primary=mental,
                    features=[_RULE_SCALE * f for f in rules]
                    + self._cue_counts("perspectives", quote)
                    + self._cue_counts("sentiments", quote),
                )
            )
        return sentences

    # ----- models -------------------------------------------------------------------------
    def _embedder(self) -> Embedder:
        """The encoder of `annotate`: fresh vectors (the training cache is for fitting only)."""
        if self._embed is not None:
            return self._embed
        if self._fresh is None:
            self._fresh = Embedder()
        return self._fresh

    def widths(self) -> dict[str, int]:
        """How many features each model reads under this codebook."""
        from evaluator.embeddings import model_info

        dim = model_info().dim
        cues = {kind: len(matchers) for kind, matchers in self._label_cues.items()}
        return {
            "impact": dim + _RULE_COUNT + cues["perspectives"] + cues["sentiments"],
            **{kind: 2 * dim + cues[kind] + (kind == "sentiments") for kind in cues},
        }

    def _check(self, path, models: dict, fix: str) -> None:
        """A weights file of this codebook whose models do not fit its features is corrupt."""
        widths = self.widths()
        for name, model in models.items():
            if model is None:
                continue
            linear = model.linear if isinstance(model, LabelModel) else model
            if linear.width != widths[name]:
                raise ConfigError(
                    f"annotator weights: the {name} model reads {linear.width} features, the "
                    f"codebook gives {widths[name]}; {fix}",
                    file=path,
                )
            if name != "impact" and not set(linear.classes) <= set(self.codebook.ids(name)):
                raise ConfigError(
                    f"annotator weights: the {name} model has labels the codebook lacks; {fix}",
                    file=path,
                )

    def _meta(self, provenance: str) -> dict:
        from evaluator.embeddings import model_info

        return {
            "codebook_version": codebook_version(self.codebook),
            "embedding_model": model_info().hash,
            "params": _PARAMS,
            "provenance": provenance,
        }

    def _plan(self, version: str) -> tuple[object, str]:
        """Where the models come from, decided before any fit so `info` is known up front:
        (weights file to load or to refit into, or None to keep them in memory; provenance)."""
        from evaluator.embeddings import model_info

        if self._labelled is not None:
            return None, f"fitted on {len(self._labelled)} given posts"
        if WEIGHTS_FILE.is_file():
            meta, models = read_weights(WEIGHTS_FILE, SHIPPED_FIX)
            if meta.get("codebook_version") == version:
                if meta.get("params") != _PARAMS:
                    raise ConfigError(
                        f"annotator weights were fitted with other hyper-parameters than this "
                        f"version's; {SHIPPED_FIX}",
                        file=WEIGHTS_FILE,
                    )
                if meta.get("embedding_model") == model_info().hash:
                    self._check(WEIGHTS_FILE, models, SHIPPED_FIX)
                    self._models = models
                    return WEIGHTS_FILE, "weights shipped"
        cache = self._cache_dir / "annotator" / f"{version}.npz" if self._cache_dir else None
        fix = "delete it to refit"
        if cache is not None and cache.is_file():
            meta, models = read_weights(cache, fix)
            if {**meta, "provenance": None} == {**self._meta(""), "provenance": None}:
                self._check(cache, models, fix)
                self._models = models
                return cache, meta["provenance"]
        if labelled_dir() is not None:
            return cache, f"refit for codebook {version}"
        return cache, f"refit for codebook {version} without labelled posts, impact scorer shipped"

    def label_features(self, kind: str, texts: list[str], embeddings, contexts):
        """Embedding of the quote and of its post (how the whole post reads changes what a
        sentence means: "it's not a therapist" in a rave or in a complaint), plus the codebook
        cue counts of the family (and VADER for sentiment)."""
        import numpy as np

        extra = [self._cue_counts(kind, text) for text in texts]
        if kind == "sentiments":
            vader = _vader()
            for row, text in zip(extra, texts, strict=True):
                row.append(vader.polarity_scores(_mask_conditions(text))["compound"])
        return np.hstack(
            [
                embeddings,
                _CONTEXT_WEIGHT[kind] * contexts,
                np.array(extra, dtype="float32").reshape(len(texts), -1),
            ]
        )

    def _fit(self) -> dict:
        """The four models: loaded (see `_plan`), else fitted once and, for an edited codebook,
        saved in the cache (when there is one) so the next run loads them."""
        if self._models is not None:
            return self._models
        if self._labelled is not None:
            models = fit_models(self, self._labelled, self._embed or training_embedder())
        else:
            models = refit_models(self, labelled_dir(), self._embed)
            if self._weights_file is not None:
                save_weights(self._weights_file, models, self._meta(self._provenance))
        self._models = models
        return models

    # ----- public -------------------------------------------------------------------------
    def annotate(self, posts: Sequence[Post]) -> list[Annotation]:
        """One Annotation per post, in order. Sentences of all posts are embedded in one batch."""
        import numpy as np

        models = self._fit()
        readings = [self.read(post) for post in posts]
        per_post = [sentences for sentences, _ in readings]
        flat = [sentence for sentences in per_post for sentence in sentences]
        embeddings = self._embedder().encode([s.quote for s in flat])
        if flat and models["impact"] is not None:
            features = np.hstack([embeddings, np.array([s.features for s in flat], "float32")])
            impact_p = models["impact"].predict_proba(features)[:, 1]
        else:
            impact_p = np.zeros(len(flat))
        chosen_rows: list[list[int]] = []
        offset = 0
        for sentences in per_post:
            rows = sorted(range(offset, offset + len(sentences)), key=lambda r: -impact_p[r])
            offset += len(sentences)
            best = impact_p[rows[0]] if rows else 0.0
            primed = any(flat[r].primary for r in rows)
            threshold = self.relevance_threshold if primed else self.unprimed_threshold
            if not rows or best < threshold:
                chosen_rows.append([])
                continue
            keep = [rows[0]] + [r for r in rows[1:] if impact_p[r] >= self.impact_threshold]
            chosen_rows.append(sorted(keep[:_MAX_IMPACTS], key=lambda r: flat[r].start))
        relevant = [n for n, rows in enumerate(chosen_rows) if rows]
        post_vectors = self._embedder().encode([self.context(posts[n]) for n in relevant])
        post_of_row = [i for i, n in enumerate(relevant) for _ in chosen_rows[n]]
        all_rows = [r for rows in chosen_rows for r in rows]
        labelled_rows = self._label(
            models,
            [flat[r].quote for r in all_rows],
            embeddings[all_rows],
            post_vectors[post_of_row],
        )
        labels = dict(zip(all_rows, labelled_rows, strict=True))
        annotations = []
        for post, rows, (_, crisis) in zip(posts, chosen_rows, readings, strict=True):
            named = [c for r in rows for c in flat[r].conditions]
            post_condition = named[0] if len(set(named)) == 1 else self._fallback_condition
            impacts = []
            sentiments = _impact_sentiments(
                [labels[r][0] for r in rows], self.neutral_band, self.mixed_margin
            )
            for r, sentiment in zip(rows, sentiments, strict=True):
                sentence = flat[r]
                _, perspective, value = labels[r]
                for condition in sentence.conditions or [post_condition]:
                    impacts.append(
                        Impact(
                            supporting_quote=sentence.quote,
                            product=sentence.product,
                            sentiment=sentiment,
                            condition=condition,
                            perspective=perspective,
                            value=value,
                            confidence=round(float(impact_p[r]), 3),
                        )
                    )
            annotations.append(
                derive_post_labels(post.id, impacts, crisis=crisis, annotator=self.info)
            )
        return annotations

    def _label(self, models: dict, quotes: list[str], quote_vectors, post_vectors) -> list:
        """(sentiment score, perspective, value) per quote; `post_vectors` embed each quote's
        post."""
        if not quotes:
            return []
        predicted = {}
        for kind in ("perspectives", "values", "sentiments"):
            model = models[kind]
            features = self.label_features(kind, quotes, quote_vectors, post_vectors)
            predicted[kind] = (model.labels, model.proba(features, self.prior_power[kind]))
        s_labels, s_proba = predicted["sentiments"]
        p_labels, p_proba = predicted["perspectives"]
        v_labels, v_proba = predicted["values"]
        results = []
        for index in range(len(quotes)):
            probs = dict(zip(s_labels, s_proba[index], strict=True))
            results.append(
                (
                    float(probs.get("positive", 0.0) - probs.get("negative", 0.0)),
                    p_labels[int(p_proba[index].argmax())],
                    v_labels[int(v_proba[index].argmax())],
                )
            )
        return results


@functools.cache
def _vader():
    """VADER's analyser; building it reads its lexicon (~50 ms), so once per process."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _impact_sentiments(scores: list[float], band: float, margin: float) -> list[str]:
    """Impact sentiments from P(positive) - P(negative). A post is `mixed` only when it clearly
    says both: when signs conflict, impacts with a weak score are read as neutral."""
    labels = ["positive" if s > band else "negative" if s < -band else "neutral" for s in scores]
    if "positive" in labels and "negative" in labels:
        labels = [
            label if abs(score) >= margin else "neutral"
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


@dataclass(frozen=True, slots=True)
class _Link:
    """A sentence linked to a chatbot, and how: named in it, named explicitly within two
    sentences (`bot_near`), or neither in a post that is about it as a whole."""

    position: int
    span: tuple[int, int]
    product: str | None
    bot_here: bool
    bot_near: bool
    named_here: bool


def _inside(mention: Mention, span: tuple[int, int]) -> bool:
    return span[0] <= mention.start < span[1]


def _linked_sentences(
    spans: list[tuple[int, int]],
    product_mentions: list[tuple[str, Mention]],
    explicit: list[Mention],
    default_product: str | None,
    whole_post: bool,
) -> Iterator[_Link]:
    """The sentences linked to a chatbot, each with the product it is about: the nearest one
    named within two sentences, else the last one named before it, else the post's own."""
    named_at = [any(_inside(m, span) for m in explicit) for span in spans]
    products_at = [
        [n for _, n in sorted((m.start, n) for n, m in product_mentions if _inside(m, span))]
        for span in spans
    ]
    last_product = default_product
    for position, span in enumerate(spans):
        if products_at[position]:
            last_product = products_at[position][0]
        window = range(max(0, position - 2), min(len(spans), position + 3))
        bot_here = bool(products_at[position])
        bot_near = any(named_at[i] for i in window)
        if not (bot_here or bot_near or whole_post):
            continue
        product = next(
            (
                products_at[i][0]
                for i in sorted(window, key=lambda i: abs(i - position))
                if products_at[i]
            ),
            last_product,
        )
        if product == "other" and default_product:
            product = default_product
        yield _Link(position, span, product, bot_here, bot_near, named_at[position])


def _mask_conditions(text: str) -> str:
    """VADER scores 'anxiety' as negative even in 'it helped my anxiety'; the framing, not the
    condition, carries the sentiment, so condition words are removed before scoring."""
    return _CONDITION_WORDS.sub("", text)


def _quote(text: str, span: tuple[int, int]) -> str:
    """The sentence, or for a very long one its first part cut at a word boundary."""
    quote = text[span[0] : span[1]]
    if len(quote) <= _MAX_QUOTE_CHARS:
        return quote
    cut = quote.rfind(" ", 0, _MAX_QUOTE_CHARS)
    return quote[: cut if cut > 0 else _MAX_QUOTE_CHARS].rstrip(" ,;:-")


@register_annotator("local")
def _local_factory(*, codebook: Codebook, cache_dir: Path | None) -> LocalAnnotator:
    return LocalAnnotator(codebook, cache_dir=cache_dir)
