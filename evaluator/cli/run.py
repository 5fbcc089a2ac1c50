"""`mheval run`: play scenarios against a bot, score the transcripts, write a run file."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import typer

from evaluator.cli._common import (
    CHROMA_URL,
    CONCURRENCY,
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

__all__ = ["run", "EPILOG"]

EPILOG = examples(
    "mheval run scenarios/ --target python:examples.bot.bot:reply "
    "--system-prompt examples/bot/prompts/v1.txt --out run.json",
    "mheval run scenarios/ -t openai:http://localhost:11434/v1#llama3.1 "
    "-s prompts/system.txt -o run.json --judge openai:gpt-4.1-mini --samples 3",
    "mheval run scenarios/bipolar_*.yaml -t langchain:anthropic:claude-sonnet-4-5 "
    "--simulator openai:gpt-4.1-mini -o run.json",
    "mheval run scenarios/ -t replay:recorded.jsonl -o run.json",
)


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


def run(
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
    judge: str | None = JUDGE,
    samples: int = SAMPLES,
    simulator: str | None = typer.Option(
        None,
        "--simulator",
        help="PROVIDER:MODEL playing the user after the scripted turns of scenarios with "
        "`simulate` (skipped without it).",
    ),
    concurrency: int | None = CONCURRENCY,
    timeout: float | None = typer.Option(
        None, "--timeout", min=0.1, help="Seconds the bot may take per turn."
    ),
    retries: int = typer.Option(2, "--retries", min=0, max=10, help="Retries per failed turn."),
    retrieval: bool = RETRIEVAL,
    chroma_url: str | None = CHROMA_URL,
    guidelines: Path | None = GUIDELINES,
) -> None:
    """Run scenarios against a bot, score the transcripts and write a run file.

    Exit 0 even when the bot fails criteria (`run` records, `check` gates); exit 2 on bad input.
    """
    from evaluator.io import write_run
    from evaluator.report.terminal import render_run
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
            on_notice=notice,
            index_progress=sys.stderr.isatty(),
        )
    write_run(out, run)
    if html is not None:
        from evaluator.report import write_reports

        write_reports(run.score, html=html)
    if state.json:
        emit_json({"out": str(out), "target": run.target, **run.summary.model_dump(mode="json")})
    elif not state.quiet:
        render_run(run, out, console)
