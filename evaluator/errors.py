"""The one error hierarchy of mheval.

Every error a user can cause or fix derives from `EvaluatorError`. The CLI prints such an error as
one line (``file: field: message``) and exits with its `exit_code`; anything else is a bug and
shows a traceback only with ``--debug``.

    EvaluatorError            base; exit code 2
    ├── InputError            a file or argument the user gave is wrong (malformed, wrong schema)
    │   └── UnknownFormatError  no reader recognises the file
    ├── ConfigError           mheval.toml / [tool.mheval] / codebook / rubric settings are wrong
    ├── CorpusIndexError      the vector index is missing, corrupt, unreachable or mismatched
    └── ModelError            an LLM or embedding model failed (after retries) or is misconfigured
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "EvaluatorError",
    "InputError",
    "UnknownFormatError",
    "ConfigError",
    "CorpusIndexError",
    "ModelError",
]


class EvaluatorError(Exception):
    """Base class: an error the user can act on. Carries where it happened."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        field: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.field = field
        self.line = line

    def with_hint(self, hint: str) -> EvaluatorError:
        """The same error, same place, with what to do appended: `raise exc.with_hint(...)`."""
        return type(self)(
            f"{self.message} ({hint})", file=self.file, field=self.field, line=self.line
        )

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line is not None else "")
        parts = [p for p in (where, self.field) if p]
        return ": ".join([*parts, self.message])


class InputError(EvaluatorError):
    """A file or argument the user supplied is malformed, of the wrong schema, or empty."""


class UnknownFormatError(InputError):
    """No reader recognised the file; the message lists the formats tried."""


class ConfigError(EvaluatorError):
    """Configuration (config file, codebook, rubric, scenario settings) is invalid."""


class CorpusIndexError(EvaluatorError):
    """The vector index is missing, corrupt, built with another model, or the server is down."""


class ModelError(EvaluatorError):
    """A model call failed after retries, or a model id cannot be resolved."""
