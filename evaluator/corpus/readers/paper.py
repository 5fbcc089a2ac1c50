"""The seed paper's JSONL (Li et al., llm-mental-health-analysis): `Date`, `Full Text`, `Url`,
and its result lines (`date`, `full_text`, `url`). The platform and native id come from the URL
when it is a known permalink; otherwise the id is a hash of the URL (or the text)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from hashlib import blake2b
from typing import Any

from evaluator.corpus.readers.base import (
    BadRecord,
    Reader,
    Record,
    first_present,
    register_reader,
    require_text,
)

__all__: list[str] = []

_TEXT_KEYS = ("Full Text", "full_text")
_PERMALINKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("reddit", re.compile(r"reddit\.com/r/[^/]+/comments/(\w+)(?:/[^/]*/(\w+))?", re.I)),
    ("reddit", re.compile(r"redd\.it/(\w+)()", re.I)),
    ("twitter", re.compile(r"(?:twitter|x)\.com/[^/]+/status(?:es)?/(\d+)()", re.I)),
    ("youtube", re.compile(r"youtube\.com/watch\?v=([\w-]+)(?:.*[?&]lc=([\w.-]+))?", re.I)),
    ("youtube", re.compile(r"youtu\.be/([\w-]+)()", re.I)),
    ("bluesky", re.compile(r"bsky\.app/profile/[^/]+/post/(\w+)()", re.I)),
    ("tiktok", re.compile(r"tiktok\.com/@[^/]*/video/(\d+)()", re.I)),
)


def post_id_from_url(url: str) -> tuple[str, str] | None:
    """(platform, id) for a known permalink, e.g. a Reddit comment → ('reddit', 'reddit:t1_x')."""
    for platform, pattern in _PERMALINKS:
        match = pattern.search(url)
        if not match:
            continue
        native, child = match.group(1), match.group(2)
        if platform == "reddit":
            return platform, f"reddit:t1_{child}" if child else f"reddit:t3_{native}"
        return platform, f"{platform}:{child or native}"
    return None


def _sniff(unit: Any, _mapping: Any) -> bool:
    return (
        isinstance(unit, dict)
        and any(k in unit for k in _TEXT_KEYS)
        and ("Url" in unit or "url" in unit or "Date" in unit or "date" in unit)
    )


def _parse(unit: Any, _mapping: Any) -> Iterator[Record]:
    if not _sniff(unit, None):
        raise BadRecord("not a seed-paper row (needs `Full Text` and `Url`/`Date`)")
    text = require_text(first_present(unit, *_TEXT_KEYS), "Full Text")
    url = first_present(unit, "Url", "url")
    known = post_id_from_url(url) if isinstance(url, str) else None
    if known:
        platform, post_id = known
    else:
        basis = url if isinstance(url, str) and url else text
        platform = "paper"
        post_id = "paper:" + blake2b(basis.encode("utf-8"), digest_size=8).hexdigest()
    yield Record(
        id=post_id,
        platform=platform,
        text=text,
        created_at=first_present(unit, "Date", "date"),
        url=url if isinstance(url, str) else None,
        meta={"source": "seed-paper"},
    )


register_reader(
    Reader(
        name="paper",
        description="Seed paper JSONL (Date, Full Text, Url)",
        containers=frozenset({"jsonl", "json", "csv"}),
        sniff=_sniff,
        parse=_parse,
    )
)
