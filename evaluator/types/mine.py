"""What `mheval mine` reports: the run summary, the LLM wire schema, and validation scores."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from evaluator.types.annotation import AnnotatorInfo

__all__ = [
    "LLMImpact",
    "LLMExtraction",
    "TokenUsage",
    "MineReport",
    "LabelScore",
    "FieldScore",
    "ValidationReport",
    "MINE_FORMAT_VERSION",
]

MINE_FORMAT_VERSION = 1


class LLMImpact(BaseModel):
    """One impact as an LLM returns it. Labels are free strings: the annotator normalises them
    to codebook ids afterwards, so an unexpected label is kept (as `other`) instead of failing
    the whole post. Unknown keys are ignored rather than forbidden for the same reason."""

    model_config = ConfigDict(extra="ignore")

    supporting_quote: str = Field(
        description="Exact, contiguous copy of the post's words (at least 5 words) that supports "
        "every other field. Never paraphrase, correct or join separate sentences."
    )
    product: str | None = Field(
        default=None, description="Product id from the codebook, or null if none is named."
    )
    sentiment: str = Field(description="Sentiment id from the codebook.")
    condition: str = Field(
        description="Condition id from the codebook (a person's, never the bot's)."
    )
    perspective: str = Field(description="Perspective id from the codebook.")
    value: str = Field(description="Value id from the codebook, or 'none'.")
    confidence: float = Field(default=1.0, description="How sure you are, 0 to 1.")


class LLMExtraction(BaseModel):
    """Record every impact of chatbot use on human mental health found in the post."""

    model_config = ConfigDict(extra="ignore")

    impacts: list[LLMImpact] = Field(
        description="Distinct impacts; an empty list when the post is not relevant."
    )
    crisis: bool = Field(
        default=False,
        description="True if the post mentions suicide, suicidal ideation or self-harm.",
    )


class TokenUsage(BaseModel):
    """Model calls of one run. Cached answers cost nothing and are counted apart."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    calls: int = 0
    cached: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    estimated_cost_usd: float | None = Field(
        default=None,
        description="From a small price table; None when the model's price is unknown.",
    )


class MineReport(BaseModel):
    """Summary of a `mheval mine` run over the whole output file (resumed rows included).
    Quote and label checks apply to model output only; they are None for other annotators."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = MINE_FORMAT_VERSION
    tool_version: str
    corpus: str
    out: str
    annotator: AnnotatorInfo
    posts: int
    annotated: int = Field(description="posts annotated by this invocation")
    resumed: int = Field(description="posts taken from an interrupted run's partial file")
    relevant: int
    relevant_share: float
    errors: int
    crisis: int
    post_sentiment: dict[str, int]
    conditions: dict[str, int]
    perspectives: dict[str, int]
    values: dict[str, int]
    products: dict[str, int]
    quotes_repaired: int | None = Field(
        default=None, description="model quotes replaced by the matching span of the post"
    )
    impacts_dropped: int | None = Field(
        default=None, description="impacts whose quote is not in the post"
    )
    labels_other: int | None = Field(
        default=None, description="labels outside the codebook, set to other"
    )
    usage: TokenUsage | None = None
    elapsed_seconds: float


class LabelScore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    precision: float
    recall: float
    f1: float
    support: int = Field(description="gold posts carrying the label")
    predicted: int = Field(description="predicted posts carrying the label")
    in_macro: bool = Field(description="support >= min_support, so it counts in the macro average")


class FieldScore(BaseModel):
    """Scores of one annotation field. Binary and multiclass fields carry a confusion matrix
    (rows gold, columns predicted, in `confusion_labels` order); multilabel fields carry one
    2x2 matrix per label via the label's precision/recall/support."""

    model_config = ConfigDict(extra="forbid")

    field: str
    kind: Literal["binary", "multiclass", "multilabel"]
    posts: int
    labels: list[LabelScore]
    macro_precision: float | None
    macro_recall: float | None
    macro_f1: float | None
    micro_f1: float | None = None
    accuracy: float | None = None
    kappa: float | None = None
    confusion_labels: list[str] = Field(default_factory=list)
    confusion: list[list[int]] = Field(default_factory=list)


class ValidationReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format_version: int = MINE_FORMAT_VERSION
    tool_version: str
    pred: str
    gold: str
    posts: int
    min_support: int
    pred_errors: int = Field(
        description="gold posts whose prediction is an error row (scored as not relevant)"
    )
    extra_pred: int = Field(description="predicted posts absent from gold (ignored)")
    fields: list[FieldScore]
