"""`mheval findings`: statistics over annotations → findings.json, findings.md, heatmaps."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from evaluator.cli._common import console, emit_json, examples, state

__all__ = ["findings", "EPILOG"]

EPILOG = examples(
    "mheval findings corpus_index/annotations.jsonl.gz --out corpus_index/findings",
    "mheval findings annotations.jsonl --out findings/ --min-support 50",
    "mheval --json findings annotations.jsonl --out findings/ | jq .conditions",
)


def _ci(ci) -> str:
    return f"[{ci[0]:+.2f}, {ci[1]:+.2f}]" if ci else "–"


def _render(output) -> None:
    from evaluator.findings import over_represented

    f = output.findings
    console.print(
        f"[bold]{f.n_relevant_posts}[/bold] relevant of {f.n_posts} posts, "
        f"[bold]{f.n_impacts}[/bold] impacts, {f.n_crisis_posts} crisis posts "
        f"(min support {f.min_support})"
    )
    table = Table(title="Conditions", title_justify="left", show_edge=False)
    for column, justify in (
        ("condition", "left"),
        ("impacts", "right"),
        ("posts", "right"),
        ("pos/neu/neg", "right"),
        ("mean", "right"),
        ("95% CI", "right"),
        ("support", "left"),
    ):
        table.add_column(column, justify=justify)
    for g in f.conditions:
        c = g.sentiment.counts
        table.add_row(
            escape(g.name),
            str(g.n_impacts),
            str(g.n_posts),
            f"{c['positive']}/{c['neutral']}/{c['negative']}",
            f"{g.sentiment.mean_score:+.2f}",
            _ci(g.sentiment.mean_ci),
            "[yellow]low[/yellow]" if g.low_support else "[green]ok[/green]",
        )
    console.print(table)
    cells = []
    for name in ("condition_x_sentiment", "condition_x_perspective", "condition_x_value"):
        cells += over_represented(f, name)
    cells.sort(key=lambda c: -c.residual)
    if cells:
        top = Table(title="Most over-represented cells", title_justify="left", show_edge=False)
        for column in ("cell", "observed", "expected", "residual", "adj. p"):
            top.add_column(column, justify="left" if column == "cell" else "right")
        for cell in cells[:12]:
            top.add_row(
                escape(f"{cell.row} × {cell.col}"),
                str(cell.observed),
                f"{cell.expected:.1f}",
                f"{cell.residual:+.1f}",
                f"{cell.p_adjusted:.3g}",
            )
        console.print(top)
    for note in f.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")
    written = [output.json_path, output.markdown_path, *output.heatmaps]
    console.print("wrote " + ", ".join(escape(str(p)) for p in written))


def findings(
    annotations: Path | None = typer.Argument(
        None, help="Annotations from `mheval mine` (default: the configured annotations file)."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output folder (default: the configured findings folder)."
    ),
    min_support: int = typer.Option(
        30, "--min-support", min=1, help="Impacts a group needs to enter the tests."
    ),
    alpha: float = typer.Option(
        0.05, "--alpha", min=0.0001, max=0.5, help="False discovery rate (Benjamini-Hochberg)."
    ),
    reference: Path | None = typer.Option(
        None,
        "--reference",
        help="Seed paper counts to compare with (default: corpus_index/paper/).",
    ),
    codebook: Path | None = typer.Option(
        None,
        "--codebook",
        help="Check labels against this codebook (default: the configured one, if present).",
    ),
    heatmaps: bool = typer.Option(True, "--heatmaps/--no-heatmaps", help="Write PNG heatmaps."),
) -> None:
    """Statistics over annotations: which conditions, perspectives and values go together.

    Per condition: support and sentiment; condition × sentiment/perspective/value tables with
    chi-square, Cramér's V and BH-corrected adjusted residuals; value × perspective PMI;
    per-product sentiment; a comparison with the seed paper. Writes findings.json, findings.md
    and heatmaps.
    """
    from evaluator.config import writable_output
    from evaluator.findings import run_findings

    settings = state.settings
    if codebook is None and settings.codebook.is_file():
        codebook = settings.codebook
    output = run_findings(
        annotations or settings.annotations,
        writable_output(out or settings.findings),
        min_support=min_support,
        alpha=alpha,
        reference=reference,
        codebook=codebook,
        heatmaps=heatmaps,
    )
    if state.wants_json():
        emit_json(output.findings)
    elif not state.quiet:
        _render(output)
