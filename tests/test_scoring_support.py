"""Support for the scoring, report and agreement tests (no tests here): a fake judge
implementing the Judge protocol, a fake voice retriever and two fixture rubrics. The fakes
answer from tables the tests set, so expected numbers come from the tables, not from a model."""

from __future__ import annotations

from evaluator.judges.base import JudgeRequest
from evaluator.types import (
    Anchors,
    AppliesWhen,
    Criterion,
    EvidenceQuote,
    EvidenceRef,
    Rubric,
    Transcript,
    Turn,
    UserVoice,
    Verdict,
)

__all__ = ["FakeJudge", "FakeRetriever", "fixture_rubrics", "transcript"]


def _criterion(criterion_id: str, **kwargs) -> Criterion:
    return Criterion(
        id=criterion_id,
        title=kwargs.pop("title", criterion_id.replace("_", " ").capitalize()),
        description=kwargs.pop("description", "what a good response does"),
        scale=Anchors(fail="ignores it", partial="half", **{"pass": "does it"}),
        evidence=[EvidenceRef(source="curated", note="test fixture")],
        **kwargs,
    )


def fixture_rubrics() -> dict[str, Rubric]:
    """`base` (four criteria with different applies_when) and an `adhd` rubric."""
    base = Rubric(
        id="base",
        version="2026.01.01-test",
        title="Base",
        criteria=[
            _criterion(
                "crisis_resources",
                severity="critical",
                weight=2.0,
                applies_when=AppliesWhen(crisis=True),
                values=["human_welfare"],
            ),
            _criterion("validates_feelings", values=["human_welfare"], weight=1.0),
            _criterion(
                "no_exclusive_reliance",
                severity="critical",
                applies_when=AppliesWhen(user_intent=[r"\bonly (?:need|have) you\b", "lonely"]),
                values=["autonomy"],
                perspectives=["dependency"],
            ),
            _criterion(
                "discloses_ai",
                severity="minor",
                weight=0.5,
                applies_when=AppliesWhen(crisis=False),
                values=["informed_consent"],
            ),
        ],
    )
    adhd = Rubric(
        id="adhd",
        version="2026.01.01-test",
        title="ADHD",
        condition="adhd",
        criteria=[
            _criterion(
                "concrete_steps",
                conditions=["adhd"],
                values=["autonomy"],
                perspectives=["instrumental_support"],
                applies_when=AppliesWhen(conditions=["adhd"]),
            )
        ],
    )
    return {"base": base, "adhd": adhd}


def transcript(transcript_id: str, *pairs: str, **metadata) -> Transcript:
    """user, assistant, user, assistant... from positional strings."""
    roles = ["user", "assistant"]
    turns = [Turn(role=roles[i % 2], content=text) for i, text in enumerate(pairs)]
    return Transcript(
        id=transcript_id, turns=turns, metadata=metadata, source=f"{transcript_id}.jsonl"
    )


class FakeJudge:
    """Answers `labels[(transcript id, criterion id)]` (default `pass`) and quotes the start of
    the first assistant turn, or `quotes[(transcript id, criterion id)]` when given."""

    name = "fake"
    model = "fake-model-1"
    version = "7"
    deterministic = True

    def __init__(self, labels=None, quotes=None, scores=None, default="pass") -> None:
        self.labels = labels or {}
        self.quotes = quotes or {}
        self.scores = scores or {}
        self.default = default
        self.calls: list[list[JudgeRequest]] = []

    def judge(self, requests: list[JudgeRequest]) -> list[Verdict]:
        self.calls.append(list(requests))
        verdicts = []
        for request in requests:
            key = (request.transcript.id, request.criterion.id)
            label = self.labels.get(key, self.default)
            first = next(i for i, t in enumerate(request.transcript.turns) if t.role == "assistant")
            evidence = self.quotes.get(key, [(first, request.transcript.turns[first].content[:24])])
            verdicts.append(
                Verdict(
                    criterion_id=request.criterion.id,
                    rubric_id=request.rubric.id,
                    label=label,
                    score=self.scores.get(key),
                    rationale=f"fake judge says {label}",
                    evidence=[EvidenceQuote(turn=t, quote=q) for t, q in evidence],
                    judge=self.name,
                )
            )
        return verdicts


class FakeRetriever:
    """Returns `k` voices labelled with the first requested condition; records every call."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def voices_for(self, *, text, conditions, values, perspectives, k=3, mmr=True):
        self.calls.append(
            {
                "text": text,
                "conditions": list(conditions),
                "values": list(values),
                "perspectives": list(perspectives),
                "k": k,
            }
        )
        condition = conditions[0] if conditions else None
        return [
            UserVoice(
                id=f"post-{condition or 'any'}-{i}",
                quote=f"As someone with {condition or 'a condition'}, what helped was #{i}.",
                condition=condition,
                sentiment="positive",
                value=values[0] if values else None,
                similarity=round(0.9 - i / 10, 2),
            )
            for i in range(k)
        ]

    def info(self) -> dict:
        return {"embedding_model": "fake-embedder", "items": 42}
