"""Open an input file as a stream of units: JSONL lines, JSON array elements, or CSV rows.

JSONL and CSV are read line by line (constant memory); a JSON document is parsed whole, as
document formats (Reddit listings, API responses) cannot be split without a streaming parser.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from evaluator import io
from evaluator.errors import InputError
from evaluator.io import open_text

try:  # orjson parses JSONL several times faster; the stdlib is the fallback.
    import orjson

    _loads: Callable[[str], Any] = orjson.loads
except ImportError:  # pragma: no cover - orjson ships with chromadb
    _loads = json.loads

__all__ = [
    "Unit",
    "detect_container",
    "iter_units",
    "sample_units",
    "is_malformed",
    "INPUT_SUFFIXES",
]

#: Files picked up when an input is a folder.
INPUT_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".tsv")

# CSV cells hold whole posts; the default limit (128 KiB) is too small for long ones.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

#: (line, value) or (line, error message) for a unit that could not be decoded.
Unit = tuple[int | None, Any]


class _Malformed:
    """A unit that could not be decoded; carries the message."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def is_malformed(value: Any) -> str | None:
    return value.message if isinstance(value, _Malformed) else None


def _base_suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def detect_container(path: Path) -> str:
    """`jsonl`, `json` or `csv`, from the first bytes of the file (the suffix only breaks ties).

    A file whose first non-blank line is a complete JSON object is JSONL (a one-line JSON
    document is then simply a one-unit JSONL file); other text starting with `{` or `[` is a
    JSON document; anything else is CSV.
    """
    with open_text(path) as handle:
        lines: list[str] = []
        for _, line in io.bounded_lines(handle, io.MAX_JSONL_LINE_CHARS):
            if line is None:
                if not lines:
                    raise InputError(
                        f"first line longer than {io.MAX_JSONL_LINE_CHARS:,} characters",
                        file=path,
                        line=1,
                    )
                break
            if line.strip():
                lines.append(line)
                if len(lines) == 2:
                    break
    if not lines:
        raise InputError("file is empty", file=path)
    first = lines[0].lstrip()
    if first.startswith(("{", "[")):
        for line in lines:
            try:
                value = _loads(line)
            except ValueError:
                continue
            # A one-line array is a JSON document: its elements are the units.
            return "jsonl" if isinstance(value, dict) else "json"
        return "json"
    if _base_suffix(path) in (".jsonl", ".ndjson", ".json"):
        return "jsonl"  # every line malformed: let the JSONL reader report them
    return "csv"


def _iter_jsonl(path: Path) -> Iterator[Unit]:
    with open_text(path) as handle:
        for number, line in io.bounded_lines(handle, io.MAX_JSONL_LINE_CHARS):
            if line is None:
                yield number, _Malformed(f"line longer than {io.MAX_JSONL_LINE_CHARS:,} characters")
                continue
            if not line.strip():
                continue
            try:
                value = _loads(line)
            except ValueError as exc:
                message = str(exc).split(":")[0] if str(exc) else "invalid JSON"
                yield number, _Malformed(f"malformed JSON ({message})")
                continue
            except RecursionError:  # the stdlib fallback
                yield number, _Malformed("malformed JSON (nested too deeply)")
                continue
            if line.count("{") + line.count("[") > io.MAX_JSON_DEPTH:
                try:
                    io.check_depth(value)
                except InputError as exc:
                    yield number, _Malformed(exc.message)
                    continue
            yield number, value


def _iter_json(path: Path) -> Iterator[Unit]:
    document = io.read_json(path)
    if isinstance(document, list):
        for element in document:
            yield None, element
    else:
        yield None, document


def _iter_csv(path: Path) -> Iterator[Unit]:
    delimiter = "\t" if _base_suffix(path) == ".tsv" else ","
    with open_text(path) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"malformed CSV header ({exc})", file=path, line=1) from None
        header = [name.strip() for name in header]
        width = len(header)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield reader.line_num, _Malformed(f"malformed CSV ({exc})")
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != width:
                yield (
                    reader.line_num,
                    _Malformed(f"row has {len(row)} fields, the header has {width}"),
                )
                continue
            yield reader.line_num, dict(zip(header, row, strict=True))


def iter_units(path: Path, container: str) -> Iterator[Unit]:
    """Every unit of the file, in order; undecodable ones as malformed markers."""
    if container == "jsonl":
        return _iter_jsonl(path)
    if container == "json":
        return _iter_json(path)
    return _iter_csv(path)


def sample_units(path: Path, container: str, limit: int = 5) -> list[Any]:
    """The first few decodable units, for format detection (a JSON document is parsed again
    when read: documents are the small formats)."""
    units = iter_units(path, container)
    found: list[Any] = []
    for _, value in units:
        if is_malformed(value) is None:
            found.append(value)
            if len(found) >= limit:
                break
    return found
