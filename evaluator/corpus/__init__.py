"""Corpus ingestion: read raw platform exports, write one normalised corpus of `Post`s.

Public API:
    ingest(inputs, out, *, fmt="auto", ...) -> IngestReport   the whole pipeline
    read_corpus(path) -> Iterator[Post]                      stream a normalised corpus
    detect_format(path) -> (Reader, container)               which reader reads a file
    READERS / register_reader / Reader / Record / ColumnMapping   the reader registry
    normalise_text, scrub_text                               the text clean-up steps
"""

from evaluator.corpus.ingest import detect_format, ingest, read_corpus
from evaluator.corpus.normalise import normalise_text
from evaluator.corpus.readers import (
    READERS,
    BadRecord,
    ColumnMapping,
    Reader,
    Record,
    register_reader,
)
from evaluator.corpus.scrub import SCRUB_KINDS, scrub_text

__all__ = [
    "ingest",
    "read_corpus",
    "detect_format",
    "READERS",
    "BadRecord",
    "ColumnMapping",
    "Reader",
    "Record",
    "register_reader",
    "normalise_text",
    "scrub_text",
    "SCRUB_KINDS",
]
