"""The root `mheval` application and the registration of every command group."""

from __future__ import annotations

from pathlib import Path

import typer

from evaluator import __version__
from evaluator.cli._common import RootGroup, console, examples, state

app = typer.Typer(
    name="mheval",
    help=(
        "Evaluate how a chatbot treats people with mental-health conditions, against rubrics "
        "built from what those people say they need."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
    add_completion=False,
    cls=RootGroup,
    epilog=examples(
        "mheval corpus ingest exports/*.jsonl --out corpus.jsonl",
        "mheval score examples/transcripts/ --html report.html",
        "mheval guidelines show bipolar",
    ),
)


def _version(value: bool) -> None:
    if value:
        console.print(f"mheval {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only errors and results."),
    json_output: bool = typer.Option(
        False, "--json", help="Machine-readable JSON on stdout where a command reports something."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    config: Path | None = typer.Option(
        None,
        "--config",
        help="Config file (default: mheval.toml or \\[tool.mheval], found upwards).",
    ),
) -> None:
    """Global options apply to every command."""
    state.quiet = quiet
    state.json = json_output
    state.debug = debug
    state.config_file = config
    state.reset_settings()  # in-process runs (tests) must not reuse another run's settings


# --- command groups (one module each; keep heavy imports inside the commands) ---
from evaluator.cli import mine as _mine  # noqa: E402

app.add_typer(_mine.app, name="mine")
from evaluator.cli import index as _index  # noqa: E402

app.add_typer(_index.app, name="index")
from evaluator.cli import corpus as _corpus  # noqa: E402

app.add_typer(_corpus.app, name="corpus")
from evaluator.cli import score as _score  # noqa: E402

app.command("score", epilog=_score.SCORE_EXAMPLES)(_score.score)
app.command("agreement", epilog=_score.AGREEMENT_EXAMPLES)(_score.agreement)
from evaluator.cli import run as _run  # noqa: E402

_run.register(app)
from evaluator.cli import findings as _findings  # noqa: E402

app.command("findings", epilog=_findings.EPILOG)(_findings.findings)
from evaluator.cli import guidelines as _guidelines  # noqa: E402

app.add_typer(_guidelines.app, name="guidelines")
