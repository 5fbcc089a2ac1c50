"""`mheval mine`: annotate a corpus with the codebook; `mheval mine validate`: score it."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from evaluator.cli._common import (
    CONCURRENCY,
    check_output_paths,
    console,
    emit_json,
    err_console,
    examples,
    new_app,
    state,
)

__all__ = ["app"]

app = new_app(
    "Label posts with the codebook: relevance, crisis, sentiment, conditions, perspectives and "
    "values, each impact backed by a verbatim quote.\n\n"
    "[bold]mheval mine CORPUS --out annotations.jsonl[/bold] "
    "\\[--annotator local|PROVIDER:MODEL] \\[--codebook FILE] \\[--limit N] \\[--sample N --seed S]"
    " runs the annotator (see [cyan]mheval mine run --help[/cyan]); an interrupted run continues "
    "where it stopped when re-run.",
    default_group=True,
)
app.info.no_args_is_help = True  # bare `mheval mine` shows help, not "Missing command"
app.info.epilog = examples(
    "mheval mine corpus.jsonl.gz --out annotations.jsonl",
    "mheval mine corpus.jsonl.gz --out sample.jsonl --annotator openai:gpt-4.1-mini --sample 200",
    "mheval mine validate annotations.jsonl gold.jsonl --min-support 5",
)


def _progress_callback(stack):
    """A `progress(done, total)` callback drawing a rich bar with rate and ETA on stderr."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:.1f} posts/s" if speed else "- posts/s", style="cyan")

    bar = stack.enter_context(
        Progress(
            TextColumn("annotating"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            RateColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=err_console,
        )
    )
    task: list = []

    def update(done: int, total: int) -> None:
        if not task:
            task.append(bar.add_task("mine", total=total, completed=done))
        else:
            bar.update(task[0], completed=done)

    return update


def _distribution_table(title: str, counts: dict[str, int], base: int) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("label")
    table.add_column("posts", justify="right")
    table.add_column("share of relevant", justify="right")
    for label, count in counts.items():
        table.add_row(escape(label), str(count), f"{count / base:.1%}" if base else "-")
    return table


def _render_report(report) -> None:
    summary = Table(title="mine summary", title_justify="left", show_header=False, show_edge=False)
    summary.add_column(style="bold")
    summary.add_column()
    info = report.annotator
    summary.add_row("annotator", escape(f"{info.name} {info.model or ''}".strip()))
    summary.add_row("codebook", escape(info.codebook_version))
    summary.add_row("output", escape(report.out))
    summary.add_row(
        "posts", f"{report.posts} ({report.annotated} annotated now, {report.resumed} resumed)"
    )
    summary.add_row("relevant", f"{report.relevant} ({report.relevant_share:.1%})")
    summary.add_row("crisis", str(report.crisis))
    errors = f"[red]{report.errors}[/red]" if report.errors else "0"
    summary.add_row("errors", errors)
    if report.quotes_repaired is not None:
        summary.add_row(
            "quote checks",
            f"{report.quotes_repaired} repaired, {report.impacts_dropped} impacts dropped "
            f"(quote not in post), {report.labels_other} labels outside the codebook → other",
        )
    if report.usage is not None:
        usage = report.usage
        cost = f"${usage.estimated_cost_usd:.4f}" if usage.estimated_cost_usd is not None else "n/a"
        summary.add_row(
            "model calls",
            f"{usage.calls} calls, {usage.cached} cached, {usage.failed} failed; "
            f"{usage.input_tokens:,} input + {usage.output_tokens:,} output tokens; "
            f"estimated cost {cost}",
        )
    summary.add_row("time", f"{report.elapsed_seconds:.1f} s")
    console.print(summary)
    for title, counts in (
        ("post sentiment", report.post_sentiment),
        ("conditions", report.conditions),
        ("perspectives", report.perspectives),
        ("values", report.values),
    ):
        if counts:
            console.print()
            console.print(_distribution_table(title, counts, report.relevant))
    if report.errors:
        err_console.print(
            f"[yellow]warning:[/yellow] {report.errors} post(s) could not be annotated; their rows "
            "carry `error`. Re-running the command retries them (successful answers are cached)."
        )


@app.command(
    "run",
    hidden=True,
    epilog=examples(
        "mheval mine corpus.jsonl.gz --out annotations.jsonl",
        "mheval mine corpus.jsonl.gz --out a.jsonl --annotator openai:gpt-4.1-mini --limit 50",
        "mheval mine corpus.jsonl.gz --out a.jsonl --annotator ollama:llama3.1 --concurrency 2",
        "mheval --json mine corpus.jsonl.gz --out a.jsonl --sample 200 --seed 7",
    ),
)
def run(
    corpus: Path = typer.Argument(
        ..., help="Normalised corpus JSONL(.gz) (`mheval corpus ingest`)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Annotations JSONL to write (.gz: gzip)."),
    annotator: str | None = typer.Option(
        None,
        "--annotator",
        "-a",
        help="`local` (offline, default) or PROVIDER:MODEL, e.g. openai:gpt-4.1-mini, "
        "anthropic:claude-haiku-4-5, ollama:llama3.1.",
    ),
    codebook: Path | None = typer.Option(
        None, "--codebook", help="Codebook YAML (default: guidelines/codebook.yaml)."
    ),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Annotate only the first N."),
    sample: int | None = typer.Option(
        None, "--sample", min=1, help="Annotate a random sample of N posts (kept in corpus order)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of --sample."),
    concurrency: int | None = CONCURRENCY,
    timeout: float | None = typer.Option(None, "--timeout", help="Seconds per model call."),
    max_retries: int | None = typer.Option(
        None, "--max-retries", min=0, help="Retries per post on rate limits, timeouts, bad output."
    ),
    no_cache: bool = typer.Option(
        False,
        "--no-cache",
        help="Do not read or write the on-disk caches (model answers, refit annotator weights).",
    ),
    restart: bool = typer.Option(
        False, "--restart", help="Discard the rows of an interrupted run instead of resuming."
    ),
    json_flag: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Annotate every post of CORPUS into --out (one JSON object per post)."""
    from contextlib import ExitStack

    from evaluator.mine.pipeline import mine, partial_path

    check_output_paths(out=out)
    settings = state.settings
    as_json = state.wants_json(json_flag)
    with ExitStack() as stack:
        progress = None if state.quiet or as_json else _progress_callback(stack)
        try:
            report = mine(
                corpus,
                out,
                annotator=annotator or settings.annotator,
                codebook=codebook or settings.codebook,
                limit=limit,
                sample=sample,
                seed=seed,
                concurrency=concurrency or settings.concurrency,
                timeout=timeout or settings.timeout,
                max_retries=settings.max_retries if max_retries is None else max_retries,
                cache_dir=None if no_cache else settings.cache_dir,
                restart=restart,
                progress=progress,
            )
        except KeyboardInterrupt as exc:
            from evaluator.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated

            stack.close()
            err_console.print(
                f"[yellow]interrupted:[/yellow] finished rows are kept in "
                f"{escape(str(partial_path(out)))}; run the same command again to continue."
            )
            terminated = isinstance(exc, Terminated)
            raise typer.Exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED) from None
    if as_json:
        emit_json(report)
    elif not state.quiet:
        _render_report(report)


def _scores_table(field) -> Table:
    table = Table(title=f"{field.field} ({field.kind}, {field.posts} posts)", title_justify="left")
    table.add_column("label", no_wrap=True)
    for column in ("precision", "recall", "F1", "gold", "predicted", "in macro"):
        table.add_column(column, justify="right")
    for score in field.labels:
        table.add_row(
            escape(score.label),
            f"{score.precision:.2f}",
            f"{score.recall:.2f}",
            f"{score.f1:.2f}",
            str(score.support),
            str(score.predicted),
            "yes" if score.in_macro else "[dim]no[/dim]",
        )
    return table


def _confusion_table(field) -> Table:
    table = Table(title=f"{field.field}: gold (rows) × predicted (columns)", title_justify="left")
    table.add_column("gold \\ pred", no_wrap=True)
    for label in field.confusion_labels:
        table.add_column(escape(label), justify="right")
    for label, row in zip(field.confusion_labels, field.confusion, strict=True):
        table.add_row(escape(label), *(str(value) for value in row))
    return table


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


@app.command(
    "validate",
    epilog=examples(
        "mheval mine validate annotations.jsonl gold.jsonl",
        "mheval mine validate annotations.jsonl gold.jsonl --min-support 3 --json",
    ),
)
def validate_command(
    pred: Path = typer.Argument(..., help="Predicted annotations JSONL(.gz)."),
    gold: Path = typer.Argument(..., help="Hand-labelled annotations JSONL(.gz), same shape."),
    min_support: int = typer.Option(
        5,
        "--min-support",
        min=1,
        help="Labels with fewer gold posts are left out of macro averages.",
    ),
    json_flag: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Precision, recall, F1, accuracy, Cohen's kappa and confusion matrices of PRED against GOLD.

    Every gold id needs a prediction (missing ones are an error naming them); predictions
    without gold are ignored; prediction error rows count as not relevant.
    """
    from evaluator.mine.validate import validate

    report = validate(pred, gold, min_support=min_support)
    if state.wants_json(json_flag):
        emit_json(report)
        return
    summary = Table(
        title=f"{report.posts} gold posts; macro averages over labels with "
        f">= {report.min_support} gold posts",
        title_justify="left",
    )
    for column in ("field", "macro P", "macro R", "macro F1", "micro F1", "accuracy", "kappa"):
        summary.add_column(column, justify="left" if column == "field" else "right")
    for field in report.fields:
        summary.add_row(
            field.field,
            _fmt(field.macro_precision),
            _fmt(field.macro_recall),
            _fmt(field.macro_f1),
            _fmt(field.micro_f1),
            _fmt(field.accuracy),
            _fmt(field.kappa),
        )
    if state.quiet:
        console.print(summary)
        return
    for field in report.fields:
        console.print(_scores_table(field))
        if field.confusion:
            console.print(_confusion_table(field))
        console.print()
    console.print(summary)
    notes = []
    if report.pred_errors:
        notes.append(f"{report.pred_errors} predictions are error rows (scored as not relevant)")
    if report.extra_pred:
        notes.append(f"{report.extra_pred} predicted posts have no gold label (ignored)")
    for note in notes:
        err_console.print(f"[yellow]note:[/yellow] {note}")
