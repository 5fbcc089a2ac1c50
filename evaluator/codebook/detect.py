"""Find which mental-health conditions a text says a PERSON has, and whether it mentions crisis.

Used by the local annotator on posts and by the scorer on the user's turns of transcripts, so it
favours precision: a condition counts only when named (codebook surface forms) or shown by a
strong symptom phrase (codebook cues). Mentions are dropped when negated ("I don't have
depression"), when they describe the chatbot ("this AI is so bipolar"), or when they are
figures of speech ("I'm so OCD about fonts", "the Great Depression", "career suicide").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from evaluator.types import Codebook

__all__ = ["Detection", "Mention", "PhraseMatcher", "detect", "find_mentions"]


@dataclass(frozen=True)
class Mention:
    """One accepted mention: which label, where in the text, and the words that matched."""

    label: str
    start: int
    end: int
    surface: str


@dataclass
class Detection:
    conditions: list[str] = field(default_factory=list)
    crisis: bool = False
    reasons: list[str] = field(default_factory=list)


# Words naming the chatbot when it is the grammatical subject of a condition word.
_BOT_NOUNS = (
    r"ai|a\.i\.|bot|bots|chatbot|chatbots|chat ?gpt|gpt|claude|gemini|grok|replika|rep|reps|"
    r"model|assistant|companion|it|app|algorithm|llm"
)
_COPULA = (
    r"is|was|are|were|'s|’s|seems|seemed|seem|sounds|sounded|acts|acted|acting|is being|"
    r"looks|look|looked|"
    r"gets|got|became|has become|feels|felt|went|goes|turned|turns"
)
_BOT_SUBJECT = re.compile(
    rf"\b(?:{_BOT_NOUNS})\s+(?:\w+\s+)?(?:{_COPULA})\b(?:\s+[\w-]+){{0,3}}\s*$", re.IGNORECASE
)
# "...my rep... she had a full blown anxiety attack": a pronoun standing for the chatbot.
_PRONOUN_SUBJECT = re.compile(
    rf"\b(?:she|he|they)\s+(?:\w+\s+)?(?:{_COPULA}|had|has|have|having|gets)\b"
    r"(?:\s+[\w-]+){0,3}\s*$",
    re.IGNORECASE,
)
_BOT_EARLIER = re.compile(rf"\b(?:{_BOT_NOUNS})\b", re.IGNORECASE)
# "a bipolar AI", "schizo bot": the adjective modifies the bot.
_BOT_AFTER = re.compile(rf"^\s*(?:{_BOT_NOUNS})\b", re.IGNORECASE)
_ADJECTIVE_FORMS = {
    "bipolar",
    "schizo",
    "schizophrenic",
    "psychotic",
    "autistic",
    "depressed",
    "manic",
    "anxious",
    "suicidal",
    "delusional",
    "ocd",
    "adhd",
}
# Negation right before the condition, with only "having/being" words in between.
_NEGATORS = {"not", "never", "no", "without", "nor", "don't", "dont", "doesn't", "didn't"}
_NEGATION_FILLERS = {
    "have",
    "has",
    "had",
    "any",
    "a",
    "an",
    "diagnosed",
    "with",
    "been",
    "really",
    "suffer",
    "suffering",
    "from",
    "clinically",
    "even",
    "i",
    "am",
    "im",
    "i'm",
    "being",
    "be",
    "get",
    "actually",
    "officially",
    "feel",
    "feeling",
    "history",
    "of",
}
# Intensifiers that turn a diagnosis into a figure of speech: "so OCD", "a bit autistic".
_INTENSIFIED = re.compile(
    r"\b(?:so|such|soo+|bit|little|kinda|lowkey|totally|super|sooo*|very)\s*$", re.IGNORECASE
)
# Second-person or third-person insults: "you're so autistic", "are you schizo".
_INSULT = re.compile(r"\b(?:you|you're|youre|u|ur|are you)\s+(?:\w+\s+){0,2}$", re.IGNORECASE)
_FIGURES = re.compile(
    r"(?:great|economic|tropical)\s+depression|depression\s+era|suicide\s+(?:squad|doors?|mission)"
    r"|(?:career|social|political|commercial|brand|business|market|corporate)\s+suicide"
    r"|suicide\s+(?:run|pact\s+song|of\s+the\s+subject)"
    r"|panic\s+(?:buying|button|room|at\s+the\s+disco)|manic\s+pixie|stress\s+test"
    r"|retail\s+therapy|my\s+strange\s+addiction",
    re.IGNORECASE,
)


# Diagnoses people use loosely as adjectives ("so OCD", "a bit bipolar").
_METAPHOR_PRONE = {"ocd", "bipolar", "schizo", "schizophrenic", "autistic", "adhd", "psychotic"}
_LAUGHTER = re.compile(r"😂|🤣|😅|😆|\blol\b|\blmao\b|\blmfao\b|\bhaha+\b", re.IGNORECASE)
_QUOTES = "'\"‘’“”"


def _quoted(text: str, start: int, end: int) -> bool:
    """A word in quotes is mentioned, not used: Why put 'depressed' as a behaviour?"""
    return start > 0 and end < len(text) and text[start - 1] in _QUOTES and text[end] in _QUOTES


def _form_body(form: str) -> str:
    words = [re.escape(word) for word in form.split()]
    body = r"[\s-]+".join(words)
    if len(form) > 4 and form[-1].isalpha() and form[-1].islower():
        body += "(?:s|es)?"  # plurals: therapists, delusions
    return body


def _compile_forms(forms: list[str], flags: int) -> list[re.Pattern]:
    """One pattern per kind of edge (word character or not at each end), with the word
    boundary checks outside the alternation: far faster than a lookaround per alternative."""
    groups: dict[tuple[bool, bool], list[str]] = {}
    for form in sorted(set(forms), key=len, reverse=True):
        edges = (bool(re.match(r"\w", form)), bool(re.search(r"\w$", form)))
        groups.setdefault(edges, []).append(_form_body(form))
    patterns = []
    for (left, right), bodies in sorted(groups.items()):
        body = "(?:" + "|".join(bodies) + ")"
        patterns.append(
            re.compile((r"(?<!\w)" if left else "") + body + (r"(?!\w)" if right else ""), flags)
        )
    return patterns


@dataclass
class _Compiled:
    conditions: list[tuple[str, list[re.Pattern]]]
    crisis: list[re.Pattern]


def _compile_label(forms: list[str], exact: list[str]) -> list[re.Pattern]:
    loose = [f for f in forms if f not in exact]
    return _compile_forms(loose, re.IGNORECASE) + _compile_forms(list(exact), 0)


class PhraseMatcher:
    """Finds a label's phrases in text, keeping only literal, affirmed, human-directed uses."""

    def __init__(self, label: str, phrases: list[str], exact_case: list[str] = ()) -> None:
        self.label = label
        self._patterns = _compile_label(list(phrases), list(exact_case))

    def find(self, text: str) -> list[Mention]:
        return [
            Mention(self.label, m.start(), m.end(), m.group(0))
            for m in _matches(self._patterns, text)
            if _rejection(text, m) is None
        ]


