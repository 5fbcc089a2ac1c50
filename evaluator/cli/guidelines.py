"""`mheval guidelines`: build rubrics from findings, validate, show, diff, export the schema."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from evaluator.cli._common import console, emit_json, examples, new_app, state

__all__ = ["app"]

app = new_app(
    "Condition-specific, value-sensitive rubrics: built from findings, checked, shown, compared."
)
app.info.epilog = examples(
    "mheval guidelines build corpus_index/findings/findings.json --out guidelines/",
    "mheval guidelines show bipolar",
    "mheval guidelines diff old_guidelines/ guidelines/",
)

_SEVERITY_STYLE = {"critical": "bold red", "major": "yellow", "minor": "dim", "quality": "cyan"}


def _guidelines_dir(directory: Path | None) -> Path:
    return directory or state.settings.guidelines


@app.command(
    "build",
    epilog=examples(
        "mheval guidelines build corpus_index/findings/findings.json --out guidelines/",
        "mheval guidelines build findings/ --out my_rubrics/ --overrides team_overrides.yaml",
    ),
)
def build(
    findings: Path = typer.Argument(..., help="findings.json (or the folder holding it)."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Rubric folder (default: the configured guidelines folder)."
    ),
    overrides: Path | None = typer.Option(
        None, "--overrides", help="Overrides file (default: OUT/overrides.yaml if present)."
    ),
) -> None:
    """Generate base.yaml and one rubric per condition from findings, apply overrides, and
    write versioned YAML plus the JSON schemas."""
    from evaluator.config import writable_output
    from evaluator.guidelines import run_build

    directory = writable_output(_guidelines_dir(out))
    result = run_build(findings, directory, overrides=overrides)
    if state.wants_json():
        emit_json(
            {
                "rubrics": {
                    r.id: {"version": r.version, "criteria": len(r.criteria)}
                    for r in result.rubrics.values()
                },
                "written": [str(p) for p in result.written],
                "removed": [str(p) for p in result.removed],
                "changed": result.changed,
                "overrides": str(result.overrides) if result.overrides else None,
            }
        )
        return
    if state.quiet:
        return
    console.print(_rubric_table(result.rubrics, changed=set(result.changed)))
    if result.overrides:
        console.print(f"applied overrides from {escape(str(result.overrides))}")
    for path in result.removed:
        console.print(f"[yellow]removed[/yellow] {escape(str(path))} (no longer generated)")
    console.print(f"wrote {len(result.written)} rubric files to {escape(str(directory))}")


def _rubric_table(rubrics, changed: set[str] | None = None) -> Table:
    table = Table(show_edge=False)
    for column in ("rubric", "condition", "version", "criteria", "critical", "evidence"):
        table.add_column(column, justify="right" if column in ("criteria", "critical") else "left")
    for rubric in rubrics.values():
        sources: dict[str, int] = {}
        for criterion in rubric.criteria:
            source = criterion.evidence[0].source
            sources[source] = sources.get(source, 0) + 1
        version = escape(rubric.version)
        if changed is not None and rubric.id in changed:
            version += " [green](new)[/green]"
        table.add_row(
            escape(rubric.id),
            escape(rubric.condition or "–"),
            version,
            str(len(rubric.criteria)),
            str(sum(c.severity == "critical" for c in rubric.criteria)),
            ", ".join(f"{k} {v}" for k, v in sorted(sources.items())),
        )
    return table


@app.command(
    "validate",
    epilog=examples("mheval guidelines validate", "mheval guidelines validate my_rubrics/"),
)
def validate(
    directory: Path | None = typer.Argument(
        None, help="Rubric folder (default: the configured guidelines folder)."
    ),
) -> None:
    """Check every rubric file against the schema (errors name file and field) and warn about
    criteria the offline judge cannot score or labels the codebook does not know."""
    from evaluator.guidelines import validate_directory

    report = validate_directory(_guidelines_dir(directory))
    if state.wants_json():
        emit_json(
            {
                "directory": str(report.directory),
                "rubrics": {r.id: r.version for r in report.rubrics.values()},
                "criteria": report.n_criteria,
                "warnings": report.warnings,
            }
        )
        return
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    if not state.quiet:
        console.print(
            f"[green]ok[/green] {len(report.rubrics)} rubrics, {report.n_criteria} criteria "
            f"in {escape(str(report.directory))}"
        )


def _applies(criterion) -> str:
    when = criterion.applies_when
    parts = []
    if when.crisis is not None:
        parts.append("crisis" if when.crisis else "no crisis")
    if when.conditions:
        parts.append("condition in " + ", ".join(when.conditions))
    if when.user_intent:
        parts.append(f"user intent matches one of {len(when.user_intent)} patterns")
    return "; ".join(parts) or "always"


def _criterion_panel(criterion, verbose: bool) -> Panel:
    style = _SEVERITY_STYLE[criterion.severity]
    lines = [
        escape(criterion.description),
        "",
        f"[bold]applies:[/bold] {escape(_applies(criterion))}",
    ]
    if criterion.signals is not None:
        join = " or " if criterion.signals.require_any else " and "
        if criterion.signals.require:
            lines.append(f"[bold]requires:[/bold] {join.join(criterion.signals.require)}")
        if criterion.signals.forbid:
            lines.append(f"[bold]forbids:[/bold] {', '.join(criterion.signals.forbid)}")
    labels = [*criterion.values, *criterion.perspectives]
    if labels:
        lines.append(f"[bold]values/perspectives:[/bold] {escape(', '.join(labels))}")
    lines.append("")
    lines.append(f"[red]fail[/red]: {escape(criterion.scale.fail)}")
    if criterion.scale.partial:
        lines.append(f"[yellow]partial[/yellow]: {escape(criterion.scale.partial)}")
    lines.append(f"[green]pass[/green]: {escape(criterion.scale.pass_)}")
    lines.append("")
    for ref in criterion.evidence:
        bits = [ref.source]
        if ref.cell:
            bits.append(ref.cell)
        if ref.statistic and ref.effect is not None:
            bits.append(f"{ref.statistic} {ref.effect:+.2f}")
        if ref.n is not None:
            bits.append(f"n={ref.n}")
        line = f"[bold]evidence:[/bold] {escape(' · '.join(bits))}"
        if ref.note:
            line += f" — {escape(ref.note)}"
        if ref.quote_ids:
            line += f" [dim](quotes: {escape(', '.join(ref.quote_ids))})[/dim]"
        lines.append(line)
    if verbose:
        for exemplar in criterion.exemplars:
            colour = "green" if exemplar.kind == "good" else "red"
            lines.append("")
            lines.append(f"[{colour}]{exemplar.kind}[/{colour}] user: {escape(exemplar.user)}")
            lines.append(f"     assistant: {escape(exemplar.response)}")
    title = (
        f"[{style}]{criterion.severity}[/{style}] {escape(criterion.id)} "
        f"[dim](weight {criterion.weight:g})[/dim]"
    )
    return Panel("\n".join(lines), title=title, title_align="left", subtitle=None)


@app.command(
    "show",
    epilog=examples(
        "mheval guidelines show",
        "mheval guidelines show bipolar",
        "mheval guidelines show base --exemplars",
    ),
)
def show(
    condition: str | None = typer.Argument(
        None, help="A condition or rubric id (omit to list all rubrics)."
    ),
    directory: Path | None = typer.Option(
        None, "--dir", help="Rubric folder (default: the configured guidelines folder)."
    ),
    exemplars: bool = typer.Option(False, "--exemplars", help="Also show exemplars."),
) -> None:
    """List rubrics, or show one rubric's criteria with anchors, signals and evidence."""
    from evaluator.errors import InputError
    from evaluator.guidelines import load_rubrics

    rubrics = load_rubrics(_guidelines_dir(directory))
    if condition is None:
        if state.wants_json():
            emit_json({r.id: r.model_dump(mode="json", by_alias=True) for r in rubrics.values()})
        else:
            console.print(_rubric_table(rubrics))
        return
    rubric = rubrics.get(condition) or next(
        (r for r in rubrics.values() if r.condition == condition), None
    )
    if rubric is None:
        raise InputError(
            f"no rubric for {condition!r}; known: {', '.join(rubrics)}", field="CONDITION"
        )
    if state.wants_json():
        emit_json(rubric.model_dump(mode="json", by_alias=True))
        return
    console.print(
        f"[bold]{escape(rubric.title)}[/bold] ({escape(rubric.id)} {escape(rubric.version)})"
    )
    if rubric.description:
        console.print(escape(rubric.description))
    for criterion in rubric.criteria:
        console.print(_criterion_panel(criterion, exemplars))


