"""Replace personal details in post text with typed placeholders.

Order matters: URLs first (they contain `@` and digits), then e-mail addresses, then user
handles, then phone numbers. Placeholders (`<URL>`, `<EMAIL>`, `<USER>`, `<PHONE>`) match none
of the patterns, so scrubbing scrubbed text changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["SCRUB_KINDS", "scrub_text"]

#: Kinds in the order they are applied, with their placeholders.
SCRUB_KINDS = {"url": "<URL>", "email": "<EMAIL>", "user": "<USER>", "phone": "<PHONE>"}

_URL = re.compile(r"(?:https?://|\bwww\.)[^\s<>\"'\]\[(){}]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?*'\""
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Reddit u/name and /u/name (3-20 characters), then @handles (Twitter, TikTok, Bluesky's
# name.bsky.social, Instagram); an @ inside a word (an address) is not a handle.
_REDDIT_USER = re.compile(r"(?<![\w/])/?u/[A-Za-z0-9_-]{3,20}\b")
_AT_HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z0-9_]{2,}(?:\.[A-Za-z0-9_-]*[A-Za-z0-9_])*")
# A phone number: optional +country, an area/trunk group, then two groups, separated the ways
# people write them. Dates (2023-03-24), times and plain counts do not fit; see _is_phone.
_PHONE = re.compile(
    r"(?<![\w+/.-])(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{2,5}\)[\s.-]?|\d{2,5}[\s.-])\d{3,4}[\s.-]?\d{3,5}"
    r"(?![\w/-]|\.\d)"
)
# A cheap pre-check (spelled out: `[0-9][0-9][0-9]` scans faster than `\d{3}`).
_DIGIT_RUN = re.compile(r"[0-9][0-9][0-9]")
_MIN_PHONE_DIGITS = 9


def _trim_url(match: re.Match[str]) -> tuple[str, str]:
    """Split trailing sentence punctuation off a URL: `see https://x.org.` keeps the dot."""
    url = match.group(0)
    trimmed = url.rstrip(_URL_TRAILING)
    return trimmed, url[len(trimmed) :]


def _is_phone(number: str) -> bool:
    digits = sum(ch.isdigit() for ch in number)
    return _MIN_PHONE_DIGITS <= digits <= 15


def _substitute(
    pattern: re.Pattern[str], text: str, placeholder: str, accept: Callable[[str], bool] | None
) -> tuple[str, int]:
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        if accept is not None and not accept(match.group(0)):
            return match.group(0)
        count += 1
        return placeholder

    return pattern.sub(replace, text), count


def _substitute_urls(text: str) -> tuple[str, int]:
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        url, tail = _trim_url(match)
        if len(url) <= len("www."):
            return match.group(0)
        count += 1
        return "<URL>" + tail

    return _URL.sub(replace, text), count


def _scrub_once(text: str) -> tuple[str, dict[str, int]]:
    counts = dict.fromkeys(SCRUB_KINDS, 0)
    if "://" in text or "www." in text or "WWW." in text:
        text, counts["url"] = _substitute_urls(text)
    if "@" in text:
        text, counts["email"] = _substitute(_EMAIL, text, "<EMAIL>", None)
    if "u/" in text:
        text, reddit = _substitute(_REDDIT_USER, text, "<USER>", None)
        counts["user"] += reddit
    if "@" in text:
        text, handles = _substitute(_AT_HANDLE, text, "<USER>", None)
        counts["user"] += handles
    if _DIGIT_RUN.search(text):
        text, counts["phone"] = _substitute(_PHONE, text, "<PHONE>", _is_phone)
    return text, counts


def scrub_text(text: str) -> tuple[str, dict[str, int]]:
    """Return the scrubbed text and how many items of each kind were replaced.

    Passes repeat until one finds nothing: a replacement can expose a neighbour that the
    lookbehinds hid (`a@b.cc+d@e.org`), and the fixed point is what makes scrubbing idempotent.
    Each pass replaces real characters with placeholders no pattern matches, so it ends.
    """
    total = dict.fromkeys(SCRUB_KINDS, 0)
    while True:
        text, counts = _scrub_once(text)
        if not any(counts.values()):
            return text, total
        for kind, number in counts.items():
            total[kind] += number
