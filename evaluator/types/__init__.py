"""All pydantic types of mheval, in one place and free of IO.

Submodules group them by pipeline stage; import from here.
"""

from evaluator.types.annotation import (
    Annotation,
    AnnotatorInfo,
    Codebook,
    ConditionDef,
    Impact,
    ImpactSentiment,
    LabelDef,
    PostSentiment,
    RelevanceRules,
)
from evaluator.types.corpus import PLATFORMS, Post
from evaluator.types.rubric import (
    BEHAVIOURS,
    Anchors,
    AppliesWhen,
    Criterion,
    EvidenceRef,
    Exemplar,
    LocalSignals,
    Rubric,
    Severity,
)
from evaluator.types.transcript import (
    SCORE_FORMAT_VERSION,
    EvidenceQuote,
    Role,
    ScoreRun,
    Transcript,
    TranscriptResult,
    Turn,
    UserVoice,
    Verdict,
    VerdictLabel,
)

__all__ = [
    "Annotation",
    "AnnotatorInfo",
    "Codebook",
    "ConditionDef",
    "Impact",
    "ImpactSentiment",
    "LabelDef",
    "PostSentiment",
    "RelevanceRules",
    "PLATFORMS",
    "Post",
    "BEHAVIOURS",
    "Anchors",
    "AppliesWhen",
    "Criterion",
    "EvidenceRef",
    "Exemplar",
    "LocalSignals",
    "Rubric",
    "Severity",
    "SCORE_FORMAT_VERSION",
    "EvidenceQuote",
    "Role",
    "ScoreRun",
    "Transcript",
    "TranscriptResult",
    "Turn",
    "UserVoice",
    "Verdict",
    "VerdictLabel",
]
