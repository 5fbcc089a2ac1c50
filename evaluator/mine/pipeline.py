"""The mine stage: corpus.jsonl → annotations.jsonl, one row per post, resumable.

Completed rows are appended to `OUT.partial.jsonl` (flushed and fsynced per batch). When every
post is done, OUT is written atomically in input order and the partial file is removed. A re-run
after an interruption (Ctrl-C, crash, rate-limit storm) skips the posts already in the partial
file, so it continues where it stopped; OUT itself is never half-written. The partial file starts
with a header naming the annotator, so rows of a different annotator or codebook are never mixed
in (use `restart=True` to discard them).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from evaluator import __version__
from evaluator.errors import ConfigError, InputError, ModelError
from evaluator.io import atomic_write
from evaluator.mine.base import ANNOTATORS, Annotator
from evaluator.types import Annotation, AnnotatorInfo, Codebook, MineReport, Post

__all__ = ["mine", "resolve_annotator", "read_posts", "select_posts", "partial_path"]

Progress = Callable[[int, int], None]

_HEADER_KEY = "mheval_partial"


def partial_path(out: Path) -> Path:
    """Where completed rows of an unfinished run are kept: `OUT.partial.jsonl` beside OUT."""
    return out.with_name(out.name + ".partial.jsonl")


def read_posts(path: str | Path) -> Iterator[Post]:
    """Posts of a normalised corpus (JSONL, optionally gzipped); a bad row names file and line."""
    from evaluator.corpus import read_corpus

    try:
        yield from read_corpus(path)
    except InputError as exc:
        if exc.field is None:
            raise
        raise exc.with_hint(
            "is this a normalised corpus? run `mheval corpus ingest` first"
        ) from None


def select_posts(
    path: str | Path, *, limit: int | None = None, sample: int | None = None, seed: int = 0
) -> list[Post]:
    """The posts to annotate, in corpus order: a seeded random `sample` (if given), then the
    first `limit`. Duplicate ids are an error: one id must mean one annotation."""
    posts: list[Post] = []
    seen: set[str] = set()
    for post in read_posts(path):
        if post.id in seen:
            raise InputError(f"duplicate post id {post.id!r}", file=path, field="id")
        seen.add(post.id)
        posts.append(post)
    if not posts:
        raise InputError("the corpus holds no posts", file=path)
    if sample is not None and sample < len(posts):
        keep = set(random.Random(seed).sample(range(len(posts)), sample))
        posts = [post for index, post in enumerate(posts) if index in keep]
    if limit is not None:
        posts = posts[:limit]
    return posts


def resolve_annotator(
    name: str,
    *,
    codebook: Codebook,
    cache_dir: Path | None = None,
    concurrency: int = 4,
    timeout: float = 60.0,
    max_retries: int = 4,
    backoff: float = 1.0,
) -> Annotator:
    """`local` (or any registered name) → that annotator; `PROVIDER:MODEL` → the LLM annotator.

    `cache_dir=None` disables the on-disk caches (LLM answers, the local annotator's refit
    weights).
    """
    import evaluator.mine.local  # noqa: F401  (registers "local")

    factory = ANNOTATORS.find(name)
    if factory is not None:
        return factory(codebook=codebook, cache_dir=cache_dir)
    if ":" not in name:
        raise ConfigError(
            f"unknown annotator {name!r}: use 'local' or PROVIDER:MODEL (e.g. openai:gpt-4.1-mini)",
            field="annotator",
        )
    from evaluator.llm import open_cache
    from evaluator.mine.llm import LLMAnnotator

    return LLMAnnotator(
        name,
        codebook=codebook,
        cache=open_cache(cache_dir),
        concurrency=concurrency,
        timeout=timeout,
        max_retries=max_retries,
        backoff=backoff,
    )


def _header(info: AnnotatorInfo) -> dict[str, Any]:
    return {_HEADER_KEY: 1, "annotator": info.model_dump(mode="json")}


def _load_partial(path: Path, info: AnnotatorInfo) -> dict[str, str]:
    """Rows already done, by id. A torn last line (crash mid-write) is cut off so appending
    continues on a clean line; rows of another annotator are refused."""
    raw = path.read_bytes()
    complete = raw[: raw.rfind(b"\n") + 1]
    if len(complete) != len(raw):
        with open(path, "r+b") as handle:
            handle.truncate(len(complete))
    lines = complete.decode("utf-8", errors="replace").splitlines()
    if not lines:
        return {}
    try:
        header = json.loads(lines[0])
    except json.JSONDecodeError:
        header = {}
    if not isinstance(header, dict) or _HEADER_KEY not in header:
        raise InputError(
            "not a partial file of `mheval mine`; delete it or pass --restart", file=path
        )
    if header.get("annotator") != info.model_dump(mode="json"):
        was = header.get("annotator") or {}
        raise ConfigError(
            f"an unfinished run with another annotator or codebook is in the way "
            f"({was.get('name')} {was.get('model') or ''} codebook {was.get('codebook_version')}); "
            "re-run it to finish, or pass --restart to discard it",
            file=path,
        )
    done: dict[str, str] = {}
    for line in lines[1:]:
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a damaged row is simply annotated again
        if isinstance(row, dict) and isinstance(row.get("id"), str):
            done[row["id"]] = line
    return done


def _append(handle, rows: list[str]) -> None:
    handle.write("".join(row + "\n" for row in rows))
    handle.flush()
    os.fsync(handle.fileno())


def _report(
    rows: list[Annotation],
    *,
    corpus: Path,
    out: Path,
    annotator: Annotator,
    annotated: int,
    resumed: int,
    started: float,
) -> MineReport:
    def distribution(values) -> dict[str, int]:
        return dict(Counter(values).most_common())

    relevant = [row for row in rows if row.relevant]
    stats = getattr(annotator, "stats", None)
    usage = getattr(annotator, "usage", None)
    return MineReport(
        tool_version=__version__,
        corpus=str(corpus),
        out=str(out),
        annotator=annotator.info,
        posts=len(rows),
        annotated=annotated,
        resumed=resumed,
        relevant=len(relevant),
        relevant_share=len(relevant) / len(rows) if rows else 0.0,
        errors=sum(1 for row in rows if row.error),
        crisis=sum(1 for row in rows if row.crisis),
        post_sentiment=distribution(row.post_sentiment for row in relevant if row.post_sentiment),
        conditions=distribution(label for row in relevant for label in row.conditions),
        perspectives=distribution(label for row in relevant for label in row.perspectives),
        values=distribution(label for row in relevant for label in row.values),
        products=distribution(
            impact.product for row in relevant for impact in row.impacts if impact.product
        ),
        quotes_repaired=getattr(stats, "quotes_repaired", None),
        impacts_dropped=getattr(stats, "impacts_dropped", None),
        labels_other=getattr(stats, "labels_other", None),
        usage=usage.report() if usage is not None else None,
        elapsed_seconds=round(time.monotonic() - started, 3),
    )


def mine(
    corpus: str | Path,
    out: str | Path,
    *,
    annotator: Annotator | str = "local",
    codebook: Codebook | str | Path,
    limit: int | None = None,
    sample: int | None = None,
    seed: int = 0,
    concurrency: int = 4,
    timeout: float = 60.0,
    max_retries: int = 4,
    cache_dir: Path | None = None,
    restart: bool = False,
    batch_size: int | None = None,
    progress: Progress | None = None,
) -> MineReport:
    """Annotate the corpus into `out` (JSONL, `.gz` for gzip), resuming an interrupted run.

    `annotator` is a name (`local`, `PROVIDER:MODEL`) or a ready Annotator; `codebook` a loaded
    Codebook or a path (`settings.codebook` is the configured one). `progress(done, total)` is
    called at the start and after every batch. Returns the summary of the whole output file.
    """
    from evaluator.codebook import load_codebook

    started = time.monotonic()
    corpus, out = Path(corpus), Path(out)
    for name, number in (("limit", limit), ("sample", sample), ("batch_size", batch_size)):
        if number is not None and number < 1:
            raise InputError(f"must be at least 1, got {number}", field=name)
    if out.resolve() == corpus.resolve():
        raise InputError("the output would overwrite the corpus", file=out)
    if not isinstance(codebook, Codebook):
        codebook = load_codebook(codebook)
    if isinstance(annotator, str):
        annotator = resolve_annotator(
            annotator,
            codebook=codebook,
            cache_dir=cache_dir,
            concurrency=concurrency,
            timeout=timeout,
            max_retries=max_retries,
        )
    posts = select_posts(corpus, limit=limit, sample=sample, seed=seed)

    partial = partial_path(out)
    if restart:
        partial.unlink(missing_ok=True)
    done = _load_partial(partial, annotator.info) if partial.exists() else {}
    selected_ids = {post.id for post in posts}
    resumed = len(selected_ids & done.keys())
    todo = [post for post in posts if post.id not in done]
    size = batch_size or getattr(annotator, "batch_size", None) or 32
    if progress:
        progress(resumed, len(posts))

    out.parent.mkdir(parents=True, exist_ok=True)
    on_batch = (lambda n: progress(resumed + n, len(posts))) if progress else None
    _annotate_into(partial, annotator, todo, done, size=size, on_batch=on_batch)

    with atomic_write(out) as handle:
        for post in posts:
            handle.write(done[post.id] + "\n")
    partial.unlink()
    rows = [Annotation.model_validate_json(done[post.id]) for post in posts]
    return _report(
        rows,
        corpus=corpus,
        out=out,
        annotator=annotator,
        annotated=len(todo),
        resumed=resumed,
        started=started,
    )


def _annotate_into(
    partial: Path,
    annotator: Annotator,
    todo: list[Post],
    done: dict[str, str],
    *,
    size: int,
    on_batch: Callable[[int], None] | None,
) -> None:
    """Annotate `todo` in batches, appending each batch's rows to `partial` (after the header,
    when it is new) and to `done`; `on_batch(posts annotated so far)` after each batch."""
    with open(partial, "a", encoding="utf-8") as handle:
        if not done and handle.tell() == 0:
            _append(handle, [json.dumps(_header(annotator.info))])
        for start in range(0, len(todo), size):
            batch = todo[start : start + size]
            rows = annotator.annotate(batch)
            if [row.id for row in rows] != [post.id for post in batch]:
                raise ModelError(
                    f"annotator {annotator.info.name!r} returned {len(rows)} rows for "
                    f"{len(batch)} posts, or in another order",
                    field="annotator",
                )
            lines = [row.model_dump_json() for row in rows]
            _append(handle, lines)
            done.update(zip((row.id for row in rows), lines, strict=True))
            if on_batch:
                on_batch(start + len(batch))
