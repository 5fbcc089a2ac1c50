"""The `mheval` command line: a thin layer that parses flags, calls the library and renders.

Heavy libraries (torch, sentence-transformers, chromadb, langchain) are imported only inside the
library functions that need them, so `mheval --help` stays instant.
"""

from __future__ import annotations

import sys

from evaluator.cli._common import err_console, state
from evaluator.cli.app import app
from evaluator.errors import EvaluatorError

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point: user errors become one red line and exit code 2."""
    try:
        app(standalone_mode=True)
    except EvaluatorError as exc:
        if state.debug:
            raise
        err_console.print(f"[red]error:[/red] {exc}", markup=True, soft_wrap=True, highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/yellow]")
        sys.exit(130)
