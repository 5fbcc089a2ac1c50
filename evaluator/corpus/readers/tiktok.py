"""TikTok Research API `video/comment/list` responses (`data.comments[]`), or one comment per
line. The API returns no author for comments; permalinks need the video owner's handle, so
`url` stays empty and the video id is kept in `meta.video_id`."""

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
    require_id,
    require_text,
)

__all__: list[str] = []

_COMMENT_KEYS = {"id", "text", "video_id", "create_time"}


def _comment(comment: Any) -> Record:
    if not isinstance(comment, dict):
        raise BadRecord("comment is not an object")
    comment_id = require_id(comment.get("id"), "id")
    video_id = comment.get("video_id")
    parent = comment.get("parent_comment_id")
    # A top-level comment's parent is the video itself.
    if parent is not None and str(parent) == str(video_id):
        parent = None
    return Record(
        id=f"tiktok:{comment_id}",
        platform="tiktok",
        text=require_text(comment.get("text"), "text"),
        created_at=comment.get("create_time"),
        url=None,
        parent_id=f"tiktok:{parent}" if parent else None,
        author=None,
        meta=compact(
            {
                "kind": "comment",
                "video_id": str(video_id) if video_id is not None else None,
                "like_count": as_int(comment.get("like_count")),
                "reply_count": as_int(comment.get("reply_count")),
            }
        ),
    )


def _is_comment(unit: Any) -> bool:
    return isinstance(unit, dict) and unit.keys() >= _COMMENT_KEYS


def _sniff(unit: Any, _mapping: Any) -> bool:
    comments = dig(unit, "data", "comments")
    if isinstance(comments, list):
        return not comments or _is_comment(comments[0])
    return _is_comment(unit)


def _parse(unit: Any, _mapping: Any) -> Iterator[Record]:
    comments = dig(unit, "data", "comments")
    if isinstance(comments, list):
        yield from per_item(comments, lambda comment: [_comment(comment)], "comments")
    elif _is_comment(unit):
        yield _comment(unit)
    else:
        raise BadRecord("not a TikTok comment (needs id, text, video_id, create_time)")


register_reader(
    Reader(
        name="tiktok",
        description="TikTok Research API comment JSON (data.comments[])",
        containers=frozenset({"json", "jsonl"}),
        sniff=_sniff,
        parse=_parse,
    )
)
