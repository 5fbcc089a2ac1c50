"""What every command shares: global state, consoles, examples blocks, the default-command group."""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

if TYPE_CHECKING:
    from evaluator.config import Settings


__all__ = [
    "State",
    "state",
    "console",
    "err_console",
    "examples",
    "DefaultCommandGroup",
    "RootGroup",
    "check_output_paths",
    "EXIT_CODES_HELP",
    "emit_json",
    "notice",
    "new_app",
    "CHROMA_URL",
    "CONCURRENCY",
    "GUIDELINES",
    "JUDGE",
    "RETRIEVAL",
    "SAMPLES",
]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@dataclass
class State:
    """Global options, set by the root callback before any command runs."""

    quiet: bool = False
    json: bool = False
    debug: bool = False
    config_file: Path | None = None
    _settings: Settings | None = field(default=None, repr=False)  # noqa: F821

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from evaluator.config import load_settings

            self._settings = load_settings(self.config_file)
        return self._settings

    def reset_settings(self) -> None:
        self._settings = None

    def override(self, **updates) -> None:
        """Apply a command's flags (e.g. --chroma-url) to the settings every later call sees."""
        self._settings = self.settings.model_copy(update=updates)

    def wants_json(self, local_flag: bool = False) -> bool:
        return self.json or local_flag


state = State()

#: `--chroma-url` of every command that opens the corpus index.
CHROMA_URL = typer.Option(
    None,
    "--chroma-url",
    help="Chroma server http://HOST:PORT holding the index (default: config chroma_url).",
    show_default=False,
)

# Options several commands share: one spelling, one help text (score, run, mine, scenarios).
#: `--judge/-j`: which judge scores the criteria.
JUDGE = typer.Option(
    None,
    "--judge",
    "-j",
    help="`local` (offline) or PROVIDER:MODEL. Default from config: local.",
    show_default=False,
)
#: `--samples`: how many times each criterion is judged.
SAMPLES = typer.Option(
    1, "--samples", min=1, max=20, help="Judge each criterion N times (LLM judges)."
)
#: `--guidelines`: the rubric folder.
GUIDELINES = typer.Option(
    None,
    "--guidelines",
    help="Folder of rubric YAML files (default: config guidelines).",
    show_default=False,
)
#: `--retrieval/--no-retrieval`: whether verdicts quote users' voices from the corpus index.
RETRIEVAL = typer.Option(
    True,
    "--retrieval/--no-retrieval",
    help="Quote users' voices from the corpus index (--no-retrieval: do not open it).",
)
#: `--concurrency/-c`: how much runs at once.
CONCURRENCY = typer.Option(
    None,
    "--concurrency",
    "-c",
    min=1,
    max=64,
    help="Scenarios (run) or model calls (mine) in parallel. Default from config.",
    show_default=False,
)


def examples(*lines: str) -> str:
    """An Examples block for a command's --help (shown after the options)."""
    body = "\n\n".join(f"  [cyan]$ {line}[/cyan]" for line in lines)
    return f"[bold]Examples[/bold]\n\n{body}"


def emit_json(data) -> None:
    """Print machine output to stdout, nothing else on the line."""
    import json

    from pydantic import BaseModel

    def default(value):
        return value.model_dump(mode="json") if isinstance(value, BaseModel) else str(value)

    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=default) + "\n")


def notice(line: str) -> None:
    """A line the library reports through `on_notice` (e.g. a first-use index build), on stderr."""
    err_console.print(escape(line), soft_wrap=True)


def check_output_paths(**outputs: Path | None) -> None:
    """Refuse unwritable output paths before any work: `option=path`, e.g. `out=out`.

    The option is named in the error as `--out` (underscores become dashes).
    """
    from evaluator.io import check_writable

    for option, path in outputs.items():
        if path is not None:
            check_writable(path, field="--" + option.replace("_", "-"))


EXIT_CODES_HELP = (
    "[bold]Exit codes[/bold]: 0 success · 1 a failed check (a transcript failed, a score under "
    "--fail-under, the bot got worse than its baseline) · 2 bad input (one line naming the file "
    "and field) · 70 internal error (a bug: re-run with --debug) · 130/143 interrupted by "
    "SIGINT/SIGTERM."
)


def _click_exceptions() -> tuple[type[BaseException], ...]:
    """The exceptions click uses for exits and usage errors: typer's own, click's, and those of
    the click that recent typer versions vendor as `typer._click`."""
    import importlib

    found: list[type[BaseException]] = [typer.Exit, typer.Abort]
    for name in ("click.exceptions", "typer._click.exceptions"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for attr in ("Exit", "Abort", "ClickException"):
            cls = getattr(module, attr, None)
            if isinstance(cls, type) and issubclass(cls, BaseException):
                found.append(cls)
    return tuple(dict.fromkeys(found))


_CLICK_EXCEPTIONS = _click_exceptions()


def _one_line(text: str, limit: int = 300) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"


class RootGroup(TyperGroup):
    """The root group: the one place that turns a failure into one red line and an exit code.

    An `EvaluatorError` exits with its code (2); any other exception is a bug and exits 70
    ("internal error: ...; re-run with --debug"), never 0 or 1, which are verdicts; Ctrl-C exits
    130 and SIGTERM 143. Handling it here (not only in `main`) makes in-process runs, such as
    tests with typer's CliRunner, behave exactly like the console script.
    """

    def invoke(self, ctx: typer.Context):
        import click

        from evaluator.errors import (
            EXIT_BROKEN_PIPE,
            EXIT_INTERNAL,
            EXIT_INTERRUPTED,
            EXIT_TERMINATED,
            EvaluatorError,
            Terminated,
        )

        try:
            return super().invoke(ctx)
        except EvaluatorError as exc:
            if state.debug:
                raise
            err_console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except _CLICK_EXCEPTIONS:
            raise  # typer's and click's own: exit codes and usage errors (exit 2)
        except BrokenPipeError:
            # `mheval ... | head`: the reader left; not a bug, and not a verdict either
            with contextlib.suppress(Exception):
                sys.stdout = click.utils.PacifyFlushWrapper(sys.stdout)
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except KeyboardInterrupt as exc:
            terminated = isinstance(exc, Terminated)
            err_console.print(f"[yellow]{'terminated' if terminated else 'interrupted'}[/yellow]")
            raise typer.Exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED) from None
        except Exception as exc:
            if state.debug:
                import traceback

                err_console.print(traceback.format_exc(), markup=False, highlight=False)
            message = _one_line(str(exc))
            name = type(exc).__name__
            err_console.print(
                f"[red]internal error:[/red] {escape(name + (': ' + message if message else ''))}"
                + (" (traceback above)" if state.debug else "; re-run with --debug"),
                soft_wrap=True,
            )
            raise typer.Exit(EXIT_INTERNAL) from None


class DefaultCommandGroup(TyperGroup):
    """A group that runs its `default` subcommand when the first argument names no subcommand.

    It lets `mheval mine CORPUS` and `mheval mine validate PRED GOLD` live side by side.
    """

    default_command = "run"

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args.insert(0, self.default_command)
        return super().parse_args(ctx, args)


def new_app(help_text: str, *, default_group: bool = False) -> typer.Typer:
    """A sub-application with the house settings."""
    return typer.Typer(
        help=help_text,
        no_args_is_help=not default_group,
        rich_markup_mode="rich",
        pretty_exceptions_show_locals=False,
        cls=DefaultCommandGroup if default_group else None,
        add_completion=False,
    )
