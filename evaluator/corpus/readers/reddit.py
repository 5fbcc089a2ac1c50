"""Reddit: Pushshift / Arctic Shift dumps (one submission or comment per line) and the Reddit
API's Listing JSON (`kind: Listing`, `data.children[].data`, replies nested in comments)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from evaluator.corpus.normalise import is_deleted_marker
from evaluator.corpus.readers.base import (
    BadRecord,
    Reader,
    Record,
    as_int,
    compact,
    per_item,
    register_reader,
    require_id,
)

__all__ = ["reddit_record"]

_PERMALINK_BASE = "https://www.reddit.com"


def _fullname(kind: str, native: str) -> str:
    return native if native.startswith(("t1_", "t3_")) else f"{kind}_{native}"


def reddit_record(data: dict[str, Any], kind: str | None = None) -> Record:
    """One submission (t3: title + selftext) or comment (t1: body)."""
    if kind is None:
        kind = "t1" if "body" in data else "t3"
    fullname = _fullname(kind, require_id(data.get("id"), "id"))
    if kind == "t1":
        body = data.get("body")
        if not isinstance(body, str):
            raise BadRecord("comment has no `body` string")
        text = body
    else:
        title = data.get("title")
        selftext = data.get("selftext")
        if not isinstance(title, str):
            raise BadRecord("submission has no `title` string")
        # A removed body leaves the title, which is still the author's public words.
        if isinstance(selftext, str) and selftext.strip() and not is_deleted_marker(selftext):
            text = f"{title}\n\n{selftext}"
        else:
            text = title
    permalink = data.get("permalink")
    if isinstance(permalink, str) and permalink.startswith("/"):
        url = _PERMALINK_BASE + permalink
    elif kind == "t3":
        url = f"{_PERMALINK_BASE}/comments/{fullname[3:]}/"
    elif isinstance(data.get("link_id"), str):
        url = f"{_PERMALINK_BASE}/comments/{data['link_id'][3:]}/_/{fullname[3:]}/"
    else:
        url = None
    parent = data.get("parent_id") if kind == "t1" else None
    link_url = data.get("url") if kind == "t3" and not data.get("is_self", False) else None
    meta = compact(
        {
            "subreddit": data.get("subreddit"),
            "kind": "comment" if kind == "t1" else "submission",
            "score": as_int(data.get("score")),
            "num_comments": as_int(data.get("num_comments")) if kind == "t3" else None,
            "flair": data.get("link_flair_text") if kind == "t3" else None,
            "link_url": link_url if link_url and link_url != url else None,
            "over_18": data.get("over_18") or None,
        }
    )
    return Record(
        id=f"reddit:{fullname}",
        platform="reddit",
        text=text,
        created_at=data.get("created_utc", data.get("created")),
        url=url,
        parent_id=f"reddit:{parent}" if isinstance(parent, str) and parent else None,
        author=data.get("author"),
        meta=meta,
    )


def _sniff_dump(unit: Any, _mapping: Any) -> bool:
    return (
        isinstance(unit, dict)
        and "subreddit" in unit
        and "id" in unit
        and ("body" in unit or "title" in unit)
    )


def _parse_dump(unit: Any, _mapping: Any) -> Iterator[Record]:
    if not _sniff_dump(unit, None):
        raise BadRecord("not a Reddit submission or comment (needs id, subreddit, title/body)")
    yield reddit_record(unit)


def _is_listing(unit: Any) -> bool:
    return (
        isinstance(unit, dict)
        and unit.get("kind") == "Listing"
        and isinstance(unit.get("data"), dict)
        and isinstance(unit["data"].get("children"), list)
    )


def _sniff_listing(unit: Any, _mapping: Any) -> bool:
    return _is_listing(unit)


def _walk_listing(listing: dict[str, Any]) -> Iterator[Record | BadRecord]:
    yield from per_item(listing["data"]["children"], _child, "children")


def _child(child: Any) -> Iterator[Record | BadRecord]:
    if not isinstance(child, dict):
        raise BadRecord("listing child is not an object")
    kind = child.get("kind")
    data = child.get("data")
    if kind not in ("t1", "t3") or not isinstance(data, dict):
        return  # "more" stubs, awards, other kinds
    yield reddit_record(data, kind)
    replies = data.get("replies")
    if _is_listing(replies):
        yield from _walk_listing(replies)


def _parse_listing(unit: Any, _mapping: Any) -> Iterator[Record]:
    if not _is_listing(unit):
        raise BadRecord("not a Reddit Listing (needs kind: Listing and data.children)")
    yield from _walk_listing(unit)


register_reader(
    Reader(
        name="reddit-listing",
        description="Reddit API Listing JSON (kind: Listing, data.children[].data)",
        containers=frozenset({"json", "jsonl"}),
        sniff=_sniff_listing,
        parse=_parse_listing,
    )
)
register_reader(
    Reader(
        name="reddit",
        description="Pushshift / Arctic Shift submissions and comments (JSONL)",
        containers=frozenset({"jsonl", "json"}),
        sniff=_sniff_dump,
        parse=_parse_dump,
    )
)
