"""Retrieval of user voices: what the scorer cites next to a verdict, and what `index query` shows.

`Retriever.open` checks the index before any query (present, readable, same embedding model)
and builds it from the shipped corpus the first time if it is missing.

Voices less similar to the query than `settings.voice_min_similarity` are never returned: the
nearest voice under a narrow label filter can be unrelated (cosine 0.05), and quoting it as
"what users say" would mislead. `info()` counts the queries that nothing passed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from evaluator.config import Settings
from evaluator.embeddings import Embedder, model_info
from evaluator.errors import CorpusIndexError
from evaluator.index.build import build_index, resolve_store
from evaluator.index.store import Hit, VectorStore
from evaluator.io import file_sha256
from evaluator.types import IndexInfo, UserVoice
from evaluator.types.index import IndexManifest

__all__ = ["Retriever", "mmr_select", "estimate_build_seconds"]

# Measured on the 2-core dev machine (BENCHMARKS.md, "Corpus index" and "First run"); used only
# for the notice.
_ENCODE_PER_SECOND = 45.0
_INSERT_PER_SECOND = 1000.0
_MODEL_LOAD_SECONDS = 10.0


def estimate_build_seconds(items: int, to_encode: int) -> int:
    """Seconds to index `items` voices, of which `to_encode` have no shipped vector."""
    encoding = _MODEL_LOAD_SECONDS + to_encode / _ENCODE_PER_SECOND if to_encode else 0.0
    return math.ceil(items / _INSERT_PER_SECOND + encoding)


def mmr_select(
    query: np.ndarray,
    candidates: np.ndarray,
    n: int,
    *,
    lambda_mult: float = 0.5,
    selected: np.ndarray | None = None,
) -> list[int]:
    """Maximal marginal relevance: indices of `n` candidates, each maximising
    lambda * sim(query, c) - (1 - lambda) * max sim(c, already chosen). Vectors are unit-length,
    so dot products are cosine similarities. `selected` are vectors chosen earlier (they count
    as already chosen but are not returned)."""
    if n <= 0 or len(candidates) == 0:
        return []
    relevance = candidates @ query
    redundancy = np.full(len(candidates), -np.inf, dtype=np.float32)
    if selected is not None and len(selected):
        redundancy = (candidates @ selected.T).max(axis=1)
    chosen: list[int] = []
    available = np.ones(len(candidates), dtype=bool)
    for _ in range(min(n, len(candidates))):
        penalty = np.where(np.isfinite(redundancy), redundancy, 0.0)
        score = lambda_mult * relevance - (1.0 - lambda_mult) * penalty
        score = np.where(available, score, -np.inf)
        best = int(np.argmax(score))
        chosen.append(best)
        available[best] = False
        redundancy = np.maximum(redundancy, candidates @ candidates[best])
    return chosen


def _where(generation: int | None, fields: dict[str, Sequence[str]]) -> dict[str, Any] | None:
    """Chroma filter: OR within a field ($in), AND across fields; with `generation`, never a
    record newer than the committed build (staging records of an interrupted build)."""
    clauses: list[dict[str, Any]] = []
    if generation is not None:
        clauses.append({"gen": {"$lte": generation}})
    for field, values in fields.items():
        values = list(dict.fromkeys(v for v in values if v))
        if len(values) == 1:
            clauses.append({field: values[0]})
        elif values:
            clauses.append({field: {"$in": values}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _voice(hit: Hit) -> UserVoice:
    meta = hit.metadata
    return UserVoice(
        id=str(meta.get("post_id", hit.id)),
        quote=hit.document,
        condition=meta.get("condition") or None,
        sentiment=meta.get("sentiment") or None,
        perspective=meta.get("perspective") or None,
        value=meta.get("value") or None,
        platform=meta.get("platform") or None,
        similarity=round(max(-1.0, min(1.0, hit.similarity)), 4),
    )


def _annotations_changed(manifest, settings: Settings) -> bool:
    """True when the index was built from the configured annotations file and it changed since."""
    recorded = manifest.sources.get("annotations_sha256")
    same_file = manifest.sources.get("annotations") == str(settings.annotations)
    if not (recorded and same_file and settings.annotations.is_file()):
        return False
    return file_sha256(settings.annotations) != recorded


class Retriever:
    """Query the committed index. Open once per process; queries then take milliseconds."""

    def __init__(
        self,
        store: VectorStore,
        manifest: IndexManifest,
        embedder: Embedder,
        *,
        min_similarity: float = -1.0,
    ) -> None:
        self.store = store
        self.manifest = manifest
        self.embedder = embedder
        self.min_similarity = min_similarity
        self._queries = 0
        self._below_floor = 0  # queries with candidates, none as similar as min_similarity
        self._live = set(manifest.items.values())
        # Records outside the manifest (clean-up of an interrupted build still pending) can take
        # result slots; fetch that many more so filtering them out never shortens a result.
        self._slack = max(0, store.count(manifest.collection) - manifest.count)

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        auto_build: bool = True,
        progress: bool = False,
        on_notice: Callable[[str], None] | None = None,
    ) -> Retriever:
        """Open the index named by `settings` (index_path, or chroma_url).

        A missing index is built from `settings.annotations` + `settings.corpus` when
        `auto_build` and those files exist, and an index older than the annotations is updated;
        `on_notice(line)` hears that it happens (a build takes minutes) and what the build
        noticed, `progress` shows the build's bar. The library prints nothing itself. Otherwise,
        and when the index is corrupt, built with another embedding model, or the server is
        unreachable, raises `CorpusIndexError`.
        """
        notify = on_notice or (lambda line: None)
        store = resolve_store(settings)
        manifest = store.read_manifest()
        if manifest is None:
            if not auto_build or not settings.annotations.is_file():
                hint = (
                    f"; no annotations at {settings.annotations} to build it from"
                    if auto_build
                    else ""
                )
                raise CorpusIndexError(
                    f"index not found{hint}; build it with `mheval index build`",
                    file=store.location,
                )

            def starting(items: int, to_encode: int) -> None:
                notify(
                    f"index not found at {store.location}; building it from the shipped corpus "
                    f"(once, ~{estimate_build_seconds(items, to_encode)} s)"
                )

            build_index(settings, progress=progress, on_start=starting, on_notice=on_notice)
            manifest = store.read_manifest()
            if manifest is None:  # pragma: no cover - build_index writes it or raises
                raise CorpusIndexError("index build left no manifest", file=store.location)
        elif auto_build and _annotations_changed(manifest, settings):
            notify(
                f"index at {store.location} is older than {settings.annotations}; "
                "updating it (only new or changed voices are encoded)"
            )
            build_index(settings, progress=progress, on_notice=on_notice)
            manifest = store.read_manifest() or manifest
        current = model_info()
        if manifest.embedding_model.hash != current.hash:
            raise CorpusIndexError(
                f"index was built with embedding model {manifest.embedding_model.name} "
                f"({manifest.embedding_model.hash}) but the installed model is {current.name} "
                f"({current.hash}); rebuild with `mheval index build --rebuild`",
                file=store.location,
            )
        count = store.count(manifest.collection)
        if count < manifest.count:
            raise CorpusIndexError(
                f"corrupt index: manifest lists {manifest.count} voices but the collection holds "
                f"{count}; rebuild with `mheval index build --rebuild`",
                file=store.location,
            )
        # Queries are encoded in memory (~10 ms each); the disk cache serves builds.
        return cls(store, manifest, Embedder(), min_similarity=settings.voice_min_similarity)

    # --- queries ------------------------------------------------------------------------

    def _fetch(self, vector: np.ndarray, n: int, fields: dict[str, Sequence[str]]) -> list[Hit]:
        """The `n` nearest live records under `fields`, all of them (floor not applied)."""
        hits = self.store.query(
            self.manifest.collection,
            vector,
            min(n + self._slack, max(1, self.manifest.count + self._slack)),
            # A metadata filter makes Chroma scan (13k voices: +50 ms a query), so the staging
            # guard is added only when the collection holds records the manifest does not list.
            _where(self.manifest.generation if self._slack else None, fields),
        )
        return [hit for hit in hits if hit.id in self._live][:n]

    def _passing(self, hits: list[Hit]) -> list[Hit]:
        return [hit for hit in hits if hit.similarity >= self.min_similarity]

    def _count(self, candidates: bool, returned: int) -> None:
        self._queries += 1
        if candidates and not returned:
            self._below_floor += 1

    def voices_for(
        self,
        *,
        text: str,
        conditions: Sequence[str] = (),
        values: Sequence[str] = (),
        perspectives: Sequence[str] = (),
        k: int = 3,
        mmr: bool = True,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
    ) -> list[UserVoice]:
        """Up to `k` voices closest to `text` under the label filters (OR within a field, AND
        across fields). When fewer than `k` match, the filters relax step by step (drop
        perspectives, then values, keeping conditions) and the later steps fill the remaining
        places, so a criterion gets voices whenever its conditions have any. With `mmr`, each
        step picks from its `fetch_k` nearest by maximal marginal relevance, for diversity. Voices
        under the similarity floor are dropped first, so fewer than `k` (or none) may come back."""
        if k <= 0:
            return []
        vector = self.embedder.encode_query(text)
        levels = [
            {"condition": conditions, "value": values, "perspective": perspectives},
            {"condition": conditions, "value": values},
            {"condition": conditions},
        ]
        chosen: list[Hit] = []
        tried: list[dict[str, list[str]]] = []
        candidates = False
        for level in levels:
            normal = {f: sorted(set(v)) for f, v in level.items() if v}
            if normal in tried:
                continue
            tried.append(normal)
            need = k - len(chosen)
            taken = {hit.id for hit in chosen}
            fetched = self._fetch(vector, max(fetch_k, k) + len(chosen), level)
            candidates = candidates or bool(fetched)
            pool = [hit for hit in self._passing(fetched) if hit.id not in taken]
            if mmr and pool:
                earlier = np.stack([hit.embedding for hit in chosen]) if chosen else None
                picks = mmr_select(
                    vector,
                    np.stack([hit.embedding for hit in pool]),
                    need,
                    lambda_mult=lambda_mult,
                    selected=earlier,
                )
                chosen.extend(pool[i] for i in picks)
            else:
                chosen.extend(pool[:need])
            if len(chosen) >= k:
                break
        self._count(candidates, len(chosen))
        return [_voice(hit) for hit in chosen]

    def query(
        self,
        text: str,
        *,
        condition: str | None = None,
        value: str | None = None,
        perspective: str | None = None,
        sentiment: str | None = None,
        k: int = 5,
    ) -> list[UserVoice]:
        """The `k` voices most similar to `text` that carry exactly the given labels, as similar
        as the floor at least."""
        if k <= 0:
            return []
        fields = {
            "condition": [condition] if condition else [],
            "value": [value] if value else [],
            "perspective": [perspective] if perspective else [],
            "sentiment": [sentiment] if sentiment else [],
        }
        fetched = self._fetch(self.embedder.encode_query(text), k, fields)
        passing = self._passing(fetched)
        self._count(bool(fetched), len(passing))
        return [_voice(hit) for hit in passing]

    def info(self) -> IndexInfo:
        """What a result file records about the index it cited, and how many voice queries had
        candidates but none as similar as the floor (their verdicts quote no user)."""
        manifest = self.manifest
        return IndexInfo(
            embedding_model=manifest.embedding_model.name,
            embedding_model_hash=manifest.embedding_model.hash,
            codebook_version=manifest.codebook_version,
            count=manifest.count,
            built_at=manifest.built_at,
            generation=manifest.generation,
            backend=self.store.backend,
            **{"url" if self.store.url else "path": self.store.location},
            min_similarity=self.min_similarity,
            voice_queries=self._queries,
            voice_queries_below_floor=self._below_floor,
        )

    def close(self) -> None:
        self.store.close()
