"""What every command shares: global state, consoles, examples blocks, the default-command group."""

from __future__ import annotations

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
    "emit_json",
    "new_app",
    "CHROMA_URL",
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


def examples(*lines: str) -> str:
    """An Examples block for a command's --help (shown after the options)."""
    body = "\n\n".join(f"  [cyan]$ {line}[/cyan]" for line in lines)
    return f"[bold]Examples[/bold]\n\n{body}"


def emit_json(data) -> None:
    """Print machine output to stdout, nothing else on the line."""
    import json

    from pydantic import BaseModel

    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


class RootGroup(TyperGroup):
    """The root group: turns an `EvaluatorError` into one red line and its exit code.

    Handling it here (not only in `main`) makes in-process runs, such as tests with typer's
    CliRunner, behave exactly like the console script.
    """

    def invoke(self, ctx: typer.Context):
        from evaluator.errors import EvaluatorError

        try:
            return super().invoke(ctx)
        except EvaluatorError as exc:
            if state.debug:
                raise
            err_console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None


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
