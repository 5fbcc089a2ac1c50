"""`mheval examples`: where the shipped examples are, and a copy of them to follow the docs."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from evaluator.cli._common import console, emit_json, examples, new_app, state

__all__ = ["app"]

app = new_app(
    "The shipped examples: transcripts to score, and a tiny bot with a careful and a "
    '"helpful" system prompt to run the scenarios against (the README and docs/ci.md use them).'
)


@app.command("path", epilog=examples("mheval examples path", 'ls "$(mheval examples path)"'))
def path_command() -> None:
    """Print the folder of the shipped examples."""
    from evaluator.examples import examples_dir

    folder = examples_dir()
    if state.json:
        emit_json({"path": str(folder)})
    else:
        typer.echo(str(folder))


@app.command(
    "copy",
    epilog=examples(
        "mheval examples copy",
        "mheval examples copy my-project/ --force",
    ),
)
def copy_command(
    dest: Path = typer.Argument(Path("."), help="Folder to create `examples/` in."),
    force: bool = typer.Option(False, "--force", help="Overwrite files that already exist."),
) -> None:
    """Copy the examples into DEST/examples, so `examples/...` paths of the docs work there."""
    from evaluator.examples import copy_examples

    written = copy_examples(dest, force=force)
    if state.json:
        emit_json({"written": [str(p) for p in written]})
        return
    if state.quiet:
        return
    console.print(f"copied {len(written)} files to {escape(str(dest / 'examples'))}; try:")
    for line in (
        "mheval score examples/transcripts/ --html out/report.html --exit-zero",
        "mheval run --target python:examples.bot.bot:reply "
        "--system-prompt examples/bot/prompts/v1.txt --out v1.json",
    ):
        console.print(f"  [cyan]$ {escape(line)}[/cyan]")
