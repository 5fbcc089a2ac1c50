"""`mheval check` (the CI gate: a run against its baseline) and `mheval baseline bless`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from evaluator.cli._common import (
    check_output_paths,
    console,
    emit_json,
    err_console,
    examples,
    new_app,
    state,
)

__all__ = ["check", "baseline_app", "EPILOG"]

EPILOG = examples(
    "mheval check run.json --baseline baseline.json",
    "mheval check run.json -b baseline.json --max-drop 0.05 --fail-under 0.8 "
    "--markdown check.md --junit check.xml",
    "mheval check run.json -b baseline.json --samples 3",
)
baseline_app = new_app("Accept a run as the baseline that `mheval check` compares against.")


def check(
    run: Path = typer.Argument(..., help="Run file written by `mheval run`."),
    baseline: Path = typer.Option(
        ..., "--baseline", "-b", help="Baseline file (`mheval baseline bless`)."
    ),
    fail_under: float | None = typer.Option(
        None, "--fail-under", min=0.0, max=1.0, help="Fail when the overall score is below this."
    ),
    max_drop: float = typer.Option(
        0.05, "--max-drop", min=0.0, max=1.0, help="Largest allowed score drop per condition."
    ),
    samples: int = typer.Option(
        1,
        "--samples",
        min=1,
        max=20,
        help="A failure from a non-deterministic judge must repeat in N samples to block.",
    ),
    junit: Path | None = typer.Option(None, "--junit", help="Write JUnit XML here."),
    markdown: Path | None = typer.Option(
        None, "--markdown", help="Write a Markdown summary here (for a PR comment)."
    ),
    allow_unscored: bool = typer.Option(
        False,
        "--allow-unscored",
        help="Do not block on critical or expected criteria the judge could not score.",
    ),
    block_on_quality: bool = typer.Option(
        False,
        "--block-on-quality",
        help="Also block when a graded quality dimension drops by more than --max-drop.",
    ),
) -> None:
    """Compare a run with its baseline; exit 1 when the bot got worse or the run is inconclusive.

    Blocking: a new failure of a critical or expected criterion, a scenario that newly errors, a
    per-condition score drop beyond --max-drop, an overall score under --fail-under, and (unless
    --allow-unscored) a critical or expected criterion the judge could not score. Failures
    already in the baseline are reported but never block. Quality dimensions that drop by more
    than --max-drop are reported, and block only with --block-on-quality.
    """
    from evaluator.check import check_run
    from evaluator.io import atomic_write, read_run
    from evaluator.report.check import render_check_junit, render_check_markdown
    from evaluator.report.terminal import render_check

    check_output_paths(junit=junit, markdown=markdown)
    report = check_run(
        read_run(run),
        read_run(baseline),
        max_drop=max_drop,
        fail_under=fail_under,
        samples=samples,
        allow_unscored=allow_unscored,
        block_on_quality=block_on_quality,
    )
    if markdown is not None:
        with atomic_write(markdown) as handle:
            handle.write(
                render_check_markdown(report, run_label=run.name, baseline_label=baseline.name)
            )
    if junit is not None:
        with atomic_write(junit) as handle:
            handle.write(render_check_junit(report))
    if state.json:
        emit_json(report)
    elif not state.quiet:
        render_check(report, console, err_console)
    elif not report.passed:
        for reason in report.reasons:
            err_console.print(f"[red]•[/red] {escape(reason)}")
    if not report.passed:
        raise typer.Exit(1)


@baseline_app.command(
    "bless",
    epilog=examples(
        "mheval baseline bless run.json --out baselines/bot.json",
        "mheval run scenarios/ -t python:bot:reply -o run.json && "
        "mheval baseline bless run.json -o baseline.json",
    ),
)
def bless_command(
    run: Path = typer.Argument(..., help="Run file written by `mheval run`."),
    out: Path = typer.Option(..., "--out", "-o", help="Baseline file to write."),
) -> None:
    """Accept a run as the baseline (kind=baseline, blessed_at); commit the file."""
    from evaluator.io import read_run, write_run
    from evaluator.report.terminal import render_bless
    from evaluator.scenarios import bless

    check_output_paths(out=out)
    blessed = bless(read_run(run))
    write_run(out, blessed)
    if state.json:
        emit_json(
            {
                "out": str(out),
                "blessed_at": blessed.blessed_at,
                **blessed.summary.model_dump(mode="json"),
            }
        )
    elif not state.quiet:
        render_bless(blessed, run, out, console)
