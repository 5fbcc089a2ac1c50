"""App reviews: Google Play (google-play-scraper's field names, as JSON, JSONL or a CSV written
from them) and the App Store (iTunes RSS customer-reviews JSON, `feed.entry[]`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from evaluator.corpus.readers.base import (
    BadRecord,
    Reader,
    Record,
    as_int,
    compact,
    dig,
    per_item,
    register_reader,
    require_id,
    require_text,
)

__all__: list[str] = []


def _sniff_play(unit: Any, _mapping: Any) -> bool:
    return isinstance(unit, dict) and "reviewId" in unit and "content" in unit


def _parse_play(unit: Any, _mapping: Any) -> Iterator[Record]:
    if not _sniff_play(unit, None):
        raise BadRecord("not a Google Play review (needs reviewId and content)")
    review_id = require_id(unit.get("reviewId"), "reviewId")
    app_id = unit.get("appId") or unit.get("app_id")
    reply = unit.get("replyContent")
    yield Record(
        id=f"google_play:{review_id}",
        platform="google_play",
        text=require_text(unit.get("content"), "content"),
        created_at=unit.get("at"),
        url=(
            f"https://play.google.com/store/apps/details?id={app_id}&reviewId={review_id}"
            if app_id
            else None
        ),
        author=unit.get("userName"),
        meta=compact(
            {
                "app": app_id or unit.get("app"),
                "stars": as_int(unit.get("score")),
                "thumbs_up": as_int(unit.get("thumbsUpCount")),
                "app_version": unit.get("appVersion") or unit.get("reviewCreatedVersion"),
                # The developer's reply is theirs, not the reviewer's: keep only that it exists.
                "developer_replied": True if isinstance(reply, str) and reply.strip() else None,
            }
        ),
    )


register_reader(
    Reader(
        name="google-play",
        description="Google Play reviews (google-play-scraper: reviewId, content, score, at)",
        containers=frozenset({"json", "jsonl", "csv"}),
        sniff=_sniff_play,
        parse=_parse_play,
    )
)

_APP_ID = re.compile(r"/id=?(\d+)")


def _label(entry: dict[str, Any], key: str) -> Any:
    value = entry.get(key)
    if isinstance(value, list):  # `content` comes as [text, html] in some feeds
        text = next((v for v in value if dig(v, "attributes", "type") == "text"), None)
        value = text or (value[0] if value else None)
    return dig(value, "label") if isinstance(value, dict) else None


def _sniff_app_store(unit: Any, _mapping: Any) -> bool:
    return isinstance(dig(unit, "feed"), dict) and (
        "entry" in unit["feed"] or "im:name" in unit["feed"] or "author" in unit["feed"]
    )


def _parse_app_store(unit: Any, _mapping: Any) -> Iterator[Record]:
    if not _sniff_app_store(unit, None):
        raise BadRecord("not an App Store customer-reviews feed (needs feed.entry)")
    feed = unit["feed"]
    match = _APP_ID.search(_label(feed, "id") or "")
    app_id = match.group(1) if match else None
    entries = feed.get("entry") or []
    if isinstance(entries, dict):  # a feed with one entry holds it bare
        entries = [entries]
    yield from per_item(entries, lambda entry: _app_store_entry(entry, app_id), "entry")


def _app_store_entry(entry: Any, app_id: str | None) -> Iterator[Record]:
    if not isinstance(entry, dict):
        raise BadRecord("feed.entry element is not an object")
    if "im:rating" not in entry:
        return  # older feeds open with an entry describing the app itself
    review_id = require_id(_label(entry, "id"), "entry.id.label")
    title = _label(entry, "title")
    body = require_text(_label(entry, "content"), "entry.content.label")
    text = f"{title}\n\n{body}" if isinstance(title, str) and title.strip() else body
    yield Record(
        id=f"app_store:{review_id}",
        platform="app_store",
        text=text,
        created_at=_label(entry, "updated"),
        url=None,
        author=dig(entry, "author", "name", "label"),
        meta=compact(
            {
                "app_id": app_id,
                "stars": as_int(_label(entry, "im:rating")),
                "app_version": _label(entry, "im:version"),
                "vote_sum": as_int(_label(entry, "im:voteSum")),
                "vote_count": as_int(_label(entry, "im:voteCount")),
            }
        ),
    )


register_reader(
    Reader(
        name="app-store",
        description="App Store reviews (iTunes RSS customer-reviews JSON: feed.entry[])",
        containers=frozenset({"json", "jsonl"}),
        sniff=_sniff_app_store,
        parse=_parse_app_store,
    )
)
