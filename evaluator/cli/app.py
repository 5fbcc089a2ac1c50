"""The root `mheval` application and the registration of every command group."""

from __future__ import annotations

from pathlib import Path

import typer

from evaluator import __version__
from evaluator.cli import check as _check
from evaluator.cli import comment as _comment
from evaluator.cli import corpus as _corpus
from evaluator.cli import examples as _examples
from evaluator.cli import findings as _findings
from evaluator.cli import guidelines as _guidelines
from evaluator.cli import index as _index
from evaluator.cli import mine as _mine
from evaluator.cli import run as _run
from evaluator.cli import scenarios as _scenarios
from evaluator.cli import score as _score
from evaluator.cli._common import EXIT_CODES_HELP, RootGroup, console, examples, state

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
        "mheval score examples/transcripts/ --html out/report.html --exit-zero",
        "mheval guidelines show bipolar",
    )
    + "\n\n"
    + EXIT_CODES_HELP,
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


# --- commands, in pipeline order (each module keeps heavy imports inside its commands) ---
app.add_typer(_corpus.app, name="corpus")
app.add_typer(_mine.app, name="mine")
app.command("findings", epilog=_findings.EPILOG)(_findings.findings)
app.add_typer(_guidelines.app, name="guidelines")
app.add_typer(_index.app, name="index")
app.command("score", epilog=_score.SCORE_EXAMPLES)(_score.score)
app.command("agreement", epilog=_score.AGREEMENT_EXAMPLES)(_score.agreement)
app.command("run", epilog=_run.EPILOG)(_run.run)
app.command("check", epilog=_check.EPILOG)(_check.check)
app.add_typer(_check.baseline_app, name="baseline")
app.add_typer(_scenarios.app, name="scenarios")
app.command("pr-comment", epilog=_comment.EPILOG)(_comment.pr_comment)
app.add_typer(_examples.app, name="examples")
