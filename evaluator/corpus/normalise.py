"""Text, timestamp and permalink normalisation shared by every reader.

Every function here is idempotent (f(f(x)) == f(x)), which is what makes re-ingesting a
normalised corpus give the same corpus back.
"""

from __future__ import annotations

import html
import re
import time
import unicodedata
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from hashlib import blake2b

__all__ = [
    "normalise_text",
    "is_deleted_marker",
    "dedup_key",
    "normalise_timestamp",
    "safe_url",
]

# Zero-width and BOM characters (Reddit writes `&#x200B;` for an empty paragraph), soft
# hyphens, and C0/C1 control characters other than tab and newline (NULs break JSONL tools).
_INVISIBLE = re.compile(
    r"[\u200b\u200c\u200d\u2060\ufeff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
)
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_BLANK_LINES = re.compile(r"\n{3,}")

#: Bodies that mean the post is gone (Reddit, Pushshift and moderators' variants).
DELETED_MARKERS = frozenset(
    {
        "[deleted]",
        "[removed]",
        "[deleted by user]",
        "[removed by reddit]",
        "[ removed by reddit ]",
        "[removed by moderator]",
        "[ removed by moderator ]",
        "[unavailable]",
        "[comment removed by moderator]",
    }
)


def normalise_text(text: str) -> str:
    """Unescape HTML entities (repeatedly: `&amp;#x200B;` is doubly escaped), drop invisible
    and control characters, NFC-normalise, unify line breaks and trim blank runs."""
    while "&" in text:
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    text = _INVISIBLE.sub("", text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if " \n" in text or "\t\n" in text:
        text = _TRAILING_SPACE.sub("\n", text)
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def is_deleted_marker(text: str) -> bool:
    """True for `[deleted]`, `[removed]` and their variants (case-insensitive)."""
    return len(text) < 40 and text.strip().lower() in DELETED_MARKERS


def dedup_key(text: str) -> int:
    """64-bit hash of the text, case-folded with whitespace collapsed.

    Dedup keeps one such int per unique post (about 60 bytes in a Python set), so memory grows
    with the number of unique posts, not with their size; a collision needs ~4e9 posts to be
    likely.
    """
    folded = " ".join(text.casefold().split())
    return int.from_bytes(blake2b(folded.encode("utf-8"), digest_size=8).digest(), "big")


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMERIC = re.compile(r"^\d{9,13}(\.\d+)?$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def _from_epoch(value: float) -> datetime:
    if value > 1e11:  # milliseconds
        value /= 1000.0
    return datetime.fromtimestamp(value, tz=UTC)


def _parse(value: object) -> datetime | date | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value)) if value > 0 else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if _DATE_ONLY.match(text):
        return date.fromisoformat(text)
    if _NUMERIC.match(text):
        return _from_epoch(float(text))
    candidate = text
    if candidate.endswith("Z"):
        candidate = candidate[:-1] + "+00:00"
    elif candidate.endswith((" UTC", " GMT")):
        candidate = candidate[:-4] + "+00:00"
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        pass
    us = _US_DATE.match(text)
    if us:
        month, day, year, hour, minute, second = us.groups()
        try:
            if hour is None:
                return date(int(year), int(month), int(day))
            return datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second or 0)
            )
        except ValueError:
            return None
    for pattern in ("%a %b %d %H:%M:%S %z %Y", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S %Z"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    try:
        return parsedate_to_datetime(text)  # RFC 2822, as in RSS feeds
    except (TypeError, ValueError, IndexError):
        return None


def normalise_timestamp(value: object) -> str | None:
    """ISO 8601: `YYYY-MM-DD` for dates, `YYYY-MM-DDTHH:MM:SSZ` for zoned times (in UTC),
    `YYYY-MM-DDTHH:MM:SS` for naive ones. Epoch seconds or milliseconds become UTC.

    Returns None when the value cannot be read as a time (the raw value is then lost: a date
    nobody can parse is no use downstream).
    """
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        # Fast path for epoch seconds (Pushshift, TikTok): no datetime objects.
        seconds = value / 1000.0 if value > 1e11 else value
        try:
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
        except (OverflowError, OSError, ValueError):
            return None
    parsed = _parse(value)
    if parsed is None:
        return None
    if isinstance(parsed, datetime):
        parsed = parsed.replace(microsecond=0)
        if parsed.tzinfo is not None:
            offset = parsed.utcoffset() or timedelta(0)
            utc = (parsed - offset).replace(tzinfo=None)
            return utc.isoformat() + "Z"
        return parsed.isoformat()
    return parsed.isoformat()


_TWITTER_STATUS = re.compile(
    r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/[^/]+/status(?:es)?/(\d+)", re.IGNORECASE
)
# Profile pages, and any path starting with /@handle (Medium, Mastodon, TikTok, YouTube).
_AUTHOR_PAGES = re.compile(
    r"^https?://(?:[\w-]+\.)*(?:[\w-]+\.\w+/@|reddit\.com/(?:u|user)/|bsky\.app/profile/"
    r"|youtube\.com/(?:channel|user|c)/|facebook\.com/|instagram\.com/)",
    re.IGNORECASE,
)


def safe_url(url: str | None) -> str | None:
    """The post's permalink, unless it names the author.

    Twitter/X status links are rewritten to the author-free `/i/web/status/ID` form; links to
    profile pages (and Bluesky/TikTok permalinks, which embed the author) are dropped.
    """
    if not url or not isinstance(url, str):
        return None
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")):
        return None
    status = _TWITTER_STATUS.match(url)
    if status:
        return f"https://twitter.com/i/web/status/{status.group(1)}"
    if _AUTHOR_PAGES.match(url):
        return None
    return url
