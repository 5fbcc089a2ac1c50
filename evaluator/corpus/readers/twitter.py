"""X/Twitter: API v2 responses (`data` + `includes.users`; one response per line as twarc2
writes them, or a single tweet per line as `twarc2 flatten` writes them) and the common CSV
exports (twint, snscrape, API-to-CSV tools)."""

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
    first_present,
    per_item,
    register_reader,
    require_id,
    require_text,
)

__all__: list[str] = []


def _status_url(tweet_id: str) -> str:
    # The /i/web form needs no username, so the permalink does not name the author.
    return f"https://twitter.com/i/web/status/{tweet_id}"


def _tweet(tweet: dict[str, Any]) -> Record:
    tweet_id = require_id(tweet.get("id"), "id")
    text = dig(tweet, "note_tweet", "text") or tweet.get("text")
    text = require_text(text, "text")
    references = tweet.get("referenced_tweets") or []
    replied_to = next((r.get("id") for r in references if r.get("type") == "replied_to"), None)
    quoted = next((r.get("id") for r in references if r.get("type") == "quoted"), None)
    retweet = any(r.get("type") == "retweeted" for r in references)
    metrics = tweet.get("public_metrics") or {}
    author = tweet.get("author_id") or dig(tweet, "author", "id")
    return Record(
        id=f"twitter:{tweet_id}",
        platform="twitter",
        text=text,
        created_at=tweet.get("created_at"),
        url=_status_url(tweet_id),
        parent_id=f"twitter:{replied_to}" if replied_to else None,
        author=author,
        meta=compact(
            {
                "lang": tweet.get("lang"),
                "conversation_id": tweet.get("conversation_id"),
                "retweet": retweet or None,
                "quoted_id": f"twitter:{quoted}" if quoted else None,
                "like_count": as_int(metrics.get("like_count")),
                "retweet_count": as_int(metrics.get("retweet_count")),
                "reply_count": as_int(metrics.get("reply_count")),
                "quote_count": as_int(metrics.get("quote_count")),
            }
        ),
    )


def _require_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRecord("not an object")
    return value


def _is_tweet(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and "id" in obj
        and "text" in obj
        and any(
            k in obj
            for k in ("author_id", "edit_history_tweet_ids", "public_metrics", "conversation_id")
        )
    )


def _sniff_v2(unit: Any, _mapping: Any) -> bool:
    if _is_tweet(unit):
        return True
    if not isinstance(unit, dict) or "data" not in unit:
        return False
    data = unit["data"]
    first = data[0] if isinstance(data, list) and data else data
    return _is_tweet(first) or (
        isinstance(first, dict) and {"id", "text"} <= first.keys() and "includes" in unit
    )


def _parse_v2(unit: Any, _mapping: Any) -> Iterator[Record]:
    if _is_tweet(unit):
        yield _tweet(unit)
        return
    if not isinstance(unit, dict) or "data" not in unit:
        raise BadRecord("not a Twitter API v2 response (needs `data`)")
    data = unit["data"]
    tweets = data if isinstance(data, list) else [data]
    yield from per_item(tweets, lambda tweet: [_tweet(_require_object(tweet))], "data")


register_reader(
    Reader(
        name="twitter-v2",
        description="X/Twitter API v2 JSON (data + includes.users), also twarc2 JSONL",
        containers=frozenset({"json", "jsonl"}),
        sniff=_sniff_v2,
        parse=_parse_v2,
    )
)

# Column names used by the common exporters, in order of preference.
_ID = ("id", "tweet_id", "id_str", "Tweet Id")
_TEXT = ("full_text", "text", "tweet", "rawContent", "renderedContent", "content", "Text")
_DATE = ("created_at", "date", "Datetime", "Created At")
_AUTHOR = ("author_id", "user_id", "user_id_str", "username", "screen_name", "user_screen_name")
_PARENT = ("in_reply_to_status_id", "in_reply_to_status_id_str", "inReplyToTweetId")
_TWITTER_ONLY = (
    "retweet_count",
    "retweets_count",
    "retweetCount",
    "favorite_count",
    "likes_count",
    "like_count",
    "likeCount",
    "conversation_id",
    "conversationId",
    "in_reply_to_status_id",
    "tweet",
    "tweet_id",
    "screen_name",
    "user_screen_name",
)


_SNSCRAPE_USER_ID = re.compile(r"""['"]id['"]:\s*(\d+)""")


def _snscrape_user(cell: Any) -> str | None:
    """snscrape writes the user as a dict repr; its numeric id is the stable author id."""
    match = _SNSCRAPE_USER_ID.search(cell) if isinstance(cell, str) else None
    return match.group(1) if match else None


def _sniff_csv(unit: Any, _mapping: Any) -> bool:
    if not isinstance(unit, dict):
        return False
    return (
        any(k in unit for k in _ID)
        and any(k in unit for k in _TEXT)
        and any(k in unit for k in _TWITTER_ONLY)
    )


def _parse_csv(row: Any, _mapping: Any) -> Iterator[Record]:
    if not _sniff_csv(row, None):
        raise BadRecord("not a tweet row (needs id, text and a Twitter column)")
    tweet_id = require_id(first_present(row, *_ID), "id")
    text = require_text(first_present(row, *_TEXT), "text")
    created = first_present(row, *_DATE)
    # twint splits the timestamp over date, time and timezone columns.
    if created and row.get("time") and len(str(created)) == 10:
        created = f"{created} {row['time']} {row.get('timezone') or ''}".strip()
    parent = first_present(row, *_PARENT)
    yield Record(
        id=f"twitter:{tweet_id}",
        platform="twitter",
        text=text,
        created_at=created,
        url=_status_url(tweet_id),
        parent_id=f"twitter:{str(parent).removesuffix('.0')}" if parent else None,
        author=first_present(row, *_AUTHOR) or _snscrape_user(row.get("user")),
        meta=compact(
            {
                "lang": first_present(row, "lang", "language"),
                "conversation_id": first_present(row, "conversation_id", "conversationId"),
                "like_count": as_int(
                    first_present(row, "like_count", "likes_count", "favorite_count", "likeCount")
                ),
                "retweet_count": as_int(
                    first_present(row, "retweet_count", "retweets_count", "retweetCount")
                ),
                "reply_count": as_int(
                    first_present(row, "reply_count", "replies_count", "replyCount")
                ),
            }
        ),
    )


register_reader(
    Reader(
        name="twitter-csv",
        description="X/Twitter CSV exports (twint, snscrape, API-to-CSV column names)",
        containers=frozenset({"csv"}),
        sniff=_sniff_csv,
        parse=_parse_csv,
    )
)
