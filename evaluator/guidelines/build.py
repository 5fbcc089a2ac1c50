"""Build rubrics from findings: pick curated templates, weight them and cite their evidence.

The build is a pure function of `findings.json` (plus the template library and overrides): a
team that brings its own corpus gets rubrics driven by its own data. Rules, in short:

- a template `fires` for a condition when one of its condition-table cells is over-represented
  (significant positive adjusted residual after BH correction) for that condition, or when a
  perspective is dominant within it (>= 25% of its impacts, though common everywhere); in the base
  rubric any condition's cell, a significant positive value × perspective pair, or crisis posts
  in the corpus fire it;
- `always` templates are kept regardless; `when_supported` (and `*`) ones only when they fire;
- evidence: fired cells (residual, n, user quote ids) and significant co-occurrences; if nothing
  fired, the seed paper's published result (`literature`) and, when the condition was tested,
  the corpus statistic that did not confirm it; `curated` when there is nothing else;
- weight = template weight × 1.5 if the strongest fired residual >= 4, × 1.25 if fired,
  × 0.75 if the condition had enough data but no trigger fired, × 1 otherwise (thin data).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from evaluator.errors import ConfigError
from evaluator.findings.stats import DOMINANT
from evaluator.types.findings import Findings
from evaluator.types.guidelines import CriterionTemplate, TemplateLibrary, Trigger
from evaluator.types.rubric import Criterion, EvidenceRef, Rubric

__all__ = ["load_library", "build_rubrics", "BASE_ID"]

BASE_ID = "base"
_STRONG_RESIDUAL = 4.0
_SEVERITY_RANK = {"critical": 0, "major": 1, "minor": 2, "quality": 3}
_CURATED = EvidenceRef(
    source="curated", note="curated practice; no corpus finding or published result backs it here"
)


def load_library(path: Path | None = None) -> TemplateLibrary:
    """The curated template library (the packaged one unless `path` is given)."""
    from evaluator.io import load_yaml_model

    if path is None:
        return _packaged_library()
    return load_yaml_model(path, TemplateLibrary)


@functools.cache
def _packaged_library() -> TemplateLibrary:
    from evaluator.io import load_yaml_model

    return load_yaml_model(
        Path(str(resources.files("evaluator.guidelines") / "library.yaml")), TemplateLibrary
    )


@dataclass
class _Support:
    """What the findings say about one template in one rubric."""

    fired: list[tuple[EvidenceRef, float]]  # evidence, strength (residual; 0 for non-cells)
    supporting: list[EvidenceRef]
    unconfirmed: list[EvidenceRef]

    @property
    def strongest(self) -> float:
        return max((strength for _, strength in self.fired), default=0.0)


def _fmt_p(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _cell_ref(findings: Findings, table_name: str, row: str, col: str):
    """(evidence, fired, residual) for one cell, or None when the row was not tested."""
    table = findings.tables.get(table_name)
    if table is None or row not in table.rows:
        return None
    cell = table.cell(row, col)
    row_total = sum(table.counts[table.rows.index(row)])
    if cell is None:
        ref = EvidenceRef(
            source="corpus",
            statistic="count",
            effect=0.0,
            n=0,
            cell=f"{row} x {col}",
            note=f"no {col} impact among {row_total} {row} impacts",
        )
        return ref, False, 0.0
    counts = (
        f"{cell.observed} of {row_total} {row} impacts vs {cell.expected:.1f} expected "
        f"(BH-adjusted p {_fmt_p(cell.p_adjusted)})"
    )
    if cell.over_represented:
        ref_args = {"statistic": "adjusted residual", "effect": cell.residual}
        note, strength = f"over-represented: {counts}", cell.residual
    elif table_name == "condition_x_perspective" and cell.row_share >= DOMINANT:
        # Common everywhere (e.g. emotional support in a companionship corpus): the residual
        # against other conditions is small, yet it is what these users mostly talk about.
        ref_args = {"statistic": "share of condition impacts", "effect": cell.row_share}
        note = (
            f"dominant: {cell.row_share:.0%} of {row} impacts, though not over-represented "
            f"against other conditions (residual {cell.residual:+.1f})"
        )
        strength = 0.0
    else:
        ref = EvidenceRef(
            source="corpus",
            statistic="adjusted residual",
            effect=cell.residual,
            n=cell.observed,
            cell=f"{row} x {col}",
            note=f"not over-represented: {counts}",
        )
        return ref, False, cell.residual
    ref = EvidenceRef(
        source="corpus",
        n=cell.observed,
        cell=f"{row} x {col}",
        quote_ids=[q.post_id for q in cell.quotes],
        note=note,
        **ref_args,
    )
    return ref, True, strength


def _pair_ref(findings: Findings, trigger: Trigger) -> EvidenceRef | None:
    pair = findings.pair(trigger.value, trigger.perspective)
    if pair is None or not (pair.significant and pair.pmi > 0):
        return None
    return EvidenceRef(
        source="corpus",
        statistic="NPMI",
        effect=pair.npmi,
        n=pair.count,
        cell=f"{pair.value} x {pair.perspective}",
        quote_ids=[q.post_id for q in pair.quotes],
        note=(
            f"value and perspective share an impact {pair.count} times vs {pair.expected:.1f} "
            f"expected (PMI {pair.pmi:+.2f}, BH-adjusted p {_fmt_p(pair.p_adjusted)})"
        ),
    )


def _crisis_ref(findings: Findings, condition: str | None) -> EvidenceRef | None:
    if condition is None:
        n, base, who = findings.n_crisis_posts, findings.n_relevant_posts, "relevant"
    else:
        group = findings.condition(condition)
        if group is None:
            return None
        n, base, who = group.n_crisis_posts, group.n_posts, condition
    if n == 0 or base == 0:
        return None
    return EvidenceRef(
        source="corpus",
        statistic="share of posts mentioning suicide or self-harm",
        effect=round(n / base, 4),
        n=n,
        cell="crisis" if condition is None else f"{condition} x crisis",
        note=f"{n} of {base} {who} posts mention suicidal ideation or self-harm",
    )


def _thin_sentiment_ref(findings: Findings, condition: str, direction: str) -> EvidenceRef | None:
    """A condition too thin for the tests can still have a mean sentiment whose CI excludes 0;
    that is worth citing as context, with its small n in plain sight."""
    group = findings.condition(condition)
    if group is None or group.sentiment.mean_ci is None:
        return None
    low, high = group.sentiment.mean_ci
    if not ((direction == "negative" and high < 0) or (direction == "positive" and low > 0)):
        return None
    return EvidenceRef(
        source="corpus",
        statistic="mean sentiment score",
        effect=group.sentiment.mean_score,
        n=group.n_impacts,
        cell=f"{condition} x sentiment",
        note=(
            f"{direction} on average (95% CI [{low:+.2f}, {high:+.2f}]) over only "
            f"{group.n_impacts} impacts, below the minimum support of {findings.min_support}"
        ),
    )


def _support(findings: Findings, template: CriterionTemplate, condition: str | None) -> _Support:
    fired: list[tuple[EvidenceRef, float]] = []
    supporting: list[EvidenceRef] = []
    unconfirmed: list[EvidenceRef] = []
    for trigger in template.triggers:
        if trigger.table in ("crisis", "value_x_perspective"):
            # Corpus-wide findings: enough for the base rubric, only supporting elsewhere.
            if trigger.table == "crisis":
                ref = _crisis_ref(findings, condition)
            else:
                ref = _pair_ref(findings, trigger)
            if ref is not None and condition is None:
                fired.append((ref, 0.0))
            elif ref is not None:
                supporting.append(ref)
        elif condition is None:
            # Base rubric: the two strongest over-represented cells of any condition.
            table = findings.tables.get(trigger.table)
            cells = [
                c
                for c in (table.cells if table else [])
                if c.col == trigger.col and c.over_represented
            ]
            for cell in sorted(cells, key=lambda c: -c.residual)[:2]:
                ref, _, residual = _cell_ref(findings, trigger.table, cell.row, cell.col)
                fired.append((ref, residual))
        else:
            found = _cell_ref(findings, trigger.table, condition, trigger.col)
            if found is None:
                if trigger.table == "condition_x_sentiment":
                    ref = _thin_sentiment_ref(findings, condition, trigger.col)
                    if ref is not None:
                        supporting.append(ref)
                continue
            ref, is_fired, strength = found
            if is_fired:
                fired.append((ref, strength))
            else:
                unconfirmed.append(ref)
    return _Support(fired, supporting, unconfirmed)


def _criterion(
    template: CriterionTemplate, rubric_id: str, condition: str | None, support: _Support
) -> Criterion:
    if support.fired:
        evidence = [ref for ref, _ in support.fired] + support.supporting
        multiplier = 1.5 if support.strongest >= _STRONG_RESIDUAL else 1.25
    else:
        # The first entry says what the criterion rests on; corpus-wide co-occurrences and
        # unconfirmed cells follow as context, never as its main support.
        evidence = list(template.literature) or [_CURATED]
        evidence += support.supporting + support.unconfirmed[:2]
        # Safety-critical criteria are never down-weighted for lack of discussion.
        multiplier = 0.75 if support.unconfirmed and template.severity != "critical" else 1.0
    severity = template.severity
    # Escalation needs the template's own perspectives (e.g. psychological harm) to be
    # over-represented; a merely negative mood is not enough.
    own_strength = max(
        (
            strength
            for ref, strength in support.fired
            if ref.cell and ref.cell.split(" x ")[-1] in template.perspectives
        ),
        default=0.0,
    )
    if template.critical_if_residual is not None and own_strength >= template.critical_if_residual:
        severity = "critical"
    data = template.model_dump(
        by_alias=True,
        include={
            "title",
            "description",
            "applies_when",
            "values",
            "perspectives",
            "scale",
            "exemplars",
            "signals",
        },
    )
    return Criterion.model_validate(
        {
            **data,
            "id": f"{rubric_id}.{template.id}",
            "conditions": [condition] if condition else [],
            "weight": round(template.weight * multiplier, 3),
            "severity": severity,
            "evidence": [ref.model_dump() for ref in evidence],
        }
    )


def _describe(findings: Findings, condition: str) -> str:
    group = findings.condition(condition)
    if group is None:
        return (
            "No impact about this condition in the corpus: criteria rest on the seed paper's "
            "published results and on curated practice."
        )
    s = group.sentiment
    ci = f" [{s.mean_ci[0]:+.2f}, {s.mean_ci[1]:+.2f}]" if s.mean_ci else ""
    text = (
        f"{group.n_impacts} impacts from {group.n_posts} posts "
        f"({group.n_crisis_posts} mentioning suicide or self-harm); mean sentiment "
        f"{s.mean_score:+.2f}{ci} (positive = 1, negative = -1)."
    )
    if group.low_support:
        return (
            text + f" Below the minimum support of {findings.min_support}: criteria rest on the "
            "seed paper's published results and on curated practice."
        )
    parts = []
    for name, kind in (
        ("condition_x_perspective", "perspectives"),
        ("condition_x_value", "values"),
        ("condition_x_sentiment", "sentiment"),
    ):
        table = findings.tables.get(name)
        cells = [c for c in (table.cells if table else []) if c.row == condition]
        over = sorted((c for c in cells if c.over_represented), key=lambda c: -c.residual)
        if over:
            parts.append(kind + " " + ", ".join(f"{c.col} ({c.residual:+.1f})" for c in over))
    if parts:
        text += " Over-represented (adjusted residual): " + "; ".join(parts) + "."
    else:
        text += " No perspective, value or sentiment is over-represented for this condition."
    return text


def _order(criteria: list[Criterion]) -> list[Criterion]:
    return sorted(criteria, key=lambda c: _SEVERITY_RANK[c.severity])


def build_rubrics(findings: Findings, library: TemplateLibrary | None = None) -> dict[str, Rubric]:
    """Rubrics (base first) from findings; versions are set later, by the writer."""
    library = library or load_library()
    rubric_ids = {t.rubric for t in library.templates}
    unknown = rubric_ids - {BASE_ID, "*"} - set(library.condition_titles)
    if unknown:
        raise ConfigError(
            f"templates name rubrics without a title: {', '.join(sorted(unknown))}",
            field="condition_titles",
        )
    rubrics: dict[str, Rubric] = {}
    base_criteria = [
        _criterion(t, BASE_ID, None, _support(findings, t, None))
        for t in library.templates
        if t.rubric == BASE_ID
    ]
    rubrics[BASE_ID] = Rubric(
        id=BASE_ID,
        version="unversioned",
        title="Every conversation",
        condition=None,
        description=(
            f"Applies to every transcript. Built from {findings.n_impacts} impacts in "
            f"{findings.n_relevant_posts} relevant posts ({findings.n_crisis_posts} mentioning "
            "suicide or self-harm)."
        ),
        criteria=_order(base_criteria),
    )
    supported = [g.name for g in findings.conditions if not g.low_support]
    conditions = list(dict.fromkeys([*library.required_conditions, *supported]))
    for condition in conditions:
        own = [t for t in library.templates if t.rubric == condition]
        own_themes = {theme for t in own for theme in t.themes}
        criteria = []
        for template in library.templates:
            if template.rubric == "*" and own_themes & set(template.themes):
                continue
            if template.rubric not in (condition, "*"):
                continue
            support = _support(findings, template, condition)
            if template.include == "always" or support.fired:
                criteria.append(_criterion(template, condition, condition, support))
        if not criteria:
            continue
        rubrics[condition] = Rubric(
            id=condition,
            version="unversioned",
            title=library.condition_titles.get(condition, condition.replace("_", " ").title()),
            condition=condition,
            description=_describe(findings, condition),
            criteria=_order(criteria),
        )
    return rubrics
