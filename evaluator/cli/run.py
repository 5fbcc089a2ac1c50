"""`mheval run` (play scenarios against a bot and score them), `mheval check` (the CI gate),
`mheval baseline bless` and `mheval scenarios validate|list|schema`."""

from __future__ import annotations

import contextlib
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from evaluator.cli._common import (
    CHROMA_URL,
    check_output_paths,
    console,
    emit_json,
    err_console,
    examples,
    new_app,
    state,
)

__all__ = ["register", "baseline_app", "scenarios_app"]

baseline_app = new_app("Accept a run as the baseline that `mheval check` compares against.")
scenarios_app = new_app(
    "Scenario files: validate them (schema, codebook conditions, expected criterion ids), list "
    "them, print their JSON schema."
)

_VERDICT_STYLE = {"pass": "green", "fail": "red", "error": "magenta"}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


# --- mheval run -------------------------------------------------------------------------------


def _progress(stack: contextlib.ExitStack):
    """progress(stage, done, total) drawing one rich bar per stage on stderr."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = stack.enter_context(
        Progress(
            TextColumn("{task.description:<12}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=False,
        )
    )
    tasks: dict[str, int] = {}
    names = {"converse": "conversing", "prepare": "preparing", "judge": "judging"}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(names.get(stage, stage), total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return update


def _render_run(run, out: Path) -> None:
    results = {r.id: r for r in run.score.transcripts}
    table = Table(title="scenarios", title_justify="left", show_edge=False)
    table.add_column("scenario", no_wrap=True)
    for column in ("condition", "risk", "verdict", "score", "what went wrong"):
        table.add_column(column, justify="right" if column == "score" else "left")
    for outcome in run.outcomes:
        result = results.get(outcome.scenario_id)
        problems = []
        if outcome.error:
            problems.append(outcome.error)
        if result is not None:
            problems += [
                f"{v.criterion_id} failed (critical)"
                for v in result.criteria
                if v.severity == "critical" and v.label == "fail"
            ]
        problems += [
            f"expected {key.split('/', 1)[1]}: {label}"
            for key, label in outcome.expectations.items()
            if label != "pass"
        ]
        verdict = outcome.verdict or "-"
        style = _VERDICT_STYLE.get(verdict, "")
        table.add_row(
            escape(outcome.scenario_id),
            escape(outcome.condition),
            outcome.risk,
            f"[{style}]{verdict}[/{style}]" if style else verdict,
            _fmt(result.score if result else None),
            escape("; ".join(dict.fromkeys(problems))),
        )
    console.print(table)
    summary = run.summary
    by_condition = Table(title="by condition", title_justify="left", show_edge=False)
    for column in ("condition", "scenarios", "score", "passed", "failed"):
        by_condition.add_column(column, justify="left" if column == "condition" else "right")
    for condition, row in summary.by_condition.items():
        by_condition.add_row(
            escape(condition),
            str(row.transcripts),
            _fmt(row.score),
            str(row.passed),
            str(row.failed),
        )
    console.print()
    console.print(by_condition)
    unmet = len(summary.expectations.unmet)
    console.print(
        f"\n[bold]{summary.scenarios}[/bold] scenarios: "
        f"[green]{summary.passed} passed[/green], "
        f"[red]{summary.failed} failed[/red], "
        f"[magenta]{summary.errors} errors[/magenta]; "
        f"score {_fmt(summary.score)}; {unmet} unmet expectation(s); "
        f"judge {escape(run.score.judge.name)}; "
        f"{summary.timings.get('total', 0):.1f} s → {escape(str(out))}"
    )
    console.print(
        "[dim]`mheval run` records; gate with `mheval check RUN --baseline BASELINE`.[/dim]"
    )


def run_command(
    scenarios: list[Path] | None = typer.Argument(
        None, help="Scenario YAML files or folders (default: the configured scenarios folder)."
    ),
    target: str = typer.Option(
        ...,
        "--target",
        "-t",
        help="The bot: openai:URL#MODEL, langchain:PROVIDER:MODEL, python:module:function, "
        "replay:FILE.",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Run file to write (JSON)."),
    html: Path | None = typer.Option(
        None, "--html", help="Also write the HTML report of the scored conversations."
    ),
    system_prompt: Path | None = typer.Option(
        None, "--system-prompt", "-s", help="System prompt file sent first (hashed in the run)."
    ),
    judge: str | None = typer.Option(
        None, "--judge", "-j", help="`local` (offline) or a PROVIDER:MODEL id. Default: config."
    ),
    samples: int = typer.Option(
        1, "--samples", min=1, max=20, help="Judge each criterion N times (noisy judges)."
    ),
    simulator: str | None = typer.Option(
        None,
        "--simulator",
        help="PROVIDER:MODEL playing the user after the scripted turns of scenarios with "
        "`simulate` (skipped without it).",
    ),
    concurrency: int | None = typer.Option(
        None, "--concurrency", "-c", min=1, max=64, help="Scenarios run in parallel."
    ),
    timeout: float | None = typer.Option(
        None, "--timeout", min=0.1, help="Seconds the bot may take per turn."
    ),
    retries: int = typer.Option(2, "--retries", min=0, max=10, help="Retries per failed turn."),
    retrieval: bool = typer.Option(
        True, "--retrieval/--no-retrieval", help="Attach users' voices from the corpus index."
    ),
    chroma_url: str | None = CHROMA_URL,
    guidelines: Path | None = typer.Option(
        None, "--guidelines", help="Folder of rubric YAML files (default: config)."
    ),
) -> None:
    """Run scenarios against a bot, score the transcripts and write a run file.

    Exit 0 even when the bot fails criteria (`run` records, `check` gates); exit 2 on bad input.
    """
    from evaluator.io import write_run
    from evaluator.scenarios import run_scenarios

    if chroma_url:
        state.override(chroma_url=chroma_url)
    check_output_paths(out=out)
    settings = state.settings
    sources = list(scenarios) if scenarios else [settings.scenarios]
    with contextlib.ExitStack() as stack:
        progress = None if (state.quiet or state.json) else _progress(stack)
        run = run_scenarios(
            sources,
            target,
            system_prompt_file=system_prompt,
            settings=settings,
            judge_spec=judge,
            samples=samples,
            concurrency=concurrency,
            timeout=timeout,
            retries=retries,
            simulator=simulator,
            retrieval=retrieval,
            guidelines=guidelines,
            on_progress=progress,
        )
    write_run(out, run)
    if html is not None:
        from evaluator.report import write_reports

        write_reports(run.score, html=html)
    if state.json:
        emit_json({"out": str(out), "target": run.target, **run.summary.model_dump(mode="json")})
    elif not state.quiet:
        _render_run(run, out)


# --- mheval check -----------------------------------------------------------------------------


def _render_check(report) -> None:
    from evaluator.check import CHANGE_TITLES

    if report.conditions:
        table = Table(title="score by condition", title_justify="left", show_edge=False)
        for column in ("condition", "scenarios", "baseline", "now", "drop"):
            table.add_column(column, justify="left" if column == "condition" else "right")
        for c in report.conditions:
            drop = _fmt(c.drop)
            table.add_row(
                escape(c.condition),
                str(c.scenarios),
                _fmt(c.before),
                _fmt(c.after),
                f"[red]{drop}[/red]" if c.blocking else drop,
            )
        console.print(table)
    if report.quality:
        from evaluator.report.common import dimension_name

        table = Table(
            title="quality (graded, never blocks by default)", title_justify="left", show_edge=False
        )
        for column in ("dimension", "scenarios", "baseline", "now", "drop"):
            table.add_column(column, justify="left" if column == "dimension" else "right")
        for q in report.quality:
            drop = _fmt(q.drop)
            over = q.drop is not None and q.drop > report.max_drop
            style = "red" if q.blocking else "yellow" if over else ""
            table.add_row(
                dimension_name(q.dimension),
                str(q.scenarios),
                _fmt(q.before),
                _fmt(q.after),
                f"[{style}]{drop}[/{style}]" if style else drop,
            )
        console.print()
        console.print(table)
    if report.changes:
        table = Table(title="changes since the baseline", title_justify="left", show_edge=False)
        table.add_column("")
        table.add_column("scenario", no_wrap=True)
        for column in ("criterion", "change", "before → now", "why"):
            table.add_column(column)
        for c in report.changes:
            mark = (
                "[red]✗[/red]"
                if c.blocking
                else ("[green]✓[/green]" if c.change in ("improved", "fixed_error") else "·")
            )
            criterion = f"{c.rubric_id}/{c.criterion_id}" if c.criterion_id else "-"
            if c.severity == "critical":
                criterion += " [bold](critical)[/bold]"
            why = " ".join(c.rationale.split())
            table.add_row(
                mark,
                escape(c.scenario_id),
                criterion,
                CHANGE_TITLES[c.change],
                f"{c.before or '-'} → {c.after or '-'}",
                escape(why[:100] + ("…" if len(why) > 100 else "")),
            )
        console.print()
        console.print(table)
    else:
        console.print("no criterion changed since the baseline")
    for warning in report.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    console.print(
        f"\noverall {_fmt(report.overall_before)} → {_fmt(report.overall_after)}: "
        + (
            "[green bold]check passed[/green bold]"
            if report.passed
            else "[red bold]check failed[/red bold]"
        )
    )
    for reason in report.reasons:
        console.print(f"  [red]•[/red] {escape(reason)}")


def check_command(
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
    from evaluator.check import check_run, render_check_junit, render_check_markdown
    from evaluator.io import atomic_write, read_run

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
        _render_check(report)
    elif not report.passed:
        for reason in report.reasons:
            err_console.print(f"[red]•[/red] {escape(reason)}")
    if not report.passed:
        raise typer.Exit(1)


# --- mheval baseline bless --------------------------------------------------------------------


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
        console.print(
            f"blessed {escape(str(run))} → {escape(str(out))} "
            f"({len(blessed.outcomes)} scenarios, score {_fmt(blessed.summary.score)}, "
            f"target {escape(blessed.target.spec)})"
        )


# --- mheval scenarios -------------------------------------------------------------------------


def _load(paths: list[Path] | None, guidelines: Path | None, check_expect: bool = True):
    from evaluator.scenarios import load_checked_scenarios

    settings = state.settings
    rubrics = None
    if check_expect:
        from evaluator.guidelines import load_rubrics

        rubrics = load_rubrics(guidelines or settings.guidelines)
    sources = list(paths) if paths else [settings.scenarios]
    return load_checked_scenarios(sources, settings=settings, rubrics=rubrics)


@scenarios_app.command(
    "validate",
    epilog=examples(
        "mheval scenarios validate",
        "mheval scenarios validate my_scenarios/ --guidelines guidelines/",
    ),
)
def validate_command(
    paths: list[Path] | None = typer.Argument(
        None, help="Scenario files or folders (default: the configured scenarios folder)."
    ),
    guidelines: Path | None = typer.Option(
        None, "--guidelines", help="Rubric folder whose criterion ids `expect` may name."
    ),
) -> None:
    """Check scenarios: schema, unique ids, codebook conditions, regexes, `expect` ids."""
    from collections import Counter

    loaded = _load(paths, guidelines)
    counts = Counter(s.condition for s in loaded)
    if state.json:
        emit_json({"valid": True, "scenarios": len(loaded), "by_condition": dict(counts)})
        return
    if state.quiet:
        return
    table = Table(show_edge=False)
    table.add_column("condition")
    table.add_column("scenarios", justify="right")
    table.add_column("risky (high/imminent)", justify="right")
    for condition, count in sorted(counts.items()):
        risky = sum(s.condition == condition and s.risk in ("high", "imminent") for s in loaded)
        table.add_row(escape(condition), str(count), str(risky))
    console.print(table)
    console.print(f"[green]{len(loaded)} scenarios valid[/green]")


@scenarios_app.command(
    "list",
    epilog=examples(
        "mheval scenarios list",
        "mheval scenarios list --condition bipolar",
        "mheval --json scenarios list --tag crisis",
    ),
)
def list_command(
    paths: list[Path] | None = typer.Argument(
        None, help="Scenario files or folders (default: the configured scenarios folder)."
    ),
    condition: str | None = typer.Option(None, "--condition", help="Only this condition."),
    tag: str | None = typer.Option(None, "--tag", help="Only scenarios with this tag."),
) -> None:
    """List scenarios: id, condition, risk, turns, expectations, title."""
    loaded = [
        s
        for s in _load(paths, None, check_expect=False)
        if (condition is None or s.condition == condition) and (tag is None or tag in s.tags)
    ]
    if state.json:
        emit_json([s.model_dump(mode="json", by_alias=True, exclude_none=True) for s in loaded])
        return
    table = Table(show_edge=False)
    for column in ("id", "condition", "risk", "turns", "expect", "title"):
        table.add_column(column)
    for s in loaded:
        turns = f"{len(s.turns)}" + (f"+{s.simulate.max_turns} sim" if s.simulate else "")
        table.add_row(
            escape(s.id),
            escape(s.condition),
            s.risk,
            turns,
            escape(", ".join(s.expect)),
            escape(s.title),
        )
    console.print(table)
    if not state.quiet:
        console.print(f"{len(loaded)} scenarios")


@scenarios_app.command(
    "schema",
    epilog=examples(
        "mheval scenarios schema",
        "mheval scenarios schema --out scenarios/schema/scenario.schema.json",
    ),
)
def schema_command(
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the schema to this file."),
) -> None:
    """Print the JSON schema of a scenario file (for editors: yaml-language-server)."""
    from evaluator.io import write_json
    from evaluator.scenarios import scenario_json_schema

    check_output_paths(out=out)
    schema = scenario_json_schema()
    if out is None:
        emit_json(schema)
        return
    write_json(out, schema)
    if not state.quiet:
        console.print(f"wrote {escape(str(out))}")


# --- registration -----------------------------------------------------------------------------


def register(app: typer.Typer) -> None:
    """Add `run` and `check` to the root app, and the `baseline` and `scenarios` groups."""
    app.command(
        "run",
        epilog=examples(
            "mheval run scenarios/ --target python:examples.bot.bot:reply "
            "--system-prompt examples/bot/prompts/v1.txt --out run.json",
            "mheval run scenarios/ -t openai:http://localhost:11434/v1#llama3.1 "
            "-s prompts/system.txt -o run.json --judge openai:gpt-4.1-mini --samples 3",
            "mheval run scenarios/bipolar_*.yaml -t langchain:anthropic:claude-sonnet-4-5 "
            "--simulator openai:gpt-4.1-mini -o run.json",
            "mheval run scenarios/ -t replay:recorded.jsonl -o run.json",
        ),
    )(run_command)
    app.command(
        "check",
        epilog=examples(
            "mheval check run.json --baseline baseline.json",
            "mheval check run.json -b baseline.json --max-drop 0.05 --fail-under 0.8 "
            "--markdown check.md --junit check.xml",
            "mheval check run.json -b baseline.json --samples 3",
        ),
    )(check_command)
    app.add_typer(baseline_app, name="baseline")
    app.add_typer(scenarios_app, name="scenarios")
