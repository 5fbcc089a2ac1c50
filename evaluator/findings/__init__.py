"""Stage `findings`: statistics over annotations, written as findings.json, findings.md and
heatmaps. Rubric builds (`evaluator.guidelines`) read only `findings.json`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evaluator.findings.report import over_represented, render_markdown, write_heatmap
from evaluator.findings.stats import (
    PAPER_CONDITIONS,
    SENTIMENT_SCORE,
    compute_findings,
    contingency,
    cooccurrence,
    load_annotations,
    sentiment_summary,
)
from evaluator.io import atomic_write, read_model, write_json
from evaluator.types.findings import FINDINGS_FORMAT_VERSION, Findings

__all__ = [
    "FindingsOutput",
    "run_findings",
    "load_findings",
    "compute_findings",
    "contingency",
    "cooccurrence",
    "sentiment_summary",
    "load_annotations",
    "render_markdown",
    "write_heatmap",
    "over_represented",
    "PAPER_CONDITIONS",
    "SENTIMENT_SCORE",
]


@dataclass
class FindingsOutput:
    findings: Findings
    json_path: Path
    markdown_path: Path
    heatmaps: list[Path] = field(default_factory=list)


def _default_reference() -> Path | None:
    from evaluator.config import project_root

    path = project_root() / "corpus_index" / "paper" / "reference_counts.json"
    return path if path.is_file() else None


def run_findings(
    annotations: Path,
    out_dir: Path,
    *,
    min_support: int = 30,
    alpha: float = 0.05,
    reference: Path | None = None,
    codebook: Path | None = None,
    heatmaps: bool = True,
) -> FindingsOutput:
    """Compute findings and write findings.json, findings.md and one PNG per residual table.

    `reference` defaults to the seed paper's counts shipped in corpus_index/paper/; `codebook`,
    when given, checks every label and orders table columns as the codebook does.
    """
    book = None
    if codebook is not None:
        from evaluator.codebook import load_codebook

        book = load_codebook(codebook)
    findings = compute_findings(
        Path(annotations),
        min_support=min_support,
        alpha=alpha,
        reference=reference if reference is not None else _default_reference(),
        codebook=book,
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pictures: dict[str, str] = {}
    written: list[Path] = []
    if heatmaps:
        for name in ("condition_x_sentiment", "condition_x_perspective", "condition_x_value"):
            path = out_dir / f"{name}.png"
            if write_heatmap(findings.tables[name], path):
                pictures[name] = path.name
                written.append(path)
    json_path = out_dir / "findings.json"
    markdown_path = out_dir / "findings.md"
    write_json(json_path, findings)
    with atomic_write(markdown_path) as handle:
        handle.write(render_markdown(findings, pictures))
    return FindingsOutput(findings, json_path, markdown_path, written)


def load_findings(path: Path) -> Findings:
    """Read findings.json (or the folder holding it), refusing other format versions."""
    path = Path(path)
    if path.is_dir():
        path = path / "findings.json"
    return read_model(
        path,
        Findings,
        version=FINDINGS_FORMAT_VERSION,
        what="findings file (written by `mheval findings`)",
        hint="re-run `mheval findings`",
    )