def _short(value) -> str:
    import json

    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


@app.command(
    "diff",
    epilog=examples(
        "mheval guidelines diff old_guidelines/ guidelines/",
        "mheval guidelines diff old/bipolar.yaml guidelines/bipolar.yaml --exit-code",
    ),
)
def diff(
    old: Path = typer.Argument(..., help="Old rubric folder or file."),
    new: Path = typer.Argument(..., help="New rubric folder or file."),
    exit_code: bool = typer.Option(
        False, "--exit-code", help="Exit 1 when there are differences (for CI)."
    ),
) -> None:
    """Show what changed between two rubric versions: rubrics and criteria added or removed,
    and every changed field."""
    from evaluator.guidelines import diff_paths

    result = diff_paths(old, new)
    if state.wants_json():
        emit_json(result)
    elif result.empty:
        console.print("no differences")
    else:
        for rubric_id in result.added:
            console.print(f"[green]+ rubric {escape(rubric_id)}[/green]")
        for rubric_id in result.removed:
            console.print(f"[red]- rubric {escape(rubric_id)}[/red]")
        for change in result.changed:
            console.print(
                f"[bold]~ rubric {escape(change.id)}[/bold] "
                f"{escape(change.old_version)} → {escape(change.new_version)}"
            )
            for field_change in change.changes:
                console.print(
                    f"    {escape(field_change.field)}: {escape(_short(field_change.old))} → "
                    f"{escape(_short(field_change.new))}"
                )
            for criterion_id in change.added:
                console.print(f"  [green]+ {escape(criterion_id)}[/green]")
            for criterion_id in change.removed:
                console.print(f"  [red]- {escape(criterion_id)}[/red]")
            for criterion in change.changed:
                console.print(f"  [yellow]~ {escape(criterion.id)}[/yellow]")
                for field_change in criterion.changes:
                    console.print(
                        f"      {escape(field_change.field)}: "
                        f"{escape(_short(field_change.old))} → {escape(_short(field_change.new))}"
                    )
    if exit_code and not result.empty:
        raise typer.Exit(1)


@app.command(
    "schema", epilog=examples("mheval guidelines schema", "mheval guidelines schema --out .")
)
def schema(
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Folder to write schema/ into (default: the guidelines folder)."
    ),
) -> None:
    """Export JSON schemas of rubric and overrides files, for editor validation."""
    from evaluator.config import writable_output
    from evaluator.guidelines import export_schemas

    paths = export_schemas(writable_output(_guidelines_dir(out)))
    if state.wants_json():
        emit_json([str(p) for p in paths])
    elif not state.quiet:
        console.print("wrote " + ", ".join(escape(str(p)) for p in paths))
