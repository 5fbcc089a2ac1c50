"""The one door to Chroma: an embedded `PersistentClient` (a folder) or a server (`HttpClient`),
behind the same methods, with every Chroma failure turned into one `CorpusIndexError` line.

Where the manifest lives:
- embedded: `<index folder>/manifest.json`, written atomically beside `chroma.sqlite3`;
- server: a record (id `manifest`) in the collection `mheval_manifest` on that server, so every
  client of the server sees the same manifest. One server database holds one mheval index.

Vectors are always computed by mheval and passed in: collections are created with
`embedding_function=None`, so Chroma's default embedding function never runs (or downloads).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from evaluator.config import setup_offline_env
from evaluator.errors import CorpusIndexError, EvaluatorError, InputError
from evaluator.io import atomic_write, parse_json, validate_model
from evaluator.types.index import INDEX_FORMAT_VERSION, IndexManifest

__all__ = ["VOICES_PREFIX", "Hit", "VectorStore"]

VOICES_PREFIX = "mheval_voices_"
_MANIFEST_FILE = "manifest.json"
_MANIFEST_COLLECTION = "mheval_manifest"


@dataclass(frozen=True)
class Hit:
    """One query result: record id, quote, metadata, cosine similarity and the stored vector."""

    id: str
    document: str
    metadata: dict[str, Any]
    similarity: float
    embedding: np.ndarray


def _corrupt(message: str, **where) -> CorpusIndexError:
    return CorpusIndexError(f"corrupt index: {message}", **where)


class VectorStore:
    """Chroma, embedded or remote. Create with `VectorStore.connect`."""

    def __init__(self, *, path: Path | None, url: str | None) -> None:
        self.path = path
        self.url = url
        self.backend = "server" if url else "embedded"
        self.location = url if url else str(path)
        self._client = None

    @classmethod
    def connect(cls, *, path: Path, url: str | None = None) -> VectorStore:
        """A store for `url` if given (checked reachable now), else for the folder `path`.

        An embedded client is created lazily, so probing a missing index creates nothing.
        """
        store = cls(path=None if url else Path(path), url=url)
        if url:
            store.client  # noqa: B018 - connect now so an unreachable server fails early
        return store

    # --- client -------------------------------------------------------------------------

    @property
    def client(self):
        if self._client is None:
            setup_offline_env()
            with self._guard("corrupt index: cannot open it"):
                import chromadb
                from chromadb.config import Settings as ChromaSettings

                chroma_settings = ChromaSettings(anonymized_telemetry=False)
                if self.url:
                    parsed = urlparse(self.url)
                    if parsed.scheme not in ("http", "https") or not parsed.hostname:
                        raise CorpusIndexError(
                            "expected a Chroma server URL like http://HOST:PORT",
                            field="chroma_url",
                            file=self.url,
                        )
                    port = parsed.port or (443 if parsed.scheme == "https" else 8000)
                    self._client = chromadb.HttpClient(
                        host=parsed.hostname,
                        port=port,
                        ssl=parsed.scheme == "https",
                        settings=chroma_settings,
                    )
                    self._client.heartbeat()
                else:
                    self.path.mkdir(parents=True, exist_ok=True)
                    try:
                        self._client = chromadb.PersistentClient(
                            path=str(self.path), settings=chroma_settings
                        )
                    except Exception:
                        # Chroma caches a system per folder even when it failed to start; drop it
                        # so a repaired folder can be opened again in this process.
                        from chromadb.api.client import SharedSystemClient

                        SharedSystemClient._identifier_to_system.pop(str(self.path), None)
                        SharedSystemClient._identifier_to_refcount.pop(str(self.path), None)
                        raise
        return self._client

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Chroma raises many kinds of errors (ValueError, ChromaError, httpx, sqlite); the user
        needs one line saying where and what."""
        try:
            yield
        except EvaluatorError:
            raise
        except Exception as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if self.url and ("connect" in reason.lower() or "Connect" in type(exc).__name__):
                raise CorpusIndexError(
                    f"cannot reach Chroma server ({reason})", file=self.location
                ) from exc
            raise CorpusIndexError(
                f"{action}: {reason}; rebuild with `mheval index build --rebuild`",
                file=self.location,
            ) from exc

    def close(self) -> None:
        """Release the client (embedded: file handles), e.g. before deleting the folder."""
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None

    # --- manifest -----------------------------------------------------------------------

    def read_manifest(self) -> IndexManifest | None:
        """The committed manifest; None when no index exists here. Unreadable means corrupt."""
        if self.url:
            with self._guard("cannot read the manifest"):
                try:
                    holder = self.client.get_collection(
                        _MANIFEST_COLLECTION, embedding_function=None
                    )
                except Exception as exc:
                    if "does not exist" in str(exc) or "NotFound" in type(exc).__name__:
                        return None
                    raise
                got = holder.get(ids=["manifest"], include=["documents"])
            if not got["ids"]:
                return None
            text, where = got["documents"][0], f"{self.location} ({_MANIFEST_COLLECTION})"
        else:
            file = self.path / _MANIFEST_FILE
            if not file.is_file():
                return None
            text, where = file.read_text(encoding="utf-8", errors="replace"), str(file)
        rebuild = "rebuild with `mheval index build --rebuild`"
        try:
            data = parse_json(text, file=where)
        except InputError as exc:
            raise CorpusIndexError(f"corrupt index: {exc.message}; {rebuild}", file=where) from None
        return validate_model(
            data,
            IndexManifest,
            file=where,
            version=INDEX_FORMAT_VERSION,
            what="manifest",
            error=_corrupt,
            hint=rebuild,
        )

    def write_manifest(self, manifest: IndexManifest) -> None:
        """Commit a build. Atomic: a file rename, or a single-record upsert on a server."""
        text = manifest.model_dump_json()
        if self.url:
            with self._guard("cannot write the manifest"):
                holder = self.client.get_or_create_collection(
                    _MANIFEST_COLLECTION, embedding_function=None
                )
                holder.upsert(ids=["manifest"], documents=[text], embeddings=[[1.0]])
        else:
            with atomic_write(self.path / _MANIFEST_FILE) as handle:
                handle.write(text)

    # --- collections --------------------------------------------------------------------

    def voice_collections(self) -> list[str]:
        with self._guard("cannot list collections"):
            names = [getattr(c, "name", c) for c in self.client.list_collections()]
        return sorted(n for n in names if n.startswith(VOICES_PREFIX))

    def create_collection(self, name: str) -> None:
        with self._guard("cannot create a collection"):
            self.client.create_collection(
                name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"created_by": "mheval"},
            )

    def drop_collection(self, name: str) -> None:
        with self._guard("cannot drop a collection"):
            self.client.delete_collection(name)

    def _collection(self, name: str):
        with self._guard("corrupt index: cannot open its collection"):
            try:
                return self.client.get_collection(name, embedding_function=None)
            except Exception as exc:
                if "does not exist" in str(exc) or "NotFound" in type(exc).__name__:
                    raise CorpusIndexError(
                        f"corrupt index: collection {name!r} named by the manifest is missing; "
                        "rebuild with `mheval index build --rebuild`",
                        file=self.location,
                    ) from None
                raise

    def count(self, name: str) -> int:
        collection = self._collection(name)
        with self._guard("cannot count the index"):
            return collection.count()

    def ids(self, name: str) -> set[str]:
        collection = self._collection(name)
        found: set[str] = set()
        page = 10_000
        with self._guard("cannot read the index"):
            for offset in range(0, collection.count() + page, page):
                batch = collection.get(include=[], limit=page, offset=offset)["ids"]
                found.update(batch)
                if len(batch) < page:
                    break
        return found

    def add(
        self,
        name: str,
        ids: Sequence[str],
        embeddings: np.ndarray,
        documents: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        collection = self._collection(name)
        step = min(self.client.get_max_batch_size(), 2000)
        with self._guard("cannot write to the index"):
            for start in range(0, len(ids), step):
                end = start + step
                collection.upsert(
                    ids=list(ids[start:end]),
                    embeddings=embeddings[start:end],
                    documents=list(documents[start:end]),
                    metadatas=list(metadatas[start:end]),
                )

    def delete(self, name: str, ids: Sequence[str]) -> None:
        if not ids:
            return
        collection = self._collection(name)
        ids = list(ids)
        with self._guard("cannot delete from the index"):
            for start in range(0, len(ids), 2000):
                collection.delete(ids=ids[start : start + 2000])

    def query(
        self, name: str, embedding: np.ndarray, n: int, where: dict[str, Any] | None
    ) -> list[Hit]:
        """Nearest `n` records (cosine), best first, with their vectors for MMR."""
        collection = self._collection(name)
        with self._guard("cannot query the index"):
            result = collection.query(
                query_embeddings=[np.asarray(embedding, dtype=np.float32)],
                n_results=max(1, n),
                where=where,
                include=["documents", "metadatas", "distances", "embeddings"],
            )
        ids = result["ids"][0]
        if not ids:
            return []
        vectors = result["embeddings"][0]
        return [
            Hit(
                id=ids[i],
                document=result["documents"][0][i],
                metadata=dict(result["metadatas"][0][i] or {}),
                similarity=1.0 - float(result["distances"][0][i]),
                embedding=np.asarray(vectors[i], dtype=np.float32),
            )
            for i in range(len(ids))
        ]

    def size_bytes(self) -> int | None:
        """Bytes on disk for an embedded index; None for a server (not visible from here)."""
        if self.url or self.path is None or not self.path.exists():
            return None
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())
