"""Statistics over annotated impacts: who says what, how strongly, and with which user quotes.

Every test comes from scipy/statsmodels; this module only shapes tables and picks quotes. Heavy
imports (numpy, pandas, scipy, statsmodels) happen inside functions so `mheval --help` stays fast.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from evaluator import __version__
from evaluator.errors import InputError
from evaluator.io import file_sha256, iter_jsonl, read_json, validation_error_to_message
from evaluator.types import Annotation, Codebook, Impact
from evaluator.types.findings import (
    CellStat,
    ContingencyTable,
    Cooccurrence,
    Findings,
    GroupSummary,
    PaperComparisonRow,
    QuoteRef,
    SentimentSummary,
)

__all__ = [
    "SENTIMENT_SCORE",
    "DOMINANT",
    "PAPER_CONDITIONS",
    "load_annotations",
    "compute_findings",
    "sentiment_summary",
    "contingency",
    "cooccurrence",
]

SENTIMENT_SCORE = {"positive": 1, "neutral": 0, "negative": -1}
_SENTIMENTS = ("positive", "neutral", "negative")

#: The seed paper's condition categories (reference_counts.json) and our condition ids. A
#: codebook's `paper_category` fields take precedence when a codebook is given.
PAPER_CONDITIONS = {
    "General": "general",
    "Attention-deficit/hyperactivity disorder": "adhd",
    "Anxiety disorders": "anxiety",
    "Depressive disorders": "depressive",
    "Other": "other",
    "Autism spectrum disorders": "autism",
    "Schizophrenia spectrum disorders": "schizophrenia_spectrum",
    "Bipolar disorders": "bipolar",
    "Eating disorders": "eating",
    "Conduct disorders": "conduct",
    "Idiopathic developmental intellectual disability": "intellectual_disability",
}

_QUOTE_CHARS = 300
#: A perspective or value this common within a condition is reported (with quotes) even when it
#: is not over-represented relative to other conditions: it may dominate every condition.
DOMINANT = 0.25


@dataclass(frozen=True)
class _Row:
    """One impact with the post it came from (the unit of every table)."""

    post_id: str
    crisis: bool
    impact: Impact
    product: str | None


def load_annotations(path: Path, codebook: Codebook | None = None) -> list[Annotation]:
    """Read `mheval mine` output; any malformed row or unknown label names file, line and field."""
    known = _known_labels(codebook) if codebook is not None else None
    annotations: list[Annotation] = []
    for line, data in iter_jsonl(path):
        try:
            annotation = Annotation.model_validate(data)
        except ValidationError as exc:
            field, message = validation_error_to_message(exc)
            raise InputError(message, file=path, line=line, field=field) from None
        if known is not None:
            for index, impact in enumerate(annotation.impacts):
                for kind in ("condition", "perspective", "value"):
                    label = getattr(impact, kind)
                    if label not in known[kind]:
                        raise InputError(
                            f"unknown {kind} {label!r} (not in the codebook)",
                            file=path,
                            line=line,
                            field=f"impacts.{index}.{kind}",
                        )
        annotations.append(annotation)
    if not annotations:
        raise InputError("no annotations in file", file=path)
    return annotations


def _known_labels(codebook: Codebook) -> dict[str, set[str]]:
    return {
        "condition": set(codebook.ids("conditions")),
        "perspective": set(codebook.ids("perspectives")),
        "value": {*codebook.ids("values"), "none"},
    }


def _product_names(codebook: Codebook | None) -> dict[str, str]:
    """Lower-cased id or name → display name, so 'chatgpt' and 'ChatGPT' are one product."""
    if codebook is None:
        return {}
    names = {}
    for label in codebook.products:
        display = label.name or label.id
        names[label.id.lower()] = display
        names[display.lower()] = display
    return names


def sentiment_summary(sentiments: Sequence[str]) -> SentimentSummary:
    """Counts, Wilson CIs of shares, and the mean score with a t-interval (statsmodels)."""
    from statsmodels.stats.proportion import proportion_confint
    from statsmodels.stats.weightstats import DescrStatsW

    n = len(sentiments)
    counts = Counter(sentiments)
    shares: dict[str, float] = {}
    share_ci: dict[str, tuple[float, float]] = {}
    for label in _SENTIMENTS:
        k = counts.get(label, 0)
        shares[label] = k / n if n else 0.0
        low, high = proportion_confint(k, n, alpha=0.05, method="wilson") if n else (0.0, 0.0)
        share_ci[label] = (round(float(low), 4), round(float(high), 4))
    scores = [SENTIMENT_SCORE[s] for s in sentiments]
    mean = sum(scores) / n if n else 0.0
    mean_ci = None
    if n >= 2:
        low, high = DescrStatsW(scores).tconfint_mean(alpha=0.05)
        if math.isnan(low):  # all scores equal: zero variance, the interval is the point
            low = high = mean
        # The score is bounded, so the interval is too.
        mean_ci = (round(max(-1.0, float(low)), 4), round(min(1.0, float(high)), 4))
    return SentimentSummary(
        counts={label: counts.get(label, 0) for label in _SENTIMENTS},
        shares={k: round(v, 4) for k, v in shares.items()},
        share_ci=share_ci,
        mean_score=round(mean, 4),
        mean_ci=mean_ci,
    )


def _layout(
    name: str,
    pairs: list[tuple[str, str]],
    *,
    row_kind: str,
    col_kind: str,
    min_support: int,
    col_order: Sequence[str] | None,
) -> ContingencyTable:
    """The untested table: rows with `min_support` observations (most observed first; the others
    in `excluded_rows`), columns in `col_order` or by count, all-zero columns dropped."""
    row_totals = Counter(row for row, _ in pairs)
    rows = sorted(
        (r for r, total in row_totals.items() if total >= min_support),
        key=lambda r: (-row_totals[r], r),
    )
    excluded = {
        r: row_totals[r]
        for r in sorted(row_totals, key=lambda r: (-row_totals[r], r))
        if r not in rows
    }
    kept = [(r, c) for r, c in pairs if r in set(rows)]
    col_totals = Counter(c for _, c in kept)
    if col_order is not None:
        cols = [c for c in col_order if col_totals.get(c)]
        cols += sorted(c for c in col_totals if c not in set(cols))
    else:
        cols = sorted(col_totals, key=lambda c: (-col_totals[c], c))
    cell_counts = Counter(kept)
    return ContingencyTable(
        name=name,
        row_kind=row_kind,
        col_kind=col_kind,
        rows=rows,
        cols=cols,
        counts=[[cell_counts.get((r, c), 0) for c in cols] for r in rows],
        n=len(kept),
        excluded_rows=excluded,
    )


def contingency(
    name: str,
    pairs: Iterable[tuple[str, str]],
    *,
    row_kind: str,
    col_kind: str,
    min_support: int,
    alpha: float,
    col_order: Sequence[str] | None = None,
) -> ContingencyTable:
    """Chi-square test, Cramér's V and BH-corrected adjusted residuals of a two-way table.

    Rows with fewer than `min_support` observations are left out of the test (their expected
    counts would be too small) and listed in `excluded_rows`; all-zero columns are dropped.
    """
    import numpy as np
    from scipy.stats import chi2_contingency, norm
    from scipy.stats.contingency import association
    from statsmodels.stats.contingency_tables import Table
    from statsmodels.stats.multitest import multipletests

    table = _layout(
        name,
        list(pairs),
        row_kind=row_kind,
        col_kind=col_kind,
        min_support=min_support,
        col_order=col_order,
    )
    rows, cols, counts = table.rows, table.cols, table.counts
    if len(rows) < 2 or len(cols) < 2:
        table.note = (
            f"not tested: needs at least 2 {row_kind}s with >= {min_support} impacts "
            f"and 2 {col_kind}s (have {len(rows)} and {len(cols)})"
        )
        return table
    observed = np.array(counts, dtype=np.int64)
    chi2, p_value, dof, expected = chi2_contingency(observed, correction=False)
    residuals = Table(observed.astype(float), shift_zeros=False).standardized_resids
    residuals = np.asarray(residuals, dtype=float)
    raw_p = 2 * norm.sf(np.abs(residuals))
    _, adjusted, _, _ = multipletests(raw_p.ravel(), alpha=alpha, method="fdr_bh")
    adjusted = adjusted.reshape(raw_p.shape)
    table.chi2 = round(float(chi2), 4)
    table.dof = int(dof)
    table.p_value = float(p_value)
    table.cramers_v = round(float(association(observed, method="cramer", correction=False)), 4)
    table.cells = [
        CellStat(
            row=r,
            col=c,
            observed=int(observed[i, j]),
            row_share=round(float(observed[i, j] / observed[i].sum()), 4),
            expected=round(float(expected[i, j]), 3),
            residual=round(float(residuals[i, j]), 3),
            p_value=float(raw_p[i, j]),
            p_adjusted=float(adjusted[i, j]),
            significant=bool(adjusted[i, j] < alpha),
        )
        for i, r in enumerate(rows)
        for j, c in enumerate(cols)
    ]
    return table


def cooccurrence(
    pairs: Sequence[tuple[str, str]], *, alpha: float
) -> tuple[list[Cooccurrence], int]:
    """PMI/NPMI of every (value, perspective) pair that occurs, with Fisher exact tests.

    All pairs of observed labels are tested (absent pairs too: a never-seen pair can be a
    finding), the BH correction runs over that whole family, and only observed pairs are kept.
    Returns the pairs and the family size.
    """
    from scipy.stats import fisher_exact
    from statsmodels.stats.multitest import multipletests

    n = len(pairs)
    if n == 0:
        return [], 0
    joint = Counter(pairs)
    values = Counter(v for v, _ in pairs)
    perspectives = Counter(p for _, p in pairs)
    keys = [(v, p) for v in sorted(values) for p in sorted(perspectives)]
    p_values = []
    for v, p in keys:
        a = joint.get((v, p), 0)
        b = values[v] - a
        c = perspectives[p] - a
        d = n - a - b - c
        p_values.append(float(fisher_exact([[a, b], [c, d]], alternative="two-sided").pvalue))
    _, adjusted, _, _ = multipletests(p_values, alpha=alpha, method="fdr_bh")
    result = []
    for (v, p), raw, adj in zip(keys, p_values, adjusted, strict=True):
        count = joint.get((v, p), 0)
        if count == 0:
            continue
        p_joint = count / n
        pmi = math.log2(p_joint / ((values[v] / n) * (perspectives[p] / n)))
        npmi = pmi / -math.log2(p_joint) if p_joint < 1 else 1.0
        result.append(
            Cooccurrence(
                value=v,
                perspective=p,
                count=count,
                expected=round(values[v] * perspectives[p] / n, 3),
                pmi=round(pmi, 4),
                npmi=round(npmi, 4),
                p_value=raw,
                p_adjusted=float(adj),
                significant=bool(adj < alpha),
            )
        )
    result.sort(key=lambda c: (not c.significant, -c.npmi, -c.count, c.value, c.perspective))
    return result, len(keys)


def _quote_rank(row: _Row) -> tuple:
    """Confident, mid-length quotes first: they read as evidence without the whole post."""
    words = len(row.impact.supporting_quote.split())
    return (-row.impact.confidence, abs(words - 25), row.post_id)


def _quotes(rows: Iterable[_Row], limit: int) -> list[QuoteRef]:
    chosen: list[QuoteRef] = []
    seen: set[str] = set()
    for row in sorted(rows, key=_quote_rank):
        if row.post_id in seen:
            continue
        seen.add(row.post_id)
        quote = row.impact.supporting_quote
        if len(quote) > _QUOTE_CHARS:
            quote = quote[: _QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"
        chosen.append(
            QuoteRef(
                post_id=row.post_id,
                quote=quote,
                product=row.product,
                sentiment=row.impact.sentiment,
            )
        )
        if len(chosen) == limit:
            break
    return chosen


def _group_summaries(rows: Sequence[_Row], key: str, min_support: int) -> list[GroupSummary]:
    by_group: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        name = row.product if key == "product" else row.impact.condition
        if name:
            by_group[name].append(row)
    summaries = []
    for name, members in by_group.items():
        posts = {r.post_id for r in members}
        crisis_posts = {r.post_id for r in members if r.crisis}
        summaries.append(
            GroupSummary(
                name=name,
                n_impacts=len(members),
                n_posts=len(posts),
                n_crisis_posts=len(crisis_posts),
                low_support=len(members) < min_support,
                sentiment=sentiment_summary([r.impact.sentiment for r in members]),
            )
        )
    summaries.sort(key=lambda g: (-g.n_impacts, g.name))
    return summaries


def _paper_comparison(
    reference: Path, counts: Counter, codebook: Codebook | None
) -> list[PaperComparisonRow]:
    data = read_json(reference)
    paper = data.get("conditions") if isinstance(data, dict) else None
    if not isinstance(paper, dict) or not paper:
        raise InputError(
            "expected an object of condition counts", file=reference, field="conditions"
        )
    mapping = dict(PAPER_CONDITIONS)
    if codebook is not None:
        mapping.update({c.paper_category: c.id for c in codebook.conditions if c.paper_category})
    by_condition: dict[str, tuple[str, int]] = {}
    for category, count in paper.items():
        condition = mapping.get(category)
        if condition is None:
            raise InputError(
                f"paper category {category!r} maps to no condition id",
                file=reference,
                field="conditions",
            )
        by_condition[condition] = (category, int(count))
    paper_total = sum(count for _, count in by_condition.values())
    corpus_total = sum(counts.values())
    names = list(by_condition) + sorted(c for c in counts if c not in by_condition)
    rows = []
    for condition in names:
        category, count = by_condition.get(condition, (None, 0))
        rows.append(
            PaperComparisonRow(
                condition=condition,
                paper_category=category,
                paper_count=count,
                paper_share=round(count / paper_total, 4) if paper_total else 0.0,
                corpus_count=counts.get(condition, 0),
                corpus_share=round(counts.get(condition, 0) / corpus_total, 4)
                if corpus_total
                else 0.0,
            )
        )
    return rows


def _tables(
    rows: list[_Row], codebook: Codebook | None, *, min_support: int, alpha: float, top_quotes: int
) -> dict[str, ContingencyTable]:
    """The four contingency tables, with quotes for over-represented and dominant cells."""
    col_order = {
        "sentiment": list(_SENTIMENTS),
        "perspective": codebook.ids("perspectives") if codebook else None,
        "value": codebook.ids("values") if codebook else None,
    }
    specs = {
        "condition_x_sentiment": ("condition", "sentiment"),
        "condition_x_perspective": ("condition", "perspective"),
        "condition_x_value": ("condition", "value"),
        "product_x_sentiment": ("product", "sentiment"),
    }
    tables: dict[str, ContingencyTable] = {}
    for name, (row_kind, col_kind) in specs.items():
        members = [
            r
            for r in rows
            if (r.product if row_kind == "product" else True)
            and (col_kind != "value" or r.impact.value != "none")
        ]

        def label(r: _Row, kind: str) -> str:
            return r.product if kind == "product" else getattr(r.impact, kind)

        table = contingency(
            name,
            [(label(r, row_kind), label(r, col_kind)) for r in members],
            row_kind=row_kind,
            col_kind=col_kind,
            min_support=min_support,
            alpha=alpha,
            col_order=col_order[col_kind],
        )
        for cell in table.cells:
            if cell.over_represented or (col_kind != "sentiment" and cell.row_share >= DOMINANT):
                cell.quotes = _quotes(
                    (
                        r
                        for r in members
                        if label(r, row_kind) == cell.row and label(r, col_kind) == cell.col
                    ),
                    top_quotes,
                )
        tables[name] = table
    return tables


def _cooccurrence(
    rows: list[_Row], *, alpha: float, top_quotes: int
) -> tuple[list[Cooccurrence], int]:
    """Value x perspective pairs (impacts with a value), with quotes for the attracting ones."""
    value_rows = [r for r in rows if r.impact.value != "none"]
    pairs, family = cooccurrence(
        [(r.impact.value, r.impact.perspective) for r in value_rows], alpha=alpha
    )
    for pair in pairs:
        if pair.significant and pair.pmi > 0:
            pair.quotes = _quotes(
                (
                    r
                    for r in value_rows
                    if r.impact.value == pair.value and r.impact.perspective == pair.perspective
                ),
                top_quotes,
            )
    return pairs, family


def compute_findings(
    annotations_path: Path,
    *,
    min_support: int = 30,
    alpha: float = 0.05,
    top_quotes: int = 3,
    reference: Path | None = None,
    codebook: Codebook | None = None,
) -> Findings:
    """All statistics of `findings.json` from an annotations file.

    Only relevant impacts of posts the annotator did not fail on are counted.
    """
    if min_support < 1:
        raise InputError("must be at least 1", field="min_support")
    annotations_path = Path(annotations_path)
    annotations = load_annotations(annotations_path, codebook)
    names = _product_names(codebook)
    failed = sum(1 for a in annotations if a.error)
    relevant = [a for a in annotations if a.relevant and not a.error and a.impacts]
    rows = [
        _Row(
            post_id=a.id,
            crisis=a.crisis,
            impact=impact,
            product=names.get(impact.product.lower(), impact.product) if impact.product else None,
        )
        for a in relevant
        for impact in a.impacts
    ]
    if not rows:
        raise InputError(
            f"no relevant impacts among {len(annotations)} annotations: nothing to analyse",
            file=annotations_path,
        )
    tables = _tables(rows, codebook, min_support=min_support, alpha=alpha, top_quotes=top_quotes)
    pairs, family = _cooccurrence(rows, alpha=alpha, top_quotes=top_quotes)

    conditions = _group_summaries(rows, "condition", min_support)
    notes = []
    thin = [g.name for g in conditions if g.low_support]
    if thin:
        notes.append(
            f"{len(thin)} condition(s) below the minimum support of {min_support} impacts, "
            f"left out of the tests: {', '.join(thin)}"
        )
    if failed:
        notes.append(f"{failed} post(s) were not annotated (annotator error) and are not counted")
    paper_rows: list[PaperComparisonRow] = []
    if reference is not None:
        paper_rows = _paper_comparison(
            Path(reference), Counter(r.impact.condition for r in rows), codebook
        )
    versions = Counter(a.annotator.codebook_version for a in annotations if a.annotator is not None)
    return Findings(
        tool_version=__version__,
        codebook_version=versions.most_common(1)[0][0] if versions else None,
        input_file=str(annotations_path),
        input_sha256=file_sha256(annotations_path),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        min_support=min_support,
        alpha=alpha,
        n_posts=len(annotations),
        n_relevant_posts=len(relevant),
        n_failed_posts=failed,
        n_impacts=len(rows),
        n_crisis_posts=sum(1 for a in relevant if a.crisis),
        conditions=conditions,
        products=_group_summaries(rows, "product", min_support),
        tables=tables,
        cooccurrence=pairs,
        cooccurrence_tests=family,
        paper_comparison=paper_rows,
        paper_source=str(reference) if reference is not None and paper_rows else None,
        notes=notes,
    )
