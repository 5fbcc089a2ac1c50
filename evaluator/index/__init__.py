"""The corpus index: users' own words (impact quotes), searchable by meaning and by label.

Heavy libraries (sentence-transformers, chromadb) load inside the functions that use them.
"""

from evaluator.embeddings import Embedder, model_info
from evaluator.index.build import build_index, index_status, load_items
from evaluator.index.retrieval import Retriever, mmr_select
from evaluator.index.store import VectorStore

__all__ = [
    "Retriever",
    "build_index",
    "index_status",
    "load_items",
    "Embedder",
    "model_info",
    "mmr_select",
    "VectorStore",
]
