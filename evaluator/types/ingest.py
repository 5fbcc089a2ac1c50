"""What `mheval corpus ingest` reports: counts in and out, what was dropped, scrubbed, skipped."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

__all__ = [
    "INGEST_FORMAT_VERSION",
    "SkippedLine",
    "InputSummary",
    "PlatformCounts",
    "DropCounts",
    "IngestReport",
]

INGEST_FORMAT_VERSION = 1

#: Where the salt for author hashes came from; `unused` when no input carried an author.
SaltSource = Literal["config", "file", "generated", "unused"]


class SkippedLine(BaseModel):
    """One malformed line or record that was skipped (kept for the first few only)."""

    model_config = ConfigDict(extra="forbid")

    file: str
    line: int | None = Field(default=None, description="1-based line (JSONL/CSV) or None")
    message: str


class InputSummary(BaseModel):
    """One input file: which reader read it and what came of it."""

    model_config = ConfigDict(extra="forbid")

    path: str
    format: str
    records: int = Field(0, description="records the reader produced")
    posts_out: int = 0
    skipped: int = Field(0, description="malformed lines or records skipped")


class PlatformCounts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    posts_in: int = 0
    posts_out: int = 0


class DropCounts(BaseModel):
    """Posts read but not written, by reason (each post is counted under its first reason)."""

    model_config = ConfigDict(extra="forbid")

    empty: int = 0
    deleted: int = Field(0, description="[deleted] / [removed] markers")
    short: int = Field(0, description="shorter than --min-chars after clean-up")
    language: int = Field(0, description="not in --lang")
    duplicate_id: int = Field(0, description="an id already written")
    duplicate_text: int = Field(0, description="same normalised text as a post already written")

    @computed_field
    @property
    def total(self) -> int:
        return (
            self.empty
            + self.deleted
            + self.short
            + self.language
            + self.duplicate_id
            + self.duplicate_text
        )


class IngestReport(BaseModel):
    """The outcome of one ingest run (printed as a table, or as JSON with --json)."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = INGEST_FORMAT_VERSION
    tool_version: str
    output: str
    inputs: list[InputSummary] = Field(default_factory=list)
    posts_in: int = 0
    posts_out: int = 0
    platforms: dict[str, PlatformCounts] = Field(default_factory=dict)
    dropped: DropCounts = Field(default_factory=DropCounts)
    scrub: bool = True
    scrubbed: dict[str, int] = Field(
        default_factory=dict, description="placeholders inserted, by kind (email, phone, ...)"
    )
    min_chars: int = 0
    languages: list[str] | None = None
    skipped_total: int = 0
    skipped: list[SkippedLine] = Field(
        default_factory=list, description="the first malformed lines (see skipped_total)"
    )
    author_salt: SaltSource = "unused"
    salt_file: str | None = None
    elapsed_seconds: float = 0.0

    @computed_field
    @property
    def posts_per_second(self) -> float:
        """Throughput over posts read (before any were dropped)."""
        if self.elapsed_seconds <= 0:
            return 0.0
        return round(self.posts_in / self.elapsed_seconds, 1)
