"""`mheval score` and `mheval agreement`: parse flags, call the library, render."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich.markup import escape

from evaluator.cli._common import (
    CHROMA_URL,
    GUIDELINES,
    JUDGE,
    RETRIEVAL,
    SAMPLES,
    check_output_paths,
    console,
    emit_json,
    err_console,
    examples,
    notice,
    state,
)
from evaluator.scoring import DEFAULT_MAX_TURN_CHARS

__all__ = ["score", "agreement", "SCORE_EXAMPLES", "AGREEMENT_EXAMPLES"]

SCORE_EXAMPLES = examples(
    "mheval score examples/transcripts/ --html out/report.html --out out/result.json",
    "mheval score chats.jsonl --judge openai:gpt-4o-mini --samples 3 --junit out/junit.xml",
    "mheval score export.csv --format csv --no-retrieval --fail-under 0.8",
    "mheval --json score transcripts/ > result.json",
)
AGREEMENT_EXAMPLES = examples(
    "mheval agreement out/result.json labels.csv",
    "mheval agreement out/result.json labels.jsonl --out out/agreement.json",
)


class PartialAs(StrEnum):
    fail = "fail"
    pass_ = "pass"


def _progress():
    """A transient progress bar on stderr; returns (callback, context manager)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console,
        transient=True,
        disable=state.quiet or state.json,
    )
    tasks: dict[str, int] = {}
    names = {"prepare": "retrieving voices", "judge": "judging"}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(names.get(stage, stage), total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return update, bar


# The options of `score` spelled out once here, so the command reads as what it does.
_TRANSCRIPTS = typer.Argument(
    ...,
    help="Transcript files or directories (OpenAI JSON/JSONL, CSV, text, utterance files).",
    show_default=False,
)
_FORMAT = typer.Option(
    "auto", "--format", "-f", help="Force a format: openai, csv, text, utterances."
)
_K = typer.Option(3, "-k", min=0, max=20, help="User voices quoted per verdict.")
_OUT = typer.Option(
    None, "--out", "-o", help="Write the versioned result (ScoreRun) as JSON to FILE."
)
_MARKDOWN = typer.Option(None, "--markdown", help="Write a Markdown report.")
_HTML = typer.Option(None, "--html", help="Write a self-contained HTML report.")
_JUNIT = typer.Option(
    None, "--junit", help="Write JUnit XML: one testcase per transcript x critical criterion."
)
_FAIL_UNDER = typer.Option(
    None,
    "--fail-under",
    min=0.0,
    max=1.0,
    help="Exit 1 when the run score (mean transcript score, 0-1) is below this.",
)
_SKIP_INVALID = typer.Option(
    False,
    "--skip-invalid",
    help="Skip (and report) invalid records instead of stopping at the first one.",
)
_MAX_TURN_CHARS = typer.Option(
    DEFAULT_MAX_TURN_CHARS,
    "--max-turn-chars",
    min=200,
    help="Cut longer turns before they reach the judge.",
)
_DETAILS = typer.Option(
    True, "--details/--summary-only", help="Print a line (--verbose: a table) per transcript."
)
_VERBOSE = typer.Option(
    False,
    "--verbose",
    "-v",
    help="Print each transcript's table of criteria instead of one line per transcript.",
)
_EXIT_ZERO = typer.Option(
    False,
    "--exit-zero",
    help="Exit 0 even when transcripts fail (exploring, not gating); errors still exit 2.",
)
_ALLOW_UNSCORED = typer.Option(
    False,
    "--allow-unscored",
    help="Pass transcripts whose critical criteria the judge could not score (inconclusive).",
)
_TIMEOUT = typer.Option(
    None, "--timeout", min=1.0, help="Seconds per judge model call (default from config: 60)."
)


def score(
    transcripts: list[Path] = _TRANSCRIPTS,
    fmt: str = _FORMAT,
    judge: str | None = JUDGE,
    samples: int = SAMPLES,
    k: int = _K,
    retrieval: bool = RETRIEVAL,
    chroma_url: str | None = CHROMA_URL,
    guidelines: Path | None = GUIDELINES,
    out: Path | None = _OUT,
    markdown: Path | None = _MARKDOWN,
    html: Path | None = _HTML,
    junit: Path | None = _JUNIT,
    fail_under: float | None = _FAIL_UNDER,
    skip_invalid: bool = _SKIP_INVALID,
    max_turn_chars: int = _MAX_TURN_CHARS,
    details: bool = _DETAILS,
    verbose: bool = _VERBOSE,
    exit_zero: bool = _EXIT_ZERO,
    allow_unscored: bool = _ALLOW_UNSCORED,
    timeout: float | None = _TIMEOUT,
) -> None:
    """Score transcripts against the rubrics; verdicts quote the transcript and user voices.

    Exit codes: 0 every transcript passes (or --exit-zero); 1 a critical criterion failed, a transcript is inconclusive (its judge could not score a critical criterion; --allow-unscored accepts that), or the run score is below --fail-under; 2 bad input or a judge endpoint that keeps failing.
    """  # noqa: E501 (typer keeps line breaks)
    if chroma_url:
        state.override(chroma_url=chroma_url)
    from evaluator.report import write_reports
    from evaluator.scoring import gate, score_files

    settings = state.settings
    if timeout is not None:
        settings = settings.model_copy(update={"timeout": timeout})

    check_output_paths(out=out, markdown=markdown, html=html, junit=junit)
    update, bar = _progress()
    with bar:
        run = score_files(
            transcripts,
            settings=settings,
            fmt=fmt,
            judge=judge,
            samples=samples,
            retrieval=retrieval,
            k=k,
            guidelines=guidelines,
            skip_invalid=skip_invalid,
            max_turn_chars=max_turn_chars,
            progress=update,
            on_notice=notice,
            index_progress=sys.stderr.isatty(),
        )
    written = write_reports(run, markdown=markdown, html=html, junit=junit, json=out)
    if state.json:
        emit_json(run)
    elif not state.quiet:
        _print_run(run, written, details=details, verbose=verbose)
    decision = gate(run, fail_under=fail_under, allow_unscored=allow_unscored)
    if not state.json:
        for reason in decision.reasons:
            err_console.print(f"[red]{escape(reason)}[/red]")
    if not decision.passed and not exit_zero:
        raise typer.Exit(1)


def _print_run(run, written: list[str], *, details: bool, verbose: bool) -> None:
    """The terminal report, a note when the voice floor left verdicts without a user, and the
    files written."""
    from evaluator.report import render_terminal

    render_terminal(run, console, details=details, verbose=verbose)
    if run.index.voice_queries_below_floor:
        console.print(
            f"[dim]user voices: {run.index.voice_queries_below_floor} of "
            f"{run.index.voice_queries} queries found none as similar as "
            f"{run.index.min_similarity} (voice_min_similarity); those verdicts quote "
            "no user[/dim]"
        )
    for path in written:
        console.print(f"[dim]wrote {path}[/dim]")


def agreement(
    scores: Path = typer.Argument(..., help="A result file of `mheval score --out`."),
    labels: Path = typer.Argument(
        ..., help="Human labels, CSV or JSONL: id, label[, criterion_id]."
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the report as JSON to FILE."),
    partial_as: PartialAs = typer.Option(
        PartialAs.fail,
        "--partial-as",
        help="How a judge's `partial` counts against binary (pass/fail) human labels.",
    ),
) -> None:
    """How often the judge agrees with people who labelled the same transcripts.

    Reports accuracy, Cohen's kappa and the confusion matrix; for ordinal labels also weighted kappa and Spearman correlation.
    """  # noqa: E501 (typer keeps line breaks)
    from rich.table import Table

    from evaluator.io import write_json
    from evaluator.judges.agreement import agreement_files

    check_output_paths(out=out)
    report = agreement_files(scores, labels, partial_as=partial_as.value)
    if out is not None:
        write_json(out, report)
    if state.json:
        emit_json(report)
        return
    for level in report.levels:
        console.print(
            f"[bold]{level.level}-level[/bold] ({level.scale}, n={level.n}): "
            f"accuracy {level.accuracy:.2f} · kappa "
            + (f"{level.kappa:.2f}" if level.kappa is not None else "n/a")
            + (
                f" · weighted kappa {level.weighted_kappa:.2f}"
                if level.weighted_kappa is not None
                else ""
            )
            + (f" · Spearman {level.spearman:.2f}" if level.spearman is not None else "")
            + (
                f" · Spearman vs score {level.spearman_score:.2f}"
                if level.spearman_score is not None
                else ""
            )
        )
        table = Table()
        table.add_column("human \\ judge")
        for label in level.labels:
            table.add_column(label, justify="right")
        for label, row in zip(level.labels, level.confusion, strict=True):
            table.add_row(label, *(str(n) for n in row))
        if not state.quiet:
            console.print(table)
        if level.by_criterion and not state.quiet:
            for name, entry in level.by_criterion.items():
                console.print(f"  {name}: accuracy {entry['accuracy']:.2f} (n={entry['n']})")
        notes = [f"{n} {reason}" for reason, n in level.excluded.items()]
        if level.missing:
            notes.append(f"{len(level.missing)} labelled items not in the scores file")
        if notes and not state.quiet:
            console.print("[dim]excluded: " + "; ".join(notes) + "[/dim]")
    if out is not None and not state.quiet:
        console.print(f"[dim]wrote {out}[/dim]")