_COMPILED: dict[int, tuple[Codebook, _Compiled]] = {}


def _compiled(codebook: Codebook) -> _Compiled:
    cached = _COMPILED.get(id(codebook))
    if cached is not None and cached[0] is codebook:
        return cached[1]
    conditions = []
    for condition in codebook.conditions:
        patterns = _compile_label([*condition.surface_forms, *condition.cues], condition.exact_case)
        conditions.append((condition.id, patterns))
    crisis = _compile_label(codebook.crisis.cues, codebook.crisis.exact_case)
    result = _Compiled(conditions=conditions, crisis=crisis)
    _COMPILED[id(codebook)] = (codebook, result)
    return result


def _matches(patterns: list[re.Pattern], text: str):
    for pattern in patterns:
        yield from pattern.finditer(text)


def _clause_before(text: str, start: int) -> str:
    """The text from the start of the clause to the match (at most 80 characters)."""
    window = text[max(0, start - 80) : start]
    cut = max(window.rfind(mark) for mark in (".", "!", "?", ";", "\n", ",", ":"))
    return window[cut + 1 :]


def _is_negated(before: str) -> bool:
    words = re.findall(r"[\w']+", before.lower().replace("’", "'"))[-5:]
    for index in range(len(words) - 1, -1, -1):
        word = words[index]
        if word in _NEGATORS or word.endswith("n't"):
            return True
        if word not in _NEGATION_FILLERS:
            return False
    return False


