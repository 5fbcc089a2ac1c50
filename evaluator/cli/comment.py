"""`mheval pr-comment`: the CI gate's pull-request comment from a check report and its run."""

from __future__ import annotations

from pathlib import Path

import typer

from evaluator.cli._common import console, state

__all__ = ["pr_comment", "EPILOG"]

EPILOG = (
    "[bold]Examples[/bold]\n\n"
    "  [cyan]$ mheval --json check run.json --baseline baselines/bot.json > check.json[/cyan]\n\n"
    "  [cyan]$ mheval pr-comment check.json run.json --report-url URL --out comment.md[/cyan]"
)


def pr_comment(
    check: Path = typer.Argument(..., help="Check report: `mheval --json check ... > FILE`."),
    run: Path = typer.Argument(..., help="The run file that check read."),
    out: Path = typer.Option(..., "--out", "-o", help="Markdown file to write."),
    report_url: str | None = typer.Option(
        None, "--report-url", help="Link to the full HTML report (e.g. the CI artifact)."
    ),
) -> None:
    """Write the PR comment: the check's verdict and summary first, each blocking failure folded
    with the turns it cites, a link to the full report. Exit 0 (the gate is `mheval check`)."""
    from evaluator import comment
    from evaluator.io import atomic_write, read_check, read_run

    text = comment.pr_comment(read_check(check), read_run(run), report_url=report_url)
    with atomic_write(out) as handle:
        handle.write(text)
    if not (state.quiet or state.json):
        console.print(f"[dim]wrote {out} ({len(text):,} characters)[/dim]")
