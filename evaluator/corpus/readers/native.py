"""mheval's own normalised corpus (re-ingest gives the same corpus back), and the collected
corpus shipped with the project, which is the same shape plus `source` (kept as `meta.source`).

Ids are kept exactly as they are, so labelled sets keyed by id keep matching.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from evaluator.corpus.readers.base import (
    BadRecord,
    Reader,
    Record,
    as_int,
    register_reader,
    require_id,
    require_text,
)
from evaluator.types import Post

__all__: list[str] = []

_FIELDS = frozenset(Post.model_fields)
_REQUIRED = frozenset({"id", "platform", "text"})
_REDDIT_NATIVE = re.compile(r"^reddit:t3_(\w+)$")
_REDDIT_FULLNAME = re.compile(r"^t[13]_\w+$")


def _sniff(unit: Any, _mapping: Any) -> bool:
    return (
        isinstance(unit, dict) and unit.keys() >= _REQUIRED and unit.keys() <= _FIELDS | {"source"}
    )


def _collected_url(post_id: str, meta: dict[str, Any]) -> str | None:
    """A permalink recoverable from the id alone (Reddit submissions, YouTube videos)."""
    reddit = _REDDIT_NATIVE.match(post_id)
    if reddit:
        return f"https://www.reddit.com/comments/{reddit.group(1)}/"
    if post_id.startswith("youtube:") and str(meta.get("kind", "")).startswith("video"):
        return f"https://www.youtube.com/watch?v={post_id.removeprefix('youtube:')}"
    return None


def _parse(unit: Any, _mapping: Any) -> Iterator[Record]:
    if not _sniff(unit, None):
        extra = sorted(set(unit) - _FIELDS - {"source"}) if isinstance(unit, dict) else []
        missing = sorted(_REQUIRED - set(unit)) if isinstance(unit, dict) else []
        raise BadRecord(
            "not an mheval post"
            + (f" (unknown keys: {', '.join(extra)})" if extra else "")
            + (f" (missing: {', '.join(missing)})" if missing else "")
        )
    meta = unit.get("meta") or {}
    if not isinstance(meta, dict):
        raise BadRecord("`meta` is not an object")
    meta = dict(meta)
    post_id = require_id(unit.get("id"), "id")
    platform = require_id(unit.get("platform"), "platform")
    parent_id = unit.get("parent_id")
    url = unit.get("url")
    if "source" in unit:
        meta["source"] = unit["source"]
        # The collected corpus keeps Reddit parents as bare fullnames in meta.
        parent = meta.get("parent")
        if parent_id is None and isinstance(parent, str) and _REDDIT_FULLNAME.match(parent):
            parent_id = f"reddit:{meta.pop('parent')}"
        if isinstance(meta.get("stars"), str) and as_int(meta["stars"]) is not None:
            meta["stars"] = as_int(meta["stars"])
        if url is None:
            url = _collected_url(post_id, meta)
    author_hash = unit.get("author_hash")
    yield Record(
        id=post_id,
        platform=platform,
        text=require_text(unit.get("text"), "text"),
        created_at=unit.get("created_at"),
        url=url if isinstance(url, str) else None,
        parent_id=parent_id if isinstance(parent_id, str) else None,
        author_hash=author_hash if isinstance(author_hash, str) else None,
        meta=meta,
    )


register_reader(
    Reader(
        name="mheval",
        description="mheval's normalised corpus (also the collected corpus with `source`)",
        containers=frozenset({"jsonl", "json"}),
        sniff=_sniff,
        parse=_parse,
    )
)