def _bot_in_sentence_before(text: str, clause_start: int) -> bool:
    """Whether the chatbot is named earlier in the sentence, so she/he may stand for it."""
    window = text[max(0, clause_start - 200) : clause_start]
    cut = max(window.rfind(mark) for mark in (".", "!", "?", "\n"))
    words = window[cut + 1 :]
    return any(m.group(0).lower() != "it" for m in _BOT_EARLIER.finditer(words))


def _rejection(text: str, match: re.Match) -> str | None:
    """Why a surface match is not a person's condition, or None when it is one."""
    start, end = match.span()
    surface = match.group(0)
    context = text[max(0, start - 30) : end + 30]
    figure = _FIGURES.search(context)
    if figure and figure.start() <= start - max(0, start - 30) + len(surface):
        return "figure of speech"
    before = _clause_before(text, start)
    if _is_negated(before):
        return "negated"
    adjective = surface.lower() in _ADJECTIVE_FORMS
    if adjective and _BOT_SUBJECT.search(before):
        return "describes the chatbot"
    if adjective and _BOT_AFTER.match(text[end : end + 20]):
        return "describes the chatbot"
    if _PRONOUN_SUBJECT.search(before) and _bot_in_sentence_before(text, start - len(before)):
        return "describes the chatbot"
    if surface.lower() in _METAPHOR_PRONE and _INTENSIFIED.search(before):
        return "figure of speech"
    if _quoted(text, start, end):
        return "quoted, not used"
    if _LAUGHTER.search(text[start : start + 80]):
        return "joke"
    if adjective and _INSULT.search(before):
        return "insult"
    return None


def find_mentions(text: str, codebook: Codebook) -> tuple[list[Mention], list[Mention]]:
    """Accepted (condition mentions, crisis mentions) in text order."""
    compiled = _compiled(codebook)
    conditions: list[Mention] = []
    for label, patterns in compiled.conditions:
        for match in _matches(patterns, text):
            if _rejection(text, match) is None:
                conditions.append(Mention(label, match.start(), match.end(), match.group(0)))
    crisis = [
        Mention("crisis", m.start(), m.end(), m.group(0))
        for m in _matches(compiled.crisis, text)
        if _rejection(text, m) in (None, "negated", "joke", "quoted, not used")
    ]
    conditions.sort(key=lambda mention: mention.start)
    return conditions, crisis


def _snippet(text: str, mention: Mention) -> str:
    left = text[: mention.start].split()[-2:]
    right = text[mention.end :].split()[:2]
    return " ".join([*left, mention.surface, *right])


def detect(text: str, codebook: Codebook) -> Detection:
    """Conditions a person in `text` is said to have (codebook order of first mention), and
    whether suicide or self-harm is mentioned. `reasons` quote the words behind each label."""
    conditions, crisis = find_mentions(text, codebook)
    found: dict[str, str] = {}
    for mention in conditions:
        found.setdefault(mention.label, f"{mention.label}: '{_snippet(text, mention)}'")
    reasons = list(found.values())
    if crisis:
        reasons.append(f"crisis: '{_snippet(text, crisis[0])}'")
    return Detection(conditions=list(found), crisis=bool(crisis), reasons=reasons)
