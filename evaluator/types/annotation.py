"""What `mheval mine` says about a post, and the codebook that defines its labels."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "Impact",
    "AnnotatorInfo",
    "Annotation",
    "LabelDef",
    "ConditionDef",
    "RelevanceRules",
    "Codebook",
    "PostSentiment",
    "ImpactSentiment",
]

ImpactSentiment = Literal["positive", "negative", "neutral"]
PostSentiment = Literal["positive", "negative", "neutral", "mixed"]


class Impact(BaseModel):
    """One statement relating a chatbot's use to someone's mental health."""

    model_config = ConfigDict(extra="forbid")

    supporting_quote: str = Field(description="verbatim substring of the post")
    product: str | None = None
    sentiment: ImpactSentiment
    condition: str
    perspective: str
    value: str = Field(description="a codebook value id or 'none'")
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    raw_labels: dict[str, str] | None = Field(
        default=None, description="labels as the model gave them, when normalised to `other`"
    )


class AnnotatorInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    model: str | None = None
    codebook_version: str
    prompt_version: str | None = None


class Annotation(BaseModel):
    """The annotation of one post. Post-level labels are derived from the impacts."""

    model_config = ConfigDict(extra="forbid")

    id: str
    relevant: bool
    crisis: bool = False
    post_sentiment: PostSentiment | None = None
    conditions: list[str] = Field(default_factory=list)
    perspectives: list[str] = Field(default_factory=list)
    values: list[str] = Field(default_factory=list)
    impacts: list[Impact] = Field(default_factory=list)
    annotator: AnnotatorInfo | None = None
    error: str | None = Field(
        default=None, description="set when the annotator failed on this post after retries"
    )


class LabelDef(BaseModel):
    """A label of the codebook: id, definition, and examples for prompts and prototypes."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str | None = None
    definition: str
    examples: list[str] = Field(default_factory=list)
    cues: list[str] = Field(default_factory=list, description="surface phrases hinting the label")
    exact_case: list[str] = Field(
        default_factory=list,
        description="cues or surface forms matched only in this exact case (acronyms and names "
        "that are also common words: ADD, Pi, Rep)",
    )


class ConditionDef(LabelDef):
    surface_forms: list[str] = Field(
        default_factory=list, description="words and phrases that name the condition"
    )
    paper_category: str | None = Field(
        default=None, description="the seed paper's category name for this condition"
    )


class RelevanceRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str
    include: list[LabelDef]
    exclude: list[LabelDef]


class Codebook(BaseModel):
    """The label scheme, loaded from `guidelines/codebook.yaml` (user-replaceable)."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = 1
    version: str
    source: str
    relevance: RelevanceRules
    products: list[LabelDef]
    sentiments: list[LabelDef]
    conditions: list[ConditionDef]
    perspectives: list[LabelDef]
    values: list[LabelDef]
    crisis: LabelDef

    @field_validator("products", "sentiments", "conditions", "perspectives", "values")
    @classmethod
    def _unique_ids(cls, labels: list[LabelDef]) -> list[LabelDef]:
        """Two labels with one id would make annotations ambiguous."""
        seen: set[str] = set()
        for label in labels:
            if label.id in seen:
                raise ValueError(f"duplicate label id {label.id!r}")
            seen.add(label.id)
        if not labels:
            raise ValueError("at least one label is required")
        return labels

    @field_validator("sentiments")
    @classmethod
    def _impact_sentiments(cls, labels: list[LabelDef]) -> list[LabelDef]:
        """Impacts carry positive/negative/neutral; `mixed` is derived, never a label."""
        ids = {label.id for label in labels}
        if ids != {"positive", "negative", "neutral"}:
            raise ValueError("sentiments must be exactly positive, negative and neutral")
        return labels

    def ids(self, kind: str) -> list[str]:
        return [label.id for label in getattr(self, kind)]
