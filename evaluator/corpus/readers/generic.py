"""Any CSV or JSONL, given a column mapping (--text-col, --id-col, --date-col, ...).

Only mapped columns are read: unmapped ones may hold names or other personal data, so they are
not copied into `meta` unless named with --meta-col.
"""

from __future__ import annotations

from collections.abc import Iterator
from hashlib import blake2b
from typing import Any

from evaluator.corpus.readers.base import (
    BadRecord,
    ColumnMapping,
    Reader,
    Record,
    compact,
    register_reader,
    require_id,
    require_text,
)

__all__: list[str] = []


def _column(row: Any, path: str) -> Any:
    """A column, or a dotted path into nested JSON (`data.body`)."""
    if path in row:
        return row[path]
    value = row
    for step in path.split("."):
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    return value


def _sniff(unit: Any, mapping: ColumnMapping | None) -> bool:
    return (
        mapping is not None and isinstance(unit, dict) and _column(unit, mapping.text) is not None
    )


def _parse(unit: Any, mapping: ColumnMapping | None) -> Iterator[Record]:
    if mapping is None:
        raise BadRecord("the generic format needs --text-col")
    if not isinstance(unit, dict):
        raise BadRecord("record is not an object")
    text = require_text(_column(unit, mapping.text), f"column {mapping.text!r}")
    platform = mapping.platform
    if mapping.id:
        native = require_id(_column(unit, mapping.id), f"column {mapping.id!r}")
    else:
        # Without an id column the text is the identity; duplicates collapse in dedup anyway.
        native = blake2b(text.encode("utf-8"), digest_size=8).hexdigest()
    post_id = native if native.startswith(f"{platform}:") else f"{platform}:{native}"
    url = _column(unit, mapping.url) if mapping.url else None
    yield Record(
        id=post_id,
        platform=platform,
        text=text,
        created_at=_column(unit, mapping.date) if mapping.date else None,
        url=url if isinstance(url, str) else None,
        author=_column(unit, mapping.author) if mapping.author else None,
        meta=compact({name: _column(unit, name) for name in mapping.meta}),
    )


register_reader(
    Reader(
        name="generic",
        description="any CSV/JSONL with --text-col (and --id-col, --date-col, --platform ...)",
        containers=frozenset({"csv", "jsonl", "json"}),
        sniff=_sniff,
        parse=_parse,
        auto=False,
    )
)
