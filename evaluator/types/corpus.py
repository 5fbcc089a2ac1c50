"""A normalised post: the unit of the corpus, whatever platform it came from."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Post", "PLATFORMS"]

#: Platforms the readers know; a generic CSV/JSONL may name any other.
PLATFORMS = (
    "reddit",
    "twitter",
    "bluesky",
    "youtube",
    "tiktok",
    "google_play",
    "app_store",
    "hackernews",
    "paper",
    "other",
)


class Post(BaseModel):
    """One post, comment or review. Authors are never stored, only a salted hash."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="platform:native id, unique in a corpus")
    platform: str
    created_at: str | None = Field(default=None, description="ISO date or datetime")
    text: str
    url: str | None = None
    parent_id: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    author_hash: str | None = None
