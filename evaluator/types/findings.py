"""What `mheval findings` concludes from annotations: the statistics that rubrics are built on."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "FINDINGS_FORMAT_VERSION",
    "QuoteRef",
    "SentimentSummary",
    "GroupSummary",
    "CellStat",
    "ContingencyTable",
    "Cooccurrence",
    "PaperComparisonRow",
    "Findings",
]

FINDINGS_FORMAT_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QuoteRef(_Model):
    """A user's own words backing a finding; `post_id` lets a reader open the full post."""

    post_id: str
    quote: str
    product: str | None = None
    sentiment: str


class SentimentSummary(_Model):
    """Sentiment of a group's impacts: counts, shares with Wilson 95% CIs, and a mean score.

    The score maps positive=1, neutral=0, negative=-1; its CI is a t-interval (None when n < 2).
    """

    counts: dict[str, int]
    shares: dict[str, float]
    share_ci: dict[str, tuple[float, float]]
    mean_score: float
    mean_ci: tuple[float, float] | None = None


class GroupSummary(_Model):
    """One condition (or product): how much data backs it and how its users feel."""

    name: str
    n_impacts: int
    n_posts: int
    n_crisis_posts: int = 0
    low_support: bool = Field(description="fewer impacts than the minimum support")
    sentiment: SentimentSummary


class CellStat(_Model):
    """One cell of a contingency table, with its adjusted (standardised) residual.

    `significant` is decided on the Benjamini-Hochberg adjusted p-value over all cells of the
    table; a significant positive residual is what the seed paper calls over-represented.
    """

    row: str
    col: str
    observed: int
    row_share: float = Field(default=0.0, description="observed / the row's total")
    expected: float
    residual: float
    p_value: float
    p_adjusted: float
    significant: bool
    quotes: list[QuoteRef] = Field(default_factory=list)

    @property
    def over_represented(self) -> bool:
        return self.significant and self.residual > 0


class ContingencyTable(_Model):
    """A two-way table over impacts, restricted to rows with enough support."""

    name: str
    row_kind: str
    col_kind: str
    rows: list[str]
    cols: list[str]
    counts: list[list[int]]
    n: int
    chi2: float | None = None
    dof: int | None = None
    p_value: float | None = None
    cramers_v: float | None = None
    cells: list[CellStat] = Field(default_factory=list)
    excluded_rows: dict[str, int] = Field(
        default_factory=dict, description="rows left out for low support, with their totals"
    )
    note: str | None = Field(default=None, description="why the test could not be run, if so")

    def cell(self, row: str, col: str) -> CellStat | None:
        for cell in self.cells:
            if cell.row == row and cell.col == col:
                return cell
        return None


class Cooccurrence(_Model):
    """How much more often a value and a perspective share an impact than chance predicts."""

    value: str
    perspective: str
    count: int
    expected: float
    pmi: float = Field(description="log2 p(v,p) / (p(v) p(p))")
    npmi: float = Field(description="PMI / -log2 p(v,p), in [-1, 1]")
    p_value: float = Field(description="two-sided Fisher exact test on the 2x2 table")
    p_adjusted: float
    significant: bool
    quotes: list[QuoteRef] = Field(default_factory=list)


class PaperComparisonRow(_Model):
    """This corpus's share of a condition next to the seed paper's published raw count."""

    condition: str
    paper_category: str | None
    paper_count: int
    paper_share: float
    corpus_count: int
    corpus_share: float


class Findings(_Model):
    """The whole `findings.json`. Rubric builds cite its cells as evidence."""

    format_version: int = FINDINGS_FORMAT_VERSION
    tool_version: str
    codebook_version: str | None = None
    input_file: str
    input_sha256: str
    created_at: str
    min_support: int
    alpha: float = 0.05
    n_posts: int
    n_relevant_posts: int
    n_failed_posts: int = 0
    n_impacts: int
    n_crisis_posts: int
    conditions: list[GroupSummary]
    products: list[GroupSummary]
    tables: dict[str, ContingencyTable]
    cooccurrence: list[Cooccurrence]
    cooccurrence_tests: int = Field(default=0, description="pairs tested (BH family size)")
    paper_comparison: list[PaperComparisonRow] = Field(default_factory=list)
    paper_source: str | None = None
    notes: list[str] = Field(default_factory=list)

    def condition(self, name: str) -> GroupSummary | None:
        return next((group for group in self.conditions if group.name == name), None)

    def supported(self, name: str) -> bool:
        group = self.condition(name)
        return group is not None and not group.low_support

    def pair(self, value: str, perspective: str) -> Cooccurrence | None:
        return next(
            (c for c in self.cooccurrence if c.value == value and c.perspective == perspective),
            None,
        )
