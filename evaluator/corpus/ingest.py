"""The ingest pipeline: raw exports → one normalised, scrubbed, de-duplicated corpus JSONL.

Per post, in this order: normalise the text (HTML entities, invisible characters, line breaks),
drop deletion markers, scrub personal details, drop empty/short texts, filter by language,
drop repeated ids, drop repeated texts, hash the author, write. Every check looks at the text
as it will be written, which is what makes re-ingesting the output a no-op.

Memory: JSONL and CSV inputs are streamed; what grows with the input is the de-duplication
state, two 64-bit hashes per unique post (about 120 bytes each in Python sets).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from hashlib import blake2b
from pathlib import Path

from pydantic import ValidationError

from evaluator import __version__
from evaluator.corpus.authors import SALT_FILENAME, AuthorHasher
from evaluator.corpus.language import LanguageFilter
from evaluator.corpus.normalise import (
    dedup_key,
    is_deleted_marker,
    normalise_text,
    normalise_timestamp,
    safe_url,
)
from evaluator.corpus.readers import READERS, BadRecord, ColumnMapping, Reader, Record
from evaluator.corpus.scrub import SCRUB_KINDS, scrub_text
from evaluator.corpus.sources import (
    INPUT_SUFFIXES,
    detect_container,
    is_malformed,
    iter_units,
    sample_units,
)
from evaluator.errors import InputError, UnknownFormatError
from evaluator.io import atomic_write, iter_jsonl, validation_error_to_message
from evaluator.types import (
    DropCounts,
    IngestReport,
    InputSummary,
    PlatformCounts,
    Post,
    SkippedLine,
)

__all__ = ["ingest", "read_corpus", "resolve_inputs", "detect_format", "MAX_SKIPPED_SHOWN"]

#: How many skipped lines the report lists (all are counted).
MAX_SKIPPED_SHOWN = 100
_PROGRESS_EVERY = 10_000


def resolve_inputs(inputs: Iterable[str | Path]) -> list[Path]:
    """Files as given; folders expand to their data files (sorted, not recursive)."""
    paths: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file() and p.name.lower().removesuffix(".gz").endswith(INPUT_SUFFIXES)
            )
            if not found:
                raise InputError(
                    f"folder holds no {', '.join(INPUT_SUFFIXES)} files (gzipped or not)",
                    file=path,
                )
            paths.extend(found)
        elif not path.exists():
            raise InputError("file not found", file=path)
        else:
            paths.append(path)
    if not paths:
        raise InputError("no input files given")
    return paths


def detect_format(
    path: Path, fmt: str = "auto", mapping: ColumnMapping | None = None
) -> tuple[Reader, str]:
    """The reader for `path` and its container (`jsonl`, `json`, `csv`).

    Raises UnknownFormatError naming every format tried when nothing recognises the file.
    """
    container = detect_container(path)
    samples = sample_units(path, container)
    if fmt != "auto":
        reader = READERS.get(fmt)
        if reader.name == "generic" and mapping is None:
            raise InputError("--format generic needs --text-col", field="--text-col")
        if container not in reader.containers:
            raise InputError(
                f"format {fmt} reads {'/'.join(sorted(reader.containers))}, "
                f"but this file is {container.upper()}",
                file=path,
            )
        if samples and not reader.sniff(samples[0], mapping):
            raise InputError(
                f"the first record does not look like {fmt} ({reader.description})", file=path
            )
        return reader, container
    if not samples:
        raise InputError(
            f"no readable records ({container.upper()} with none decodable)", file=path
        )
    candidates = [r for r in READERS.values() if r.auto or mapping is not None]
    if mapping is not None:  # the user mapped columns: the generic reader comes first
        candidates.sort(key=lambda r: r.name != "generic")
    tried = []
    for reader in candidates:
        if container not in reader.containers:
            continue
        tried.append(reader.name)
        if reader.sniff(samples[0], mapping):
            return reader, container
    hint = "" if mapping else "; for another CSV/JSONL map its columns with --text-col"
    raise UnknownFormatError(
        f"unrecognised {container.upper()} format; tried: {', '.join(tried)}{hint}", file=path
    )


@dataclass
class _Skips:
    """Collects malformed units; raises at once when strict."""

    strict: bool
    report: IngestReport

    def __call__(self, path: Path, line: int | None, message: str) -> None:
        if self.strict:
            raise InputError(message, file=path, line=line)
        self.report.skipped_total += 1
        if len(self.report.skipped) < MAX_SKIPPED_SHOWN:
            self.report.skipped.append(SkippedLine(file=str(path), line=line, message=message))


def _records(
    path: Path,
    reader: Reader,
    container: str,
    mapping: ColumnMapping | None,
    skip: _Skips,
    summary: InputSummary,
) -> Iterator[Record]:
    for index, (line, unit) in enumerate(iter_units(path, container), start=1):
        malformed = is_malformed(unit)
        problems = [malformed] if malformed is not None else []
        if malformed is None:
            try:
                for item in reader.parse(unit, mapping):
                    if isinstance(item, BadRecord):
                        problems.append(str(item))
                    else:
                        yield item
            except BadRecord as exc:
                problems.append(str(exc))
            except (KeyError, TypeError, AttributeError) as exc:
                # Hand-edited exports put lists where objects belong and the like.
                problems.append(
                    f"unexpected structure for {reader.name} ({type(exc).__name__}: {exc})"
                )
        for problem in problems:
            if line is None:  # an element of a JSON document: name it by position
                problem = f"record {index}: {problem}"
            summary.skipped += 1
            skip(path, line, problem)


@dataclass(slots=True)
class _Tally:
    """What `ingest` counts per post and the de-duplication state, in plain counters (pydantic
    attribute writes cost microseconds per post)."""

    read: int = 0
    posts_in: Counter[str] = field(default_factory=Counter)
    posts_out: Counter[str] = field(default_factory=Counter)
    drops: Counter[str] = field(default_factory=Counter)
    scrubbed: Counter[str] = field(default_factory=Counter)
    seen_ids: set[int] = field(default_factory=set)
    seen_texts: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class _Cleaning:
    """The per-post clean-up of the module doc, up to (not including) de-duplication."""

    scrub: bool
    min_chars: int
    language_filter: LanguageFilter | None

    def clean(self, raw: str, drops: Counter[str]) -> tuple[str, dict[str, int] | None] | None:
        """The text as it will be written and its scrub counts, or None when the post is dropped
        (the reason counted in `drops`)."""
        text = normalise_text(raw)
        if not text:
            drops["empty"] += 1
            return None
        if is_deleted_marker(text):
            drops["deleted"] += 1
            return None
        scrubbed: dict[str, int] | None = None
        if self.scrub:
            text, scrubbed = scrub_text(text)
        if len(text) < self.min_chars:
            drops["short"] += 1
            return None
        if self.language_filter is not None and not self.language_filter.keeps(text):
            drops["language"] += 1
            return None
        return text, scrubbed


def _new_keys(record_id: str, text: str, tally: _Tally) -> tuple[int, int] | None:
    """The (id, text) hashes of a post seen for the first time, or None for a repeated id or
    text (counted). The caller records them once the post is written."""
    id_key = blake2b(record_id.encode("utf-8"), digest_size=8).digest()
    id_hash = int.from_bytes(id_key, "big")
    if id_hash in tally.seen_ids:
        tally.drops["duplicate_id"] += 1
        return None
    text_hash = dedup_key(text)
    if text_hash in tally.seen_texts:
        tally.drops["duplicate_text"] += 1
        return None
    return id_hash, text_hash


def _post_line(record: Record, text: str, hasher: AuthorHasher) -> str:
    """The corpus line of one post; raises ValidationError, or ValueError for a meta value JSON
    cannot hold."""
    post = Post(
        id=record.id,
        platform=record.platform,
        created_at=normalise_timestamp(record.created_at),
        text=text,
        url=safe_url(record.url),
        parent_id=record.parent_id,
        meta=record.meta,
        author_hash=record.author_hash or hasher(record.platform, record.author),
    )
    return post.model_dump_json()


def _write_posts(
    records: Iterable[Record],
    write: Callable[[str], object],
    *,
    cleaning: _Cleaning,
    hasher: AuthorHasher,
    tally: _Tally,
    skip: _Skips,
    path: Path,
    summary: InputSummary,
    on_progress: Callable[[int], None] | None,
) -> None:
    """Clean, de-duplicate and write the records of one input; count them in `tally` and in the
    input's `summary`. A post the Post model refuses is skipped like a malformed line."""
    read_before, written_before = tally.read, tally.posts_out.total()
    for record in records:
        tally.read += 1
        if on_progress is not None and tally.read % _PROGRESS_EVERY == 0:
            on_progress(tally.read)
        tally.posts_in[record.platform] += 1
        cleaned = cleaning.clean(record.text, tally.drops)
        if cleaned is None:
            continue
        text, scrubbed = cleaned
        keys = _new_keys(record.id, text, tally)
        if keys is None:
            continue
        try:
            line = _post_line(record, text, hasher)
        except ValidationError as exc:
            field_name, message = validation_error_to_message(exc)
            summary.skipped += 1
            skip(path, None, f"post {record.id}: {field_name}: {message}")
            continue
        except ValueError as exc:  # a meta value JSON cannot hold
            summary.skipped += 1
            skip(path, None, f"post {record.id}: {str(exc).splitlines()[0]}")
            continue
        tally.seen_ids.add(keys[0])
        tally.seen_texts.add(keys[1])
        write(line + "\n")
        tally.posts_out[record.platform] += 1
        if scrubbed:
            for kind, number in scrubbed.items():
                if number:
                    tally.scrubbed[kind] += number
    summary.records = tally.read - read_before
    summary.posts_out = tally.posts_out.total() - written_before


