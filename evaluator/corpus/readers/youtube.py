"""YouTube Data API v3 `commentThreads.list` (and `comments.list`) responses: one response per
file, a JSON array of responses, or one response or thread per line."""

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
)

__all__: list[str] = []

_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def _comment(
    comment: dict[str, Any], *, video_id: Any, parent: str | None, replies: int | None
) -> Record:
    comment_id = require_id(comment.get("id"), "id")
    snippet = comment.get("snippet")
    if not isinstance(snippet, dict):
        raise BadRecord("comment has no `snippet`")
    text = snippet.get("textOriginal")
    if not isinstance(text, str):
        display = snippet.get("textDisplay")
        if not isinstance(display, str):
            raise BadRecord("comment has neither textOriginal nor textDisplay")
        # textDisplay is HTML: line breaks as <br>, links as <a>.
        text = _TAG.sub("", _BREAK.sub("\n", display))
    video_id = snippet.get("videoId") or video_id
    parent_id = snippet.get("parentId") or parent
    return Record(
        id=f"youtube:{comment_id}",
        platform="youtube",
        text=text,
        created_at=snippet.get("publishedAt"),
        url=f"https://www.youtube.com/watch?v={video_id}&lc={comment_id}" if video_id else None,
        parent_id=f"youtube:{parent_id}" if parent_id else None,
        author=dig(snippet, "authorChannelId", "value") or snippet.get("authorDisplayName"),
        meta=compact(
            {
                "kind": "comment",
                "video_id": video_id,
                "like_count": as_int(snippet.get("likeCount")),
                "reply_count": replies,
            }
        ),
    )


def _thread(thread: dict[str, Any]) -> Iterator[Record]:
    snippet = thread.get("snippet")
    top = dig(snippet, "topLevelComment")
    if not isinstance(top, dict):
        raise BadRecord("comment thread has no snippet.topLevelComment")
    video_id = snippet.get("videoId")
    yield _comment(
        top, video_id=video_id, parent=None, replies=as_int(snippet.get("totalReplyCount"))
    )
    yield from per_item(
        dig(thread, "replies", "comments") or [],
        lambda reply: [_comment(reply, video_id=video_id, parent=top.get("id"), replies=None)],
        "replies",
    )


def _sniff(unit: Any, _mapping: Any) -> bool:
    return isinstance(unit, dict) and unit.get("kind") in (
        "youtube#commentThreadListResponse",
        "youtube#commentListResponse",
        "youtube#commentThread",
        "youtube#comment",
    )


def _parse(unit: Any, _mapping: Any) -> Iterator[Record]:
    kind = unit.get("kind") if isinstance(unit, dict) else None
    if kind in ("youtube#commentThreadListResponse", "youtube#commentListResponse"):
        yield from per_item(unit.get("items") or [], lambda item: _parse(item, None), "items")
    elif kind == "youtube#commentThread":
        yield from _thread(unit)
    elif kind == "youtube#comment":
        yield _comment(unit, video_id=None, parent=None, replies=None)
    else:
        raise BadRecord("not a YouTube comment resource (kind youtube#comment...)")


register_reader(
    Reader(
        name="youtube",
        description="YouTube Data API commentThreads / comments JSON",
        containers=frozenset({"json", "jsonl"}),
        sniff=_sniff,
        parse=_parse,
    )
)
