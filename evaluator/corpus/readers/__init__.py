"""Input formats, one module per platform, in a registry looked up by name (`--format`).

The sniffers look for fields only their platform writes, so they do not overlap and detection
order does not matter. The generic reader is chosen only by `--format generic` or a column
mapping (`--text-col`), and then before any other.
"""

from evaluator.corpus.readers import (  # noqa: F401  (imported to register their readers)
    bluesky,
    generic,
    native,
    paper,
    reddit,
    reviews,
    tiktok,
    twitter,
    youtube,
)
from evaluator.corpus.readers.base import (
    READERS,
    BadRecord,
    ColumnMapping,
    Reader,
    Record,
    register_reader,
)

__all__ = ["READERS", "BadRecord", "ColumnMapping", "Reader", "Record", "register_reader"]