def _totals(report: IngestReport, tally: _Tally, *, scrub: bool, paths: list[Path]) -> None:
    """The report's totals from the tally; raises InputError when no post is left to write."""
    report.posts_in = tally.read
    report.posts_out = tally.posts_out.total()
    report.platforms = {
        name: PlatformCounts(posts_in=count, posts_out=tally.posts_out[name])
        for name, count in tally.posts_in.items()
    }
    report.dropped = DropCounts(**tally.drops)
    if scrub:
        report.scrubbed = {kind: tally.scrubbed[kind] for kind in SCRUB_KINDS}
    if report.posts_out == 0:
        raise InputError(
            f"no posts left to write ({tally.read} read, {report.dropped.total} dropped, "
            f"{report.skipped_total} lines skipped); nothing was written",
            file=paths[0] if len(paths) == 1 else None,
        )


def ingest(
    inputs: Iterable[str | Path],
    out: str | Path,
    *,
    fmt: str = "auto",
    mapping: ColumnMapping | None = None,
    languages: Iterable[str] | None = None,
    min_chars: int = 10,
    scrub: bool = True,
    strict: bool = False,
    author_salt: str | None = None,
    salt_file: str | Path | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Read every input, clean it up and write the corpus to `out` atomically (`.gz` → gzip).

    `author_salt` (from config) wins over `salt_file` (default: `.mheval-salt` beside `out`),
    which is created on first need. A malformed line is skipped and reported, or raises
    InputError with `strict`. Nothing is written when no post survives.
    """
    started = time.perf_counter()
    out = Path(out)
    paths = resolve_inputs(inputs)
    plan = [(path, *detect_format(path, fmt, mapping)) for path in paths]
    if min_chars < 0:
        raise InputError("must be 0 or more", field="--min-chars")
    language_filter = LanguageFilter(languages) if languages else None
    hasher = AuthorHasher(
        Path(salt_file) if salt_file else out.parent / SALT_FILENAME, configured_salt=author_salt
    )
    report = IngestReport(
        tool_version=__version__,
        output=str(out),
        scrub=scrub,
        min_chars=min_chars,
        languages=language_filter.languages if language_filter else None,
    )
    skip = _Skips(strict=strict, report=report)
    cleaning = _Cleaning(scrub=scrub, min_chars=min_chars, language_filter=language_filter)
    tally = _Tally()
    with atomic_write(out) as handle:
        for path, reader, container in plan:
            summary = InputSummary(path=str(path), format=reader.name)
            report.inputs.append(summary)
            _write_posts(
                _records(path, reader, container, mapping, skip, summary),
                handle.write,
                cleaning=cleaning,
                hasher=hasher,
                tally=tally,
                skip=skip,
                path=path,
                summary=summary,
                on_progress=on_progress,
            )
        _totals(report, tally, scrub=scrub, paths=paths)
    report.author_salt = hasher.source
    report.salt_file = str(hasher.salt_file) if hasher.source in ("file", "generated") else None
    report.elapsed_seconds = round(time.perf_counter() - started, 3)
    return report


def read_corpus(path: str | Path) -> Iterator[Post]:
    """Stream the posts of a normalised corpus (plain or `.gz`), validating each line.

    A line that is not valid JSON or not a Post raises InputError naming file, line and field.
    """
    for line, data in iter_jsonl(path, strict=True):
        try:
            yield Post.model_validate(data)
        except ValidationError as exc:
            field, message = validation_error_to_message(exc)
            raise InputError(message, file=path, line=line, field=field) from None
