"""The `mheval` command line: a thin layer that parses flags, calls the library and renders.

Heavy libraries (torch, sentence-transformers, chromadb, langchain) are imported only inside the
library functions that need them, so `mheval --help` stays instant. User errors
(`evaluator.errors.EvaluatorError`) are turned into one red line by `RootGroup`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from evaluator.cli._common import err_console
from evaluator.cli.app import app

__all__ = ["app", "main"]

#: Seconds a SIGTERM'd process may take to unwind (finish `finally` blocks) before it is ended.
TERMINATE_GRACE_SECONDS = 10.0

_terminating = threading.Event()


def _on_sigterm(signum, frame) -> None:
    """SIGTERM: remove temp files now, then unwind like Ctrl-C (exit 143).

    Worker threads can keep a process alive after the main thread gave up; a second SIGTERM, or
    the grace period passing, ends it at once (temp files removed again first).
    """
    from evaluator.errors import EXIT_TERMINATED, Terminated
    from evaluator.io import remove_temp_files

    remove_temp_files()
    if _terminating.is_set():
        os._exit(EXIT_TERMINATED)
    _terminating.set()

    def hard_exit() -> None:
        remove_temp_files()
        os._exit(EXIT_TERMINATED)

    timer = threading.Timer(TERMINATE_GRACE_SECONDS, hard_exit)
    timer.daemon = True
    timer.start()
    raise Terminated()


def main() -> None:
    """Console-script entry point: SIGTERM handled like Ctrl-C, both clean their temp files."""
    from evaluator.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        app()
    except KeyboardInterrupt as exc:  # outside a command (RootGroup handles those)
        terminated = isinstance(exc, Terminated)
        err_console.print(f"[yellow]{'terminated' if terminated else 'interrupted'}[/yellow]")
        sys.exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)
