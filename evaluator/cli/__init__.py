"""The `mheval` command line: a thin layer that parses flags, calls the library and renders.

Heavy libraries (torch, sentence-transformers, chromadb, langchain) are imported only inside the
library functions that need them, so `mheval --help` stays instant. User errors
(`evaluator.errors.EvaluatorError`) are turned into one red line by `RootGroup`.
"""

from __future__ import annotations

import sys

from evaluator.cli._common import err_console
from evaluator.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/yellow]")
        sys.exit(130)
