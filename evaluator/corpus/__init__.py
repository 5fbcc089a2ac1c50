"""Corpus ingestion: read raw platform exports, write one normalised corpus of `Post`s.

Public API:
    ingest(inputs, out, *, fmt="auto", ...) -> IngestReport   the whole pipeline
    read_corpus(path) -> Iterator[Post]                      stream a normalised corpus
    detect_format(path) -> (Reader, container)               which reader reads a file
    READERS / register_reader / Reader / Record / ColumnMapping   the reader registry
    normalise_text, scrub_text                               the text clean-up steps

Decisions:
- Authors are never written: `author_hash` is a keyed BLAKE2b of `platform:author` with the
  salt from config (`author_salt`) or a private `.mheval-salt` beside the output.
- `url` keeps the post's own permalink (metadata, not text, so it is not scrubbed) unless the
  permalink names the author: X links become `/i/web/status/ID`; Bluesky, TikTok and profile
  links are dropped.
- The language filter is off by default (`--lang` turns it on); posts under 4 words are kept.
- De-duplication is exact, on the written text case-folded with whitespace collapsed, plus on
  ids; memory is O(unique posts) for two 64-bit hashes each, the inputs themselves are streamed.
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
