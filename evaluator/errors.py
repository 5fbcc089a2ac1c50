"""The one error hierarchy of mheval.

Every error a user can cause or fix derives from `EvaluatorError`. The CLI prints such an error as
one line (``file: field: message``) and exits with its `exit_code`; anything else is a bug: one
line ``internal error: ...; re-run with --debug`` and exit `EXIT_INTERNAL` (the traceback only with
``--debug``), so that a crash is never read as a verdict.

Exit codes of every command:

    0    success
    1    a failed check: a transcript failed, the run score is under --fail-under, the bot got
         worse than its baseline (the only code that is a verdict)
    2    bad input: a file, argument or setting is wrong (an `EvaluatorError`)
    70   internal error: a bug in mheval (EX_SOFTWARE of sysexits.h)
    130  interrupted (Ctrl-C, SIGINT); 143 terminated (SIGTERM). Temporary files are removed.
    141  stdout was closed (`mheval ... | head`), as a shell reports SIGPIPE

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
    "EXIT_OK",
    "EXIT_FAILED",
    "EXIT_INPUT",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_TERMINATED",
    "EXIT_BROKEN_PIPE",
    "Terminated",
    "EvaluatorError",
    "InputError",
    "UnknownFormatError",
    "ConfigError",
    "CorpusIndexError",
    "ModelError",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INPUT = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
EXIT_BROKEN_PIPE = 141


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread by the console script's handler.

    A `KeyboardInterrupt`, so every clean-up that Ctrl-C gets (temporary files removed, a partial
    `mine` kept) runs on SIGTERM too; the CLI exits `EXIT_TERMINATED`. Not an `EvaluatorError`.
    """


class EvaluatorError(Exception):
    """Base class: an error the user can act on. Carries where it happened."""

    exit_code = EXIT_INPUT

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
