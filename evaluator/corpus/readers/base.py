"""The reader interface, its registry, and small helpers the platform readers share.

A file is a *container* (JSONL lines, one JSON document, or CSV rows) of *units*: a JSONL line,
an element of a top-level JSON array (or the document itself), a CSV row. A reader recognises a
format from its first unit (`sniff`) and turns each unit into zero or more `Record`s (`parse`).
Readers raise `BadRecord` for a unit they cannot read; the pipeline reports it with file:line
and skips it (or stops, with --strict).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from evaluator.errors import InputError
from evaluator.registry import Registry

__all__ = [
    "Record",
    "BadRecord",
    "ColumnMapping",
    "Reader",
    "register_reader",
    "READERS",
    "per_item",
    "dig",
    "as_int",
    "first_present",
]

CONTAINERS = frozenset({"jsonl", "json", "csv"})


@dataclass(slots=True)
class Record:
    """What a reader extracted from one post, before clean-up.

    `author` is the raw author id; the pipeline hashes it and never writes it. `author_hash`
    is set only by readers of already-normalised corpora.
    """

    id: str
    platform: str
    text: str
    created_at: Any = None
    url: str | None = None
    parent_id: str | None = None
    author: Any = None
    author_hash: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


class BadRecord(ValueError):
    """A unit the reader cannot turn into posts (missing field, wrong type).

    `where` locates it inside a page, e.g. `items[3].replies[1]`.
    """

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which columns of a generic CSV/JSONL hold what (dotted paths reach into JSON objects)."""

    text: str
    id: str | None = None
    date: str | None = None
    author: str | None = None
    url: str | None = None
    platform: str = "other"
    meta: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reader:
    """One input format."""

    name: str
    description: str
    containers: frozenset[str]
    sniff: Callable[[Any, ColumnMapping | None], bool]
    #: Yields Records, and BadRecords for bad elements of a page (raises for a bad unit).
    parse: Callable[[Any, ColumnMapping | None], Iterable[Record | BadRecord]]
    #: False for formats only chosen by --format or by a column mapping.
    auto: bool = True


#: Corpus formats by `--format` name, in detection (insertion) order.
READERS: Registry[Reader] = Registry("format", error=InputError, field="--format", also=["auto"])


def register_reader(reader: Reader) -> Reader:
    """Add a reader (a team can register its own in a plugin, or before calling `ingest`)."""
    if not reader.containers <= CONTAINERS:
        raise ValueError(f"unknown container in {sorted(reader.containers)}")
    return READERS.register(reader.name, reader)


def per_item(
    items: Iterable[Any], parse_one: Callable[[Any], Iterable[Record | BadRecord]], label: str
) -> Iterator[Record | BadRecord]:
    """Parse each element of a page on its own: a bad element is yielded as a BadRecord
    located as `label[position]` (reported and skipped) instead of losing the whole page."""
    for position, item in enumerate(items, start=1):
        here = f"{label}[{position}]"
        try:
            for result in parse_one(item):
                if isinstance(result, BadRecord):
                    where = f"{here}.{result.where}" if result.where else here
                    result = BadRecord(result.message, where)
                yield result
        except BadRecord as exc:
            yield BadRecord(exc.message, f"{here}.{exc.where}" if exc.where else here)


def dig(obj: Any, *path: str | int) -> Any:
    """`obj[path[0]][path[1]]...`, or None as soon as a step is missing."""
    for step in path:
        if isinstance(obj, dict):
            obj = obj.get(step)
        elif isinstance(obj, list) and isinstance(step, int) and -len(obj) <= step < len(obj):
            obj = obj[step]
        else:
            return None
        if obj is None:
            return None
    return obj


def as_int(value: Any) -> int | None:
    """An int from an int, float or numeric string (CSV cells, `"5"` ratings), else None."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value == value else None  # NaN from pandas exports
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(float(text)) if text else None
        except ValueError:
            return None
    return None


def first_present(row: dict[str, Any], *keys: str) -> Any:
    """The value of the first key that is present and not empty."""
    for key in keys:
        value = row.get(key)
        if value is not None and value != "":
            return value
    return None


def require_text(value: Any, what: str) -> str:
    """The text of a post; BadRecord when it is missing or not a string."""
    if value is None:
        raise BadRecord(f"missing {what}")
    if not isinstance(value, str):
        raise BadRecord(f"{what} is {type(value).__name__}, expected a string")
    return value


def require_id(value: Any, what: str) -> str:
    if value is None or value == "":
        raise BadRecord(f"missing {what}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def compact(meta: dict[str, Any]) -> dict[str, Any]:
    """Drop empty meta values so every reader writes the same shape for the same facts."""
    return {k: v for k, v in meta.items() if v is not None and v != "" and v != []}
