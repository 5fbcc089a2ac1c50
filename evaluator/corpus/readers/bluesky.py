"""Bluesky: `app.bsky.feed.post` records (bare, as `listRecords` items `{uri, value}`, or as
Jetstream commit events) and API views (`getPostThread`, `searchPosts`, `getAuthorFeed`).

The post id is the record key (`bluesky:3k...`), as in the shipped corpus. Bluesky permalinks
embed the author's DID or handle, so `url` stays empty: the author is only a salted hash.
"""

from __future__ import annotations

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
    require_text,
)

__all__: list[str] = []

_POST_TYPE = "app.bsky.feed.post"


def _split_uri(uri: Any) -> tuple[str | None, str | None]:
    """`at://DID/app.bsky.feed.post/RKEY` → (DID, RKEY)."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None, None
    parts = uri[len("at://") :].split("/")
    if len(parts) != 3:
        return None, None
    return parts[0], parts[2]


def _record(
    record: dict[str, Any], *, did: Any, rkey: Any, view: dict[str, Any] | None = None
) -> Record:
    if not rkey:
        raise BadRecord("post has no uri / record key")
    text = require_text(record.get("text"), "record.text")
    _, parent = _split_uri(dig(record, "reply", "parent", "uri"))
    _, root = _split_uri(dig(record, "reply", "root", "uri"))
    langs = record.get("langs")
    view = view or {}
    return Record(
        id=f"bluesky:{rkey}",
        platform="bluesky",
        text=text,
        created_at=record.get("createdAt") or view.get("indexedAt"),
        url=None,
        parent_id=f"bluesky:{parent}" if parent else None,
        author=did,
        meta=compact(
            {
                "langs": ",".join(langs) if isinstance(langs, list) else None,
                "root_id": f"bluesky:{root}" if root and root != parent else None,
                "like_count": as_int(view.get("likeCount")),
                "repost_count": as_int(view.get("repostCount")),
                "reply_count": as_int(view.get("replyCount")),
                "quote_count": as_int(view.get("quoteCount")),
            }
        ),
    )


def _from_view(view: dict[str, Any]) -> Record:
    """A postView: {uri, author, record, likeCount...}."""
    did, rkey = _split_uri(view.get("uri"))
    record = view.get("record")
    if not isinstance(record, dict):
        raise BadRecord("post view has no `record`")
    return _record(record, did=dig(view, "author", "did") or did, rkey=rkey, view=view)


def _walk_thread(node: Any) -> Iterator[Record]:
    """A threadViewPost: the post, its parents upwards and its replies downwards."""
    if not isinstance(node, dict) or not isinstance(node.get("post"), dict):
        return  # notFoundPost / blockedPost stubs
    parent = node.get("parent")
    if isinstance(parent, dict):
        yield from _walk_thread({k: v for k, v in parent.items() if k != "replies"})
    yield _from_view(node["post"])
    for reply in node.get("replies") or []:
        yield from _walk_thread({k: v for k, v in reply.items() if k != "parent"})


def _shape(unit: Any) -> str | None:
    """Which Bluesky shape a unit has, or None."""
    if not isinstance(unit, dict):
        return None
    if unit.get("$type") == _POST_TYPE:
        return "record"
    if dig(unit, "value", "$type") == _POST_TYPE:
        return "list-item"
    if dig(unit, "commit", "collection") == _POST_TYPE:
        return "jetstream"
    if dig(unit, "record", "$type") == _POST_TYPE and "uri" in unit:
        return "view"
    if isinstance(unit.get("thread"), dict):
        return "thread"
    for key in ("posts", "feed", "records"):
        items = unit.get(key)
        if isinstance(items, list):
            if not items:
                return key  # an empty page of results
            first = items[0].get("post", items[0]) if isinstance(items[0], dict) else None
            return key if _shape(first) in ("view", "list-item") else None
    if isinstance(unit.get("post"), dict) and _shape(unit["post"]) == "view":
        return "feed-item"
    return None


def _sniff(unit: Any, _mapping: Any) -> bool:
    return _shape(unit) is not None


def _parse(unit: Any, _mapping: Any) -> Iterator[Record]:
    shape = _shape(unit)
    if shape == "record":
        # A bare record carries no key; listRecords/CAR exporters put it under `uri`/`rkey`.
        did, rkey = _split_uri(unit.get("uri"))
        yield _record(unit, did=did or unit.get("did"), rkey=rkey or unit.get("rkey"))
    elif shape == "list-item":
        did, rkey = _split_uri(unit.get("uri"))
        yield _record(unit["value"], did=did, rkey=rkey)
    elif shape == "jetstream":
        commit = unit["commit"]
        if commit.get("operation") not in (None, "create", "update"):
            return  # deletes carry no text
        if not isinstance(commit.get("record"), dict):
            raise BadRecord("Jetstream commit has no `record`")
        yield _record(commit["record"], did=unit.get("did"), rkey=commit.get("rkey"))
    elif shape == "view":
        yield _from_view(unit)
    elif shape == "feed-item":
        yield _from_view(unit["post"])
    elif shape == "thread":
        yield from _walk_thread(unit["thread"])
    elif shape in ("posts", "feed", "records"):
        yield from per_item(unit[shape], lambda item: _parse(item, None), shape)
    else:
        raise BadRecord("not a Bluesky post record or API response")


register_reader(
    Reader(
        name="bluesky",
        description=(
            "Bluesky app.bsky.feed.post records (listRecords, Jetstream) and "
            "getPostThread / searchPosts / getAuthorFeed JSON"
        ),
        containers=frozenset({"json", "jsonl"}),
        sniff=_sniff,
        parse=_parse,
    )
)
