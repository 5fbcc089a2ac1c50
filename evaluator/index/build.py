"""Build (or update) the corpus index from annotations + corpus.

Every impact of a relevant annotation becomes one record: its verbatim quote (embedded), the
post around it (context), and its labels. Record ids are content hashes, so a re-run adds only
new or changed impacts and deletes removed ones.

Crash safety: the manifest is the commit point.
- Incremental build (same model): new records are added with `gen = G+1`; queries of the
  committed index filter `gen <= G` and keep only ids the manifest lists, so half-added records
  are invisible. The manifest is written last (atomically); only then are removed records deleted.
- Full build (first build, `--rebuild`, other embedding model): everything goes into a fresh
  collection; the manifest then points at it, and the old collection is dropped.
A build that dies leaves the previous manifest, and with it the previous index, in force; the
next build removes its leftovers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from evaluator import __version__
from evaluator.config import Settings
from evaluator.embeddings import NpzCache, model_info, text_hash
from evaluator.errors import CorpusIndexError, InputError
from evaluator.index.embeddings import build_embedder
from evaluator.index.store import VOICES_PREFIX, VectorStore
from evaluator.io import file_sha256, iter_jsonl, validation_error_to_message
from evaluator.types import Annotation, Post
from evaluator.types.index import IndexBuildReport, IndexManifest

__all__ = [
    "IndexItem",
    "load_items",
    "build_index",
    "resolve_store",
    "index_status",
    "write_voice_embeddings",
]

_CONTEXT_CHARS = 240
_CHUNK = 256


@dataclass(frozen=True)
class IndexItem:
    """One user voice to index: `rid` is the content hash that serves as the Chroma id."""

    key: str
    rid: str
    quote: str
    metadata: dict[str, Any]


def _context(text: str, quote: str) -> str:
    """The post around the quote, so a reader sees what the words answered."""
    at = text.find(quote)
    if at < 0:
        return text[: 2 * _CONTEXT_CHARS + len(quote)]
    start = max(0, at - _CONTEXT_CHARS)
    end = min(len(text), at + len(quote) + _CONTEXT_CHARS)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def _read_annotations(path: Path) -> tuple[list[Annotation], str]:
    annotations: list[Annotation] = []
    versions: Counter[str] = Counter()
    for line, row in iter_jsonl(path):
        try:
            annotation = Annotation.model_validate(row)
        except ValidationError as exc:
            field, message = validation_error_to_message(exc)
            raise InputError(message, file=path, line=line, field=field) from None
        if annotation.annotator is not None:
            versions[annotation.annotator.codebook_version] += 1
        if annotation.relevant and annotation.error is None and annotation.impacts:
            annotations.append(annotation)
    codebook_version = versions.most_common(1)[0][0] if versions else "unknown"
    return annotations, codebook_version


def _read_posts(path: Path, wanted: set[str]) -> dict[str, Post]:
    posts: dict[str, Post] = {}
    for line, row in iter_jsonl(path):
        if not isinstance(row, dict) or row.get("id") not in wanted:
            continue
        try:
            posts[row["id"]] = Post.model_validate(row)
        except ValidationError as exc:
            field, message = validation_error_to_message(exc)
            raise InputError(message, file=path, line=line, field=field) from None
    return posts


def load_items(annotations: Path, corpus: Path) -> tuple[list[IndexItem], str]:
    """The voices to index (one per distinct impact quote of a relevant post) and the codebook
    version the annotations were made with. A post missing from the corpus is still indexed,
    with its quote as context and the platform taken from its id."""
    relevant, codebook_version = _read_annotations(annotations)
    posts = _read_posts(corpus, {a.id for a in relevant})
    items: list[IndexItem] = []
    for annotation in relevant:
        post = posts.get(annotation.id)
        text = post.text if post else ""
        seen: set[str] = set()
        for number, impact in enumerate(annotation.impacts):
            quote = impact.supporting_quote.strip()
            if not quote or quote in seen:
                continue
            seen.add(quote)
            metadata: dict[str, Any] = {
                "post_id": annotation.id,
                "platform": post.platform if post else annotation.id.split(":", 1)[0],
                "created_at": (post.created_at if post else None) or "",
                "product": impact.product or "",
                "sentiment": impact.sentiment,
                "condition": impact.condition,
                "perspective": impact.perspective,
                "value": impact.value,
                "crisis": annotation.crisis,
                "confidence": float(impact.confidence),
                "context": _context(text, quote) if text else quote,
            }
            key = f"{annotation.id}#{number}"
            payload = json.dumps([key, quote, metadata], sort_keys=True, ensure_ascii=False)
            rid = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
            items.append(IndexItem(key=key, rid=rid, quote=quote, metadata=metadata))
    if not items:
        raise InputError(
            "no relevant impacts to index (is this the output of `mheval mine`?)", file=annotations
        )
    return items, codebook_version


def write_voice_embeddings(settings: Settings, out: Path | None = None) -> tuple[int, int]:
    """Write the vectors of every voice of `settings.annotations` to `out` (default:
    `settings.voice_embeddings`): the maintainer's step after re-mining, so that a first index
    build encodes nothing. Returns (voices written, of which newly encoded)."""
    items, _ = load_items(settings.annotations, settings.corpus)
    quotes = sorted({item.quote for item in items})
    embedder, _, disk = build_embedder(settings.cache_dir / "embeddings", settings.voice_embeddings)
    vectors, reused = embedder.encode_counted(quotes)
    disk.close()
    shipped = {text_hash(quote): vector for quote, vector in zip(quotes, vectors, strict=True)}
    NpzCache.write(out or settings.voice_embeddings, shipped, embedder.info)
    return len(quotes), len(quotes) - reused


def resolve_store(
    settings: Settings, *, path: Path | None = None, chroma_url: str | None = None
) -> VectorStore:
    """An explicit --chroma-url wins, then an explicit --path (embedded), then the config."""
    url = chroma_url or (None if path is not None else settings.chroma_url)
    return VectorStore.connect(path=path or settings.index_folder(), url=url)


def _progress(enabled: bool):
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    )


def build_index(
    settings: Settings,
    *,
    corpus: Path | None = None,
    annotations: Path | None = None,
    path: Path | None = None,
    chroma_url: str | None = None,
    rebuild: bool = False,
    progress: bool = False,
    on_start: Callable[[int, int], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> IndexBuildReport:
    """Index the impacts of `annotations` (default: settings); see the module doc for safety.

    `on_start(to_add, to_encode)` runs before any voice is added: how many voices go into the
    index, and how many of them the shipped vectors lack (for notices). `on_notice(line)` hears
    what the build did besides indexing (an unreadable index moved aside); the library prints
    nothing itself.
    """
    started = time.perf_counter()
    corpus = Path(corpus or settings.corpus).resolve()
    annotations = Path(annotations or settings.annotations).resolve()
    items, codebook_version = load_items(annotations, corpus)
    store = resolve_store(settings, path=path, chroma_url=chroma_url)
    with _build_lock(store, settings.cache_dir):
        return _build(settings, store, items, codebook_version, corpus, annotations, rebuild,
                      progress, started, on_start, on_notice)  # fmt: skip


@contextlib.contextmanager
def _build_lock(store: VectorStore, cache_dir: Path) -> Iterator[None]:
    """One build at a time per embedded index (e.g. parallel CI jobs auto-building on first use):
    the second waits, then finds the index built and has nothing to do. The lock file lives in
    the cache folder, not beside the index (which may be moved aside). A server has no lock."""
    if store.backend != "embedded":
        yield
        return
    import fcntl

    folder = cache_dir / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(str(store.path.resolve()).encode()).hexdigest()[:16]
    with open(folder / f"index-{key}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(
    settings: Settings,
    store: VectorStore,
    items: list[IndexItem],
    codebook_version: str,
    corpus: Path,
    annotations: Path,
    rebuild: bool,
    progress: bool,
    started: float,
    on_start: Callable[[int, int], None] | None,
    on_notice: Callable[[str], None] | None,
) -> IndexBuildReport:
    """One build, under the lock: the steps of the module doc, the manifest written last."""
    model = model_info()
    previous, existing = _read_previous(store, rebuild, on_notice)
    target = _target(previous, existing, model.hash, rebuild)
    _clear_leftovers(store, target, existing)

    desired = {item.rid: item for item in items}
    to_add = [item for rid, item in desired.items() if rid not in target.live]
    to_remove = sorted(target.live - desired.keys())
    removed = len(set(previous.items.values()) - desired.keys()) if previous else 0
    sources = {
        "corpus": str(corpus),
        "annotations": str(annotations),
        "annotations_sha256": file_sha256(annotations),
    }
    if (
        not target.full
        and not to_add
        and not to_remove
        and previous.codebook_version == codebook_version
        and previous.sources == sources
    ):
        store.close()
        return _report(store, previous, 0, 0, len(desired), 0, 0, False, started)

    encoded, cached = _add_voices(
        store, target, to_add, settings, progress=progress, on_start=on_start
    )
    conditions = Counter(item.metadata["condition"] for item in items)
    manifest = IndexManifest(
        tool_version=__version__,
        embedding_model=model,
        codebook_version=codebook_version,
        collection=target.collection,
        generation=target.generation,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        count=len(desired),
        conditions=dict(sorted(conditions.items())),
        sources=sources,
        items={item.key: item.rid for item in items},
    )
    store.write_manifest(manifest)
    # Committed: what follows is clean-up, which the next build redoes if it is interrupted.
    if target.full and previous is not None and previous.collection in existing:
        store.drop_collection(previous.collection)
    elif not target.full:
        store.delete(target.collection, to_remove)
    report = _report(
        store,
        manifest,
        len(to_add),
        removed,
        len(desired) - len(to_add),
        encoded,
        cached,
        target.full,
        started,
    )
    store.close()
    return report


def _read_previous(
    store: VectorStore, rebuild: bool, on_notice: Callable[[str], None] | None
) -> tuple[IndexManifest | None, list[str]]:
    """The committed manifest and the voice collections present. With `rebuild`, an unreadable
    manifest counts as none, and an unreadable embedded database is moved aside (kept for
    inspection) so the build starts afresh."""
    try:
        previous = store.read_manifest()
    except CorpusIndexError:
        if not rebuild:
            raise
        previous = None
    try:
        return previous, store.voice_collections()
    except CorpusIndexError:
        if not (rebuild and store.backend == "embedded" and store.path.is_dir()):
            raise
        store.close()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        store.path.rename(store.path.with_name(f"{store.path.name}.corrupt-{stamp}"))
        if on_notice is not None:
            on_notice(f"unreadable index moved to {store.path.name}.corrupt-{stamp}")
        return None, store.voice_collections()


@dataclass(frozen=True)
class _Target:
    """Where a build writes: a fresh collection (a full build) or the committed one."""

    full: bool
    generation: int
    collection: str
    keep: frozenset[str]  # the collections that are not leftovers of an interrupted build
    live: frozenset[str]  # record ids of the committed index that stay in `collection`


def _target(
    previous: IndexManifest | None, existing: list[str], model_hash: str, rebuild: bool
) -> _Target:
    """A full build for `rebuild`, a first build, another embedding model or a missing
    collection; else an incremental one into the committed collection."""
    generation = previous.generation + 1 if previous else 1
    if (
        rebuild
        or previous is None
        or previous.embedding_model.hash != model_hash
        or previous.collection not in existing
    ):
        keep = frozenset({previous.collection} if previous else ())
        return _Target(True, generation, f"{VOICES_PREFIX}{generation}", keep, frozenset())
    return _Target(
        False,
        generation,
        previous.collection,
        frozenset({previous.collection}),
        frozenset(previous.items.values()),
    )


def _clear_leftovers(store: VectorStore, target: _Target, existing: list[str]) -> None:
    """Remove what an interrupted build left (staging collections, records the manifest lacks)
    and make the collection the build writes into."""
    for name in existing:
        if name not in target.keep:
            store.drop_collection(name)
    if target.full:
        store.create_collection(target.collection)
    else:
        store.delete(target.collection, sorted(store.ids(target.collection) - target.live))


def _add_voices(
    store: VectorStore,
    target: _Target,
    to_add: list[IndexItem],
    settings: Settings,
    *,
    progress: bool,
    on_start: Callable[[int, int], None] | None,
) -> tuple[int, int]:
    """Encode the new voices (the shipped vectors and the cache first) and add them in chunks
    as records of `target.generation`; returns (encoded, from cache)."""
    embedder, voices, disk = build_embedder(
        settings.cache_dir / "embeddings", settings.voice_embeddings
    )
    if on_start is not None:
        lacking = sum(text_hash(item.quote) not in voices for item in to_add)
        on_start(len(to_add), lacking)
    encoded = cached = 0
    with _progress(progress and bool(to_add)) as bar:
        task = bar.add_task("indexing user voices", total=len(to_add))
        for start in range(0, len(to_add), _CHUNK):
            chunk = to_add[start : start + _CHUNK]
            vectors, from_cache = embedder.encode_counted([item.quote for item in chunk])
            cached += from_cache
            encoded += len(chunk) - from_cache
            store.add(
                target.collection,
                [item.rid for item in chunk],
                vectors,
                [item.quote for item in chunk],
                [{**item.metadata, "gen": target.generation} for item in chunk],
            )
            bar.advance(task, len(chunk))
    disk.close()
    return encoded, cached


def _report(
    store: VectorStore,
    manifest: IndexManifest,
    added: int,
    removed: int,
    unchanged: int,
    encoded: int,
    cached: int,
    full: bool,
    started: float,
) -> IndexBuildReport:
    return IndexBuildReport(
        location=store.location,
        backend=store.backend,
        count=manifest.count,
        added=added,
        removed=removed,
        unchanged=unchanged,
        encoded=encoded,
        cached=cached,
        full_rebuild=full,
        generation=manifest.generation,
        seconds=round(time.perf_counter() - started, 3),
        embedding_model=manifest.embedding_model.name,
        codebook_version=manifest.codebook_version,
    )


def index_status(
    settings: Settings, *, path: Path | None = None, chroma_url: str | None = None
) -> dict[str, Any]:
    """What is there: counts, model (and whether it matches the installed one), codebook version,
    build time, size on disk, voices per condition. A missing index is a `CorpusIndexError`."""
    store = resolve_store(settings, path=path, chroma_url=chroma_url)
    try:
        manifest = store.read_manifest()
        if manifest is None:
            raise CorpusIndexError(
                "index not found; build it with `mheval index build`", file=store.location
            )
        stored = store.count(manifest.collection)
        current = model_info()
        return {
            "location": store.location,
            "backend": store.backend,
            "count": manifest.count,
            "records": stored,
            "embedding_model": manifest.embedding_model.name,
            "embedding_model_hash": manifest.embedding_model.hash,
            "model_matches": manifest.embedding_model.hash == current.hash,
            "codebook_version": manifest.codebook_version,
            "built_at": manifest.built_at,
            "generation": manifest.generation,
            "tool_version": manifest.tool_version,
            "size_bytes": store.size_bytes(),
            "conditions": manifest.conditions,
            "sources": manifest.sources,
        }
    finally:
        store.close()
