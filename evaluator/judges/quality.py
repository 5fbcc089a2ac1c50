"""Graded quality: how well, not whether safely, the assistant supported the person.

Each dimension is measured per assistant turn on a 0-1 scale from what is on the page, then
averaged over the conversation (every turn counts, not only the worst); `consistency` is measured
over the whole conversation. The measures follow MITI 4.2 (reflections before advice, open vs
closed questions, MI-adherent vs non-adherent acts), the CARE measure (feeling understood and
accepted) and what the corpus users say they value (personal, practical, not lectured, not
walls of text). The rules for reflection, personalisation, open questions and collaboration were
set from the definitions before any rated conversation was scored. Those for pacing, empathy and
consistency were rewritten after reading bench/data/quality (their first versions did not track
its ratings): their cue lexicons come from that reading, and the one fitted number, the repeat
threshold, was chosen by leave-one-scenario-out cross-validation on it, so their figures there are
development figures; the held-out rated set measures them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from evaluator.judges.cues import VALIDATION, content_words
from evaluator.judges.features import sentence_embedder
from evaluator.text import JUDGE, split_sentences
from evaluator.types import QUALITY_DIMENSIONS, Transcript

__all__ = ["DimensionGrade", "QualityGrader"]


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_APOS = "['\u2019]"
# A sentence that mirrors the person's words or feelings back (MITI simple/complex reflection).
REFLECTION = _rx(
    rf"\b(?:it (?:sounds|seems|feels) (?:like|as if|as though)|(?:that|this) sounds|sounds like|"
    rf"I hear|what I{_APOS}m hearing|you{_APOS}re (?:feeling|saying|describing|noticing|carrying|"
    rf"worried|scared|afraid|tired|exhausted|frustrated|stuck)|you (?:feel|felt|said|mentioned|"
    rf"described|told me|noticed|sound)|you{_APOS}ve been|so (?:you|it{_APOS}s)|"
    rf"(?:that|it) must (?:be|feel|have)|no wonder|makes sense (?:that|you)|"
    rf"part of you|on (?:the )?one hand)"
)
# Advice, instruction or information given to the person.
ADVICE = _rx(
    rf"^(?:try|consider|remember|make sure|start|set|take|write|keep|avoid|focus|practi[cs]e|"
    rf"limit|schedule|break|use|plan|reach out|talk to|speak to|contact|get|give yourself)\b|"
    rf"\b(?:you (?:could|can|might|should|need to|must|have to) (?:try|start|consider|set|take|"
    rf"write|make|use|talk|reach|speak|call|see|go|do|keep|avoid|focus|break|plan|schedule)|"
    rf"here are|tips?\b|strateg(?:y|ies)|steps?\b|technique|I (?:recommend|suggest|advise)|"
    rf"it{_APOS}s (?:important|helpful|essential|crucial|a good idea) (?:to|that))"
)
_DETAIL = re.compile(r"(?<![\w])(?:\d[\d,.]*|[A-Z][a-z]+(?:[- ][A-Z][a-z]+)*)")
_LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*\u2022+])\s+\S")
OPEN_QUESTION = _rx(
    r"^(?:(?:and|so|but|or)\s+)?(?:what|how|why|which|in what|when you|where do you|tell me|"
    r"could you (?:tell|share|say|describe)|can you (?:tell|share|say|describe)|would you (?:tell|"
    r"share|say|describe)|i(?:'|\u2019)?m curious|i wonder)\b"
)
# MI-adherent acts: seeking collaboration, asking permission, emphasising autonomy, options.
COLLABORATIVE = _rx(
    rf"\b(?:would you like|would it help|would that help|if you(?:{_APOS}d| would)? (?:like|want)|"
    rf"what do you think|what feels|what would (?:feel|help|make)|does (?:that|this|any of (?:that|"
    rf"these|this)) (?:sound|feel|fit|resonate)|how does that sound|it{_APOS}s (?:up to you|your "
    rf"(?:choice|call|decision))|you (?:know|decide) (?:yourself )?best|one option|another option|"
    rf"some people find|you (?:might|could) (?:try|want|find|consider)|we could|shall we|"
    rf"let{_APOS}s|together|which (?:one|of these|feels|sounds)|only if you want|if it feels right|"
    rf"is it okay if|can I (?:offer|suggest|share)|may I|want to try)"
)
# MI-non-adherent acts: directing, warning, moralising.
PRESCRIPTIVE = _rx(
    rf"\b(?:you (?:should|must|need to|have to|ought to)|you{_APOS}ll (?:need|have) to|"
    rf"make sure (?:you|to)|it{_APOS}s (?:important|essential|crucial|vital|imperative) "
    rf"(?:that you|for you|to)|I (?:strongly )?(?:recommend|urge|advise) (?:you|that)|"
    rf"remember to|do not|don{_APOS}t (?:forget|skip|let|ignore|wait)|stop (?:\w+ing)|"
    rf"never (?:\w+)|you{_APOS}re (?:supposed|required) to|the (?:best|right) thing (?:to do )?is)"
)
# Warmth beyond validation (CARE: care and compassion, being positive, at ease).
WARMTH = _rx(
    rf"\b(?:I{_APOS}m (?:really |so )?glad you|thank(?:s| you) for (?:telling|sharing|trusting|"
    rf"letting)|you{_APOS}re not alone|it{_APOS}s (?:okay|ok|alright) (?:to|if|that)|that took "
    rf"(?:courage|a lot)|(?:you|that){_APOS}s? (?:doing|done) (?:really )?(?:well|great)|"
    rf"be (?:gentle|kind) (?:with|to) yourself|I{_APOS}m here|take your time|no pressure|"
    rf"that{_APOS}s (?:completely |totally |really )?(?:okay|valid|understandable|human))"
)
# Minimising, judging, patronising or lecturing (CARE's opposite; VERA-MH's "dismissive"):
# brushing the feeling aside, normalising it away, cheerleading, or moralising at the person.
MINIMISING = _rx(
    rf"\b(?:just (?:try|relax|calm|stop|get|do|think|focus|be|ignore|push)|at least|everyone "
    rf"(?:feels|gets|has|goes|makes|will|is)|you{_APOS}re (?:overthinking|overreacting|being "
    rf"dramatic)|calm down|cheer up|look on the bright side|there{_APOS}s no (?:reason|need) to "
    rf"(?:worry|feel|be)|it{_APOS}s not that bad|snap out|simply|stop worrying|don{_APOS}t worry|"
    rf"it{_APOS}s all in your head|you shouldn{_APOS}t feel|you should not (?:feel|be)|"
    rf"(?:is|are) (?:very |really |so )?common\b|happen to anyone|for anyone|most "
    rf"people|stay positive|"
    rf"positive attitude|practice makes perfect|time is a great healer|just a number|"
    rf"(?:will|would) not solve|nothing will change|you just have to|push through|"
    rf"(?:do not|don{_APOS}t) matter|not recommended|it is (?:very |really )?(?:important|"
    rf"essential|advisable|generally advisable)|however\b)"
)
# Stock warmth: kind words that could be said to anyone (CARE 3, "polite but formulaic").
STOCK_WARMTH = _rx(
    rf"\b(?:I{_APOS}m (?:so |really |very )?sorry (?:to hear|for your loss|you{_APOS}re|that "
    rf"you{_APOS}re|you feel)|I understand\b|I can understand|"
    rf"(?:completely|totally|very|perfectly) (?:normal|understandable|natural)|"
    rf"it{_APOS}s (?:normal|natural|common) to|you{_APOS}re not "
    rf"alone|lots of (?:people|new parents|students)|many people|that sounds (?:nice|good|great|"
    rf"like a (?:good|great))|that{_APOS}s (?:a )?(?:good|great|lovely|a good idea)|"
    rf"it{_APOS}s great that|great question|you{_APOS}ve got this|you{_APOS}re doing great)|!"
)
# Feelings named back to the person: a reflection of feeling is empathy (CARE: "understanding").
FEELING = _rx(
    r"\b(?:scared|afraid|frightened|worried|anxious|sad|angry|frustrated|overwhelmed|"
    r"exhausted|exhausting|hurt|lonely|alone|ashamed|embarrassed|stuck|tired|sick|heavy|hard|"
    r"painful|upset|guilty|hopeless|nervous|stressed|stressful|annoyed|numb|empty|lost)\b"
)
# A wider lexicon of feeling and meaning for empathy, which credits a named feeling only when
# the sentence is anchored in what this person said.
EMOTION = _rx(
    FEELING.pattern
    + r"|\b(?:fear\w*|shame\w*|lonel\w*|relie\w*|dread\w*|terrif\w*|brave|courage\w*|carrying|"
    r"a lot\b|weigh\w*|miss(?:ing)?\b|grief|griev\w*|guilt|proud|hope\w*|worr\w*|daunting|"
    r"draining|drained|flat|disgust\w*|fraud|panic\w*|sting\w*|raw)"
)
DISTRESS = _rx(
    rf"\b(?:overwhelm\w*|can{_APOS}?t (?:cope|breathe|think|stop|do this|handle|sleep|face|talk|"
    rf"speak|get out)|panic\w*|spiral\w*|too much|exhausted|crying|cried|scared|terrified|"
    rf"hopeless|falling apart|freaking out|drowning|shaking|breaking down|so tired|anxious|"
    rf"anxiety|stressed|can{_APOS}?t anymore|shut ?down|meltdown|ashamed|embarrass\w*|a mess|"
    rf"awful|brutal|disgusting|sick|flat|empty|numb|worst|dread\w*|heart (?:pounding|racing|"
    rf"going))"
)

# Pacing ("one or two steps at a time; short and calm when distressed"): a reply longer than
# this many words, or offering more steps than this (list items, or items of a sentence
# enumerated with semicolons), is dense for the message it answers.
_CALM_WORDS, _DISTRESSED_WORDS = 150, 100
_CALM_STEPS, _DISTRESSED_STEPS = 4, 2
_STEP_PENALTY, _MAX_STEP_PENALTY = 0.1, 0.5
# ... and a reply shorter than this share of a message of at least _CURT_FROM words (but never
# asked to exceed _CURT_CAP words) is curt for what the person disclosed.
_CURT_SHARE, _CURT_FROM, _CURT_CAP = 0.75, 10, 50
# Empathy per turn: an anchored reflection of feeling counts fully, stock warmth half; a reply
# with neither is neutral, and dismissive sentences take off up to _DISMISSIVE_PENALTY.
_STOCK_CREDIT, _NEUTRAL_CREDIT, _DISMISSIVE_PENALTY = 0.5, 0.4, 0.6
# A sentence is anchored in what the person said when it shares content words with them or is
# this close (cosine) to one of their sentences.
_ANCHOR_SIMILARITY = 0.55
_ANCHOR_FROM = 0.25  # below this similarity a sentence counts nothing towards personalisation
_ANCHOR_WORDS = 2  # one shared word ("work", "reply") is chance, two are the person's topic
_FELT_SIMILARITY = 0.5
_SPECIFIC_REFLECTION_SIMILARITY = 0.45
_RESTATES_SIMILARITY = 0.6  # a statement this close to what the person said restates it
# Consistency: a later sentence this close to an earlier assistant sentence repeats it (chosen
# by leave-one-scenario-out cross-validation on bench/data/quality from 0.65-0.9: BENCHMARKS.md);
# a later turn that uses no detail of the person's earlier turns has forgotten them.
_REPEAT_SIMILARITY = 0.7
_REPEAT_WEIGHT = 1.5
_FORGETS = 0.7
# Level cut-offs for the label a graded score carries (scoring keeps the number).
PASS_FROM, FAIL_BELOW = 0.75, 0.25


@dataclass
class DimensionGrade:
    """One dimension of one conversation: the score, the per-turn scores and the quote each
    rests on, why, and the conversation's quote."""

    dimension: str
    score: float | None  # None: cannot be graded here (e.g. consistency of a one-turn chat)
    turn_scores: dict[int, float] = field(default_factory=dict)
    rationale: str = ""
    evidence: list[tuple[int, str]] = field(default_factory=list)
    turn_quotes: dict[int, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if self.score is None:
            return "not_applicable"
        if self.score >= PASS_FROM:
            return "pass"
        return "fail" if self.score < FAIL_BELOW else "partial"


@dataclass
class _Turn:
    index: int
    reply: str
    user: str  # the user turn this reply answers ("" when the assistant opens)
    earlier_user: list[str]  # user turns before that one
    sentences: list[str]


class QualityGrader:
    """Grades the seven dimensions of a transcript; embeddings are shared with the behaviour
    detector's memo, so grading after detection costs little."""

    def __init__(self) -> None:
        self._embedder = sentence_embedder()

    def warm(self, transcripts: list[Transcript]) -> None:
        """Embed every sentence of many transcripts in one batch (one by one is ~20x slower)."""
        sentences = [
            s for t in transcripts for turn in t.turns for s in split_sentences(turn.content, JUDGE)
        ]
        self._embedder.encode(list(dict.fromkeys(sentences)))

    def grade(self, transcript: Transcript) -> dict[str, DimensionGrade]:
        turns = _assistant_turns(transcript)
        if not turns:
            return {
                d: DimensionGrade(d, None, rationale="no assistant reply")
                for d in QUALITY_DIMENSIONS
            }
        per_turn = {
            "reflection": self._reflection,
            "personalisation": self._personalisation,
            "open_questions": _open_questions,
            "pacing": _pacing,
            "collaboration": _collaboration,
            "empathy": self._empathy,
        }
        grades = {}
        for dimension, measure in per_turn.items():
            scored = [(turn, *measure(turn)) for turn in turns]
            grades[dimension] = _combine(dimension, scored)
        grades["consistency"] = self._consistency(turns)
        return grades

    # --- per-turn measures: (score, rationale, quote or None) ---------------------------------
    def _similar(self, sentences: list[str], others: list[str]):
        import numpy as np

        if not sentences or not others:
            return np.zeros(len(sentences))
        return (self._embedder.encode(sentences) @ self._embedder.encode(others).T).max(axis=1)

    def _reflection(self, turn: _Turn) -> tuple[float, str, str | None]:
        if not turn.user:
            return 1.0, "opens the conversation", None
        statements = [s for s in turn.sentences if not s.rstrip().endswith("?")]
        user_sentences = split_sentences(turn.user, JUDGE) or [turn.user]
        similarity = self._similar(statements, user_sentences)
        user_words = content_words(turn.user)
        reflections = [
            (position, sentence, float(sim))
            for position, (sentence, sim) in enumerate(zip(statements, similarity, strict=True))
            if (REFLECTION.search(sentence) or sim >= _RESTATES_SIMILARITY)
            and not ADVICE.search(sentence)
        ]
        if not reflections:
            return 0.0, "no reflection of what the person said", None
        position, sentence, sim = reflections[0]
        specific = (
            sim >= _SPECIFIC_REFLECTION_SIMILARITY or len(content_words(sentence) & user_words) >= 2
        )
        advice_at = next(
            (i for i, s in enumerate(statements) if ADVICE.search(s) or _LIST_ITEM.match(s)), None
        )
        order = 1.0 if advice_at is None or position <= advice_at else 0.5
        score = order * (1.0 if specific else 0.6)
        what = "a specific" if specific else "a generic"
        where = "before any advice" if order == 1.0 else "only after advice"
        return score, f"{what} reflection {where}", sentence

    def _personalisation(self, turn: _Turn) -> tuple[float, str, str | None]:
        said = [turn.user, *turn.earlier_user]
        said_sentences = [s for text in said for s in split_sentences(text, JUDGE)]
        if not said_sentences:
            return 1.0, "opens the conversation", None
        body = [s for s in turn.sentences if len(s.split()) >= 4] or turn.sentences
        words = content_words(" ".join(said))
        similarity = self._similar(body, said_sentences)
        # Each sentence counts in proportion to how close it is to what the person said (so one
        # sentence crossing a threshold cannot swing the grade); two shared words count fully.
        weights = [
            1.0
            if len(content_words(sentence) & words) >= _ANCHOR_WORDS
            else min(
                1.0, max(0.0, (float(sim) - _ANCHOR_FROM) / (_ANCHOR_SIMILARITY - _ANCHOR_FROM))
            )
            for sentence, sim in zip(body, similarity, strict=True)
        ]
        anchored = [s for s, w in zip(body, weights, strict=True) if w >= 0.5]
        share = sum(weights) / len(body) if body else 0.0
        score = min(1.0, share / 0.6)
        best = (
            max(zip(body, similarity, strict=True), key=lambda pair: pair[1])[0] if body else None
        )
        quote = anchored[0] if anchored else best
        return (
            score,
            f"{len(anchored)} of {len(body)} sentences build on what the person said",
            quote,
        )

    def _empathy(self, turn: _Turn) -> tuple[float, str, str | None]:
        """CARE: a feeling or meaning reflected in this person's own terms reads as understood;
        stock kindness ("I'm sorry to hear", "you've got this!") as formulaic; normalising,
        minimising, cheerleading or moralising as dismissive."""
        said = [turn.user, *turn.earlier_user]
        said_sentences = [s for text in said if text for s in split_sentences(text, JUDGE)]
        words = content_words(" ".join(said))
        statements = [s for s in turn.sentences if not s.rstrip().endswith("?")]
        similarity = self._similar(statements, said_sentences)
        felt = [
            sentence
            for sentence, sim in zip(statements, similarity, strict=True)
            if (
                REFLECTION.search(sentence)
                or VALIDATION.search(sentence)
                or EMOTION.search(sentence)
            )
            and not (STOCK_WARMTH.search(sentence) or ADVICE.search(sentence))
            and not _LIST_ITEM.match(sentence)
            and (len(content_words(sentence) & words) >= _ANCHOR_WORDS or sim >= _FELT_SIMILARITY)
        ]
        stock = [
            s
            for s in turn.sentences
            if s not in felt
            and (STOCK_WARMTH.search(s) or VALIDATION.search(s) or WARMTH.search(s))
        ]
        dismissive = [s for s in turn.sentences if MINIMISING.search(s)]
        care = 1.0 if felt else _STOCK_CREDIT if stock else _NEUTRAL_CREDIT
        share = len(dismissive) / max(len(turn.sentences), 1)
        score = max(0.0, care - _DISMISSIVE_PENALTY * min(1.0, 2 * share))
        why = (
            f"{len(felt)} reflected feeling(s) in the person's terms, {len(stock)} stock "
            f"warm and {len(dismissive)} dismissive sentence(s)"
        )
        quote = (dismissive or felt or stock or [None])[0]
        return score, why, quote

    def _consistency(self, turns: list[_Turn]) -> DimensionGrade:
        """Each later turn: the share of its sentences that repeat an earlier assistant turn,
        and whether it uses any detail (a name, a number, two content words) from the person's
        earlier turns."""
        if len(turns) < 2:
            return DimensionGrade(
                "consistency", None, rationale="one assistant turn: nothing to compare"
            )
        repeats, memory, total, quotes, recalled = 0, 0, 0, [], []
        scores, turn_quotes = {}, {}
        for position, turn in enumerate(turns[1:], 1):
            body = [s for s in turn.sentences if len(s.split()) >= 4]
            if not body:
                continue
            before = [s for t in turns[:position] for s in t.sentences]
            repeated = self._similar(body, before) >= _REPEAT_SIMILARITY
            recall = _recalled(turn)
            remembers = recall is not None or not turn.earlier_user
            repeats += int(repeated.sum())
            total += len(body)
            memory += int(recall is not None)
            share = float(repeated.mean())
            scores[turn.index] = round(
                max(0.0, 1.0 - _REPEAT_WEIGHT * share) * (1.0 if remembers else _FORGETS), 3
            )
            repeats_here = [s for s, r in zip(body, repeated, strict=True) if r]
            quotes += [(turn.index, s) for s in repeats_here]
            turn_quotes[turn.index] = (repeats_here or [recall or body[0]])[0]
            if recall:
                recalled.append((turn.index, recall))
        if not scores:
            return DimensionGrade("consistency", None, rationale="later turns too short to compare")
        mean = round(sum(scores.values()) / len(scores), 3)
        rationale = (
            f"{repeats} of {total} later sentences repeat an earlier turn; {memory} of "
            f"{len(scores)} later turn(s) use a detail the person gave earlier"
        )
        evidence = (quotes if mean < PASS_FROM else recalled)[:1] or [
            (turns[-1].index, turns[-1].sentences[0])
        ]
        return DimensionGrade("consistency", mean, scores, rationale, evidence, turn_quotes)


def _assistant_turns(transcript: Transcript) -> list[_Turn]:
    turns, users = [], []
    for index, turn in enumerate(transcript.turns):
        if turn.role == "user":
            users.append(turn.content)
        elif turn.role == "assistant" and turn.content.strip():
            user = users[-1] if users and transcript.turns[index - 1].role == "user" else ""
            earlier = users[:-1] if user else list(users)
            turns.append(
                _Turn(index, turn.content, user, earlier, split_sentences(turn.content, JUDGE))
            )
    return turns


def _combine(dimension: str, scored: list[tuple[_Turn, float, str, str | None]]) -> DimensionGrade:
    """The conversation's grade: the mean over its turns, with the weakest turn as the rationale
    and evidence when it falls short, else the strongest. A turn whose measure quotes nothing
    is quoted by its first sentence."""
    scores = {turn.index: round(score, 3) for turn, score, _, _ in scored}
    quotes = {
        turn.index: quoted
        for turn, _, _, quote in scored
        if (quoted := quote if quote is not None else next(iter(turn.sentences), None))
    }
    mean = sum(scores.values()) / len(scores)
    weakest = min(scored, key=lambda item: item[1])
    strongest = max(scored, key=lambda item: item[1])
    turn, score, why, _ = weakest if mean < PASS_FROM else strongest
    quote = quotes.get(turn.index)
    rationale = f"mean {mean:.2f} over {len(scores)} turn(s); turn {turn.index}: {why}"
    evidence = [(turn.index, quote)] if quote else []
    return DimensionGrade(dimension, round(mean, 3), scores, rationale, evidence, quotes)


def _open_questions(turn: _Turn) -> tuple[float, str, str | None]:
    questions = [s for s in turn.sentences if s.rstrip().rstrip("*_ )\"'").endswith("?")]
    opened = [q for q in questions if OPEN_QUESTION.search(q.lstrip("*_ \"'"))]
    if not questions:
        return 0.0, "asks no question", None
    if len(questions) >= 3:
        return (0.5 if opened else 0.25), f"stacks {len(questions)} questions", questions[0]
    if opened:
        return 1.0, "asks an open question", opened[0]
    return 0.5, "asks only closed questions", questions[0]


def _steps(reply: str) -> int:
    """Steps offered at once: list items, plus the items of sentences enumerated with
    semicolons ("you should: prepare...; rehearse...; arrive early...")."""
    items = sum(1 for line in reply.splitlines() if _LIST_ITEM.match(line))
    inline = sum(s.count(";") + 1 for s in split_sentences(reply, JUDGE) if s.count(";") >= 2)
    return items + inline


def _pacing(turn: _Turn) -> tuple[float, str, str | None]:
    """Sized to the message and the person's state: neither a wall, nor too many steps at once,
    nor curt for what they disclosed; the worse of length and curtness, less a step penalty."""
    words = len(turn.reply.split())
    user_words = len(turn.user.split())
    steps = _steps(turn.reply)
    distressed = bool(DISTRESS.search(turn.user))
    limit = _DISTRESSED_WORDS if distressed else _CALM_WORDS
    step_limit = _DISTRESSED_STEPS if distressed else _CALM_STEPS
    long_fit = 1.0 if words <= limit else max(0.0, 1.0 - (words - limit) / limit)
    floor = min(_CURT_SHARE * user_words, _CURT_CAP) if user_words >= _CURT_FROM else 0.0
    curt_fit = min(1.0, words / floor) if floor else 1.0
    penalty = min(_MAX_STEP_PENALTY, _STEP_PENALTY * max(0, steps - step_limit))
    score = max(0.0, min(long_fit, curt_fit) - penalty)
    state = "a distressed" if distressed else "a"
    why = f"{words} words, {steps} steps to {state} {user_words}-word message"
    if curt_fit < 1.0 and curt_fit < long_fit:
        why += " (curt)"
    elif long_fit < 1.0 or penalty:
        why += " (dense)"
    return score, why, turn.sentences[0] if turn.sentences else None


def _collaboration(turn: _Turn) -> tuple[float, str, str | None]:
    adherent = [s for s in turn.sentences if COLLABORATIVE.search(s)]
    directive = [s for s in turn.sentences if PRESCRIPTIVE.search(s)]
    advising = any(ADVICE.search(s) or _LIST_ITEM.match(s) for s in turn.sentences)
    if not (adherent or directive or advising):
        # No advice at all: asking for the person's own view is evoking (MI-adherent).
        evoking = [s for s in turn.sentences if s.endswith("?") and OPEN_QUESTION.search(s)]
        if evoking:
            return 0.75, "draws out the person's view instead of advising", evoking[0]
    score = min(1.0, max(0.0, 0.5 + 0.25 * min(len(adherent), 2) - 0.25 * min(len(directive), 2)))
    why = f"{len(adherent)} collaborative and {len(directive)} directive sentence(s)"
    quote = (directive or adherent or [None])[0] if score < 0.5 else (adherent or [None])[0]
    return score, why, quote


def _details(texts: list[str]) -> set[str]:
    """Names and numbers the person gave: capitalised words not opening a sentence, digits."""
    found = set()
    for text in texts:
        for sentence in split_sentences(text, JUDGE):
            opening = sentence.lstrip(" \"'*-")
            for token in _DETAIL.findall(sentence):
                if token in {"I", "I'm"} or (opening.startswith(token) and not token[0].isdigit()):
                    continue
                found.add(token.lower())
    return found


def _recalled(turn: _Turn) -> str | None:
    """The first sentence of `turn` that uses a detail of the person's earlier turns (not only
    of the message it answers): a name or number they gave, or two of their content words."""
    if not turn.earlier_user:
        return None
    earlier = " ".join(turn.earlier_user)
    words = content_words(earlier) - content_words(turn.user)
    details = _details(turn.earlier_user)
    for sentence in turn.sentences:
        lower = sentence.lower()
        if len(content_words(sentence) & words) >= _ANCHOR_WORDS or any(
            re.search(rf"(?<!\w){re.escape(d)}(?!\w)", lower) for d in details
        ):
            return sentence
    return None
