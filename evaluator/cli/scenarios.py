"""`mheval scenarios validate|list|schema`: check, list and describe scenario files."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from evaluator.cli._common import (
    GUIDELINES,
    check_output_paths,
    console,
    emit_json,
    examples,
    new_app,
    state,
)

__all__ = ["app"]

app = new_app(
    "Scenario files: validate them (schema, codebook conditions, expected criterion ids), list "
    "them, print their JSON schema."
)


def _load(paths: list[Path] | None, guidelines: Path | None, check_expect: bool = True):
    from evaluator.scenarios import load_checked_scenarios

    settings = state.settings
    rubrics = None
    if check_expect:
        from evaluator.guidelines import load_rubrics

        rubrics = load_rubrics(guidelines or settings.guidelines)
    sources = list(paths) if paths else [settings.scenarios]
    return load_checked_scenarios(sources, settings=settings, rubrics=rubrics)


@app.command(
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
    guidelines: Path | None = GUIDELINES,
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


@app.command(
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


@app.command(
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
