"""Readable renderings of findings: a Markdown report and PNG heatmaps of adjusted residuals."""

from __future__ import annotations

from pathlib import Path

from evaluator.io import atomic_write
from evaluator.types.findings import ContingencyTable, Findings, GroupSummary

__all__ = ["render_markdown", "write_heatmap", "over_represented"]

_RESIDUAL_TABLES = ("condition_x_sentiment", "condition_x_perspective", "condition_x_value")


def over_represented(findings: Findings, table: str) -> list:
    """Significant positive cells of a table, strongest first."""
    cells = [c for c in findings.tables[table].cells if c.over_represented]
    return sorted(cells, key=lambda c: -c.residual)


def _fmt_p(p: float | None) -> str:
    if p is None:
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _p_clause(p: float | None) -> str:
    if p is None:
        return "p = –"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _ci(ci) -> str:
    return f"[{ci[0]:+.2f}, {ci[1]:+.2f}]" if ci else "–"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _group_table(groups: list[GroupSummary], kind: str) -> list[str]:
    lines = [
        f"| {kind} | impacts | posts | crisis posts | positive | neutral | negative "
        "| mean score | 95% CI | support |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for g in groups:
        s = g.sentiment
        lines.append(
            f"| {g.name} | {g.n_impacts} | {g.n_posts} | {g.n_crisis_posts} "
            f"| {s.shares['positive']:.0%} | {s.shares['neutral']:.0%} "
            f"| {s.shares['negative']:.0%} | {s.mean_score:+.2f} | {_ci(s.mean_ci)} "
            f"| {'**low**' if g.low_support else 'ok'} |"
        )
    return lines


def _residual_table(table: ContingencyTable) -> list[str]:
    lines = [f"### {table.row_kind} × {table.col_kind}", ""]
    if table.note:
        lines += [f"_{table.note}_", ""]
    if table.chi2 is not None:
        lines += [
            f"χ²({table.dof}) = {table.chi2:.1f}, {_p_clause(table.p_value)}, "
            f"Cramér's V = {table.cramers_v:.2f}, n = {table.n}. Cells show the count and "
            "the adjusted residual; `*` marks a cell significant after Benjamini-Hochberg "
            "correction (positive = over-represented).",
            "",
        ]
    if table.rows and table.cols:
        lines.append("| | " + " | ".join(table.cols) + " |")
        lines.append("|---|" + "---:|" * len(table.cols))
        for i, row in enumerate(table.rows):
            cells = []
            for j, col in enumerate(table.cols):
                stat = table.cell(row, col)
                count = table.counts[i][j]
                if stat is None:
                    cells.append(str(count))
                else:
                    mark = "*" if stat.significant else ""
                    cells.append(f"{count} ({stat.residual:+.1f}{mark})")
            lines.append(f"| **{row}** | " + " | ".join(cells) + " |")
        lines.append("")
    if table.excluded_rows:
        excluded = ", ".join(f"{name} ({n})" for name, n in table.excluded_rows.items())
        lines += [f"Left out for low support: {excluded}.", ""]
    return lines


def render_markdown(findings: Findings, heatmaps: dict[str, str] | None = None) -> str:
    """The whole report; `heatmaps` maps a table name to its PNG file name (relative)."""
    heatmaps = heatmaps or {}
    f = findings
    lines = [
        "# Findings",
        "",
        f"Input `{Path(f.input_file).name}` (sha256 `{f.input_sha256[:12]}`), "
        f"mheval {f.tool_version}, codebook {f.codebook_version or 'unknown'}, "
        f"created {f.created_at}. Minimum support {f.min_support} impacts per group; "
        f"α = {f.alpha} (Benjamini-Hochberg).",
        "",
        f"- posts: {f.n_posts} annotated, {f.n_relevant_posts} relevant"
        + (f", {f.n_failed_posts} failed" if f.n_failed_posts else ""),
        f"- impacts: {f.n_impacts}",
        f"- crisis posts (suicidal ideation / self-harm): {f.n_crisis_posts}",
        "",
    ]
    supported = [g.name for g in f.conditions if not g.low_support]
    thin = [f"{g.name} ({g.n_impacts})" for g in f.conditions if g.low_support]
    lines.append(
        f"**Support.** Conditions with at least {f.min_support} impacts, tested below: "
        f"{', '.join(supported) or 'none'}."
        + (
            f" Too thin to test: {', '.join(thin)}; their sentiment is shown with wide "
            "intervals, and rubrics for them rest on the seed paper's published results."
            if thin
            else ""
        )
    )
    lines.append("")
    if f.notes:
        lines += [f"> {note}" for note in f.notes] + [""]
    lines += ["## Conditions", "", "Sentiment score: positive = 1, neutral = 0, negative = −1.", ""]
    lines += _group_table(f.conditions, "condition") + [""]
    lines += ["## Residuals", ""]
    for name in _RESIDUAL_TABLES:
        table = f.tables.get(name)
        if table is None:
            continue
        lines += _residual_table(table)
        if name in heatmaps:
            lines += [f"![{name}]({heatmaps[name]})", ""]
    lines += _over_represented_lines(f)
    lines += _cooccurrence_lines(f)
    lines += ["", "## Products", ""]
    if f.products:
        lines += _group_table(f.products, "product") + [""]
        product_table = f.tables.get("product_x_sentiment")
        if product_table is not None:
            lines += _residual_table(product_table)
    else:
        lines += ["_No impact names a product._", ""]
    lines += _paper_lines(f)
    return "\n".join(lines).rstrip() + "\n"


def _over_represented_lines(f: Findings) -> list[str]:
    """Each significant over-represented cell of the residual tables, with its quotes."""
    lines = ["## Over-represented cells and what users said", ""]
    any_cell = False
    for name in _RESIDUAL_TABLES:
        if name not in f.tables:
            continue
        for cell in over_represented(f, name):
            any_cell = True
            lines.append(
                f"- **{cell.row} × {cell.col}**: {cell.observed} observed vs "
                f"{cell.expected:.1f} expected (residual {cell.residual:+.1f}, "
                f"adjusted p {_fmt_p(cell.p_adjusted)})"
            )
            for quote in cell.quotes:
                lines.append(f"  - “{_md_escape(quote.quote)}” (`{quote.post_id}`)")
    if not any_cell:
        lines.append("_No over-represented cell (too little data or no association)._")
    return lines


def _cooccurrence_lines(f: Findings) -> list[str]:
    """The strongest value x perspective pairs observed at least twice."""
    lines = ["", "## Values × perspectives (co-occurrence within an impact)", ""]
    shown = [c for c in f.cooccurrence if c.count >= 2][:25]
    if shown:
        lines += [
            f"{f.cooccurrence_tests} pairs tested (Fisher exact, BH-corrected); the 25 "
            "strongest observed pairs (count ≥ 2):",
            "",
            "| value | perspective | count | expected | PMI | NPMI | adj. p | |",
            "|---|---|---:|---:|---:|---:|---:|---|",
        ]
        for c in shown:
            lines.append(
                f"| {c.value} | {c.perspective} | {c.count} | {c.expected:.1f} | {c.pmi:+.2f} "
                f"| {c.npmi:+.2f} | {_fmt_p(c.p_adjusted)} | {'*' if c.significant else ''} |"
            )
    else:
        lines.append("_No pair observed at least twice._")
    return lines


def _paper_lines(f: Findings) -> list[str]:
    """This corpus's condition mix next to the seed paper's, when there is a comparison."""
    if not f.paper_comparison:
        return []
    lines = [
        "## This corpus vs the seed paper",
        "",
        "Condition mix of this corpus's impacts next to the raw impact counts published "
        "with Li et al. (arXiv 2512.07797) code, before that paper's final cleaning.",
        "",
        "| condition | paper category | paper n | paper share | corpus n | corpus share |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in f.paper_comparison:
        lines.append(
            f"| {row.condition} | {row.paper_category or '–'} | {row.paper_count} "
            f"| {row.paper_share:.1%} | {row.corpus_count} | {row.corpus_share:.1%} |"
        )
    lines.append("")
    return lines


def write_heatmap(table: ContingencyTable, path: Path) -> bool:
    """Draw the adjusted residuals of a tested table; False when there is nothing to draw."""
    if not table.cells:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    grid = np.array(
        [[table.cell(r, c).residual for c in table.cols] for r in table.rows], dtype=float
    )
    # Colours saturate at ±10 so one extreme cell does not wash out the rest; the printed
    # numbers stay exact.
    limit = min(10.0, max(4.0, float(np.nanmax(np.abs(grid)))))
    width = max(5.0, 1.0 + 0.75 * len(table.cols))
    height = max(2.5, 0.9 + 0.5 * len(table.rows))
    fig, ax = plt.subplots(figsize=(width, height), dpi=110)
    try:
        image = ax.imshow(grid, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
        ax.set_xticks(range(len(table.cols)), labels=table.cols, rotation=40, ha="right")
        ax.set_yticks(range(len(table.rows)), labels=table.rows)
        for i, row in enumerate(table.rows):
            for j, col in enumerate(table.cols):
                cell = table.cell(row, col)
                text = f"{cell.residual:+.1f}{'*' if cell.significant else ''}"
                dark = abs(cell.residual) > limit * 0.6
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if dark else "black",
                )
        ax.set_title(
            f"{table.row_kind} × {table.col_kind}: adjusted residuals "
            f"(* BH-significant; n={table.n}, V={table.cramers_v:.2f})",
            fontsize=9,
        )
        fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02)
        fig.tight_layout()
        with atomic_write(path, "wb", encoding=None) as handle:
            fig.savefig(handle, format="png")
    finally:
        plt.close(fig)
    return True
