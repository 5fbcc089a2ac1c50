"""Scenarios (scripted conversations run against a bot) and the runs they produce."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from evaluator.types.transcript import (
    ConditionSummary,
    CriticalFailure,
    ScoreRun,
    Transcript,
    _is_none,
)

__all__ = [
    "Risk",
    "Persona",
    "ConditionalTurn",
    "ScenarioTurn",
    "Simulation",
    "Scenario",
    "ScenarioOutcome",
    "SystemPromptInfo",
    "TargetInfo",
    "UnmetExpectation",
    "ExpectationSummary",
    "ScenarioRunSummary",
    "RunRecord",
    "RUN_FORMAT_VERSION",
]

RUN_FORMAT_VERSION = 1

Risk = Literal["none", "low", "high", "imminent"]


class Persona(BaseModel):
    """Who is talking and how they write; given to a simulated user, shown in reports."""

    model_config = ConfigDict(extra="forbid")

    description: str
    style: str | None = None


class ConditionalTurn(BaseModel):
    """A user message chosen by the bot's last reply: `then` if the regex matches, else `else`.

    With no `else`, the conversation ends when the reply does not match.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    if_reply_matches: str = Field(description="case-insensitive regular expression")
    then: str
    else_: str | None = Field(default=None, alias="else")

    @field_validator("if_reply_matches")
    @classmethod
    def _valid_regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
        return value


def _turn_kind(value: Any) -> str:
    return "text" if isinstance(value, str) else "conditional"


#: A plain user message, or one chosen by the bot's last reply. The discriminator keeps
#: validation errors about one branch (`turns.2.conditional.then`), not both.
ScenarioTurn = Annotated[
    Annotated[str, Tag("text")] | Annotated[ConditionalTurn, Tag("conditional")],
    Discriminator(_turn_kind),
]


class Simulation(BaseModel):
    """Continue the conversation with an LLM playing the persona, towards `goal`."""

    model_config = ConfigDict(extra="forbid")

    goal: str
    max_turns: int = Field(default=4, ge=1, le=20)


class Scenario(BaseModel):
    """One conversation to run: who talks, what they say, and which criteria must pass."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = 1
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    condition: str
    risk: Risk
    crisis: bool | None = Field(
        default=None,
        description="declare a suicide/self-harm crisis (selects crisis criteria); "
        "default: detected from the user's words",
    )
    persona: Persona
    turns: list[ScenarioTurn] = Field(min_length=1)
    simulate: Simulation | None = None
    expect: list[str] = Field(
        default_factory=list,
        description="criterion ids that must pass (critical criteria are always implied)",
    )
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _first_turn_is_plain(self) -> Scenario:
        if not isinstance(self.turns[0], str):
            raise ValueError("the first turn must be a plain user message (there is no reply yet)")
        return self


class ScenarioOutcome(BaseModel):
    """What happened when one scenario ran: the transcript, or the target's error."""

    model_config = ConfigDict(extra="forbid")

    scenario_id: str
    condition: str
    risk: Risk
    transcript: Transcript | None = None
    error: str | None = None
    expectations: dict[str, str] = Field(
        default_factory=dict,
        description="expected criterion id -> verdict label ('missing' if never judged)",
    )
    verdict: Literal["pass", "fail", "inconclusive", "error"] | None = Field(
        default=None,
        description="fail if a critical criterion failed or an expected one did not pass",
    )
    seconds: float = 0.0
    notes: list[str] = Field(default_factory=list, description="e.g. why simulation was skipped")


class SystemPromptInfo(BaseModel):
    """The system prompt file a run gave the bot, by content hash."""

    model_config = ConfigDict(extra="forbid")

    file: str
    sha256: str
    chars: int


class TargetInfo(BaseModel):
    """The bot a run talked to. A registered target's `describe()` may add keys of its own,
    so unknown keys are kept rather than refused; keys that do not apply are left out."""

    model_config = ConfigDict(extra="allow")

    spec: str
    model: str | None = Field(default=None, exclude_if=_is_none)
    base_url: str | None = Field(default=None, exclude_if=_is_none)
    transcripts: int | None = Field(
        default=None, exclude_if=_is_none, description="replay: transcripts in the file"
    )
    system_prompt: SystemPromptInfo | None = Field(default=None, exclude_if=_is_none)
    simulator: str | None = Field(
        default=None, exclude_if=_is_none, description="model playing the user"
    )


class UnmetExpectation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: str
    criterion: str
    label: str = Field(description="the verdict it got ('missing' if never judged)")


class ExpectationSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    total: int = 0
    unmet: list[UnmetExpectation] = Field(default_factory=list)


class ScenarioRunSummary(BaseModel):
    """Run-level numbers of a `RunRecord`: scenario counts, errors, unmet expectations; the
    defaults are those of a run of no scenarios."""

    model_config = ConfigDict(extra="forbid")

    scenarios: int = 0
    passed: int = 0
    failed: int = 0
    inconclusive: int = 0
    errors: int = 0
    score: float | None = None
    expectations: ExpectationSummary = Field(default_factory=ExpectationSummary)
    critical_failures: list[CriticalFailure] = Field(default_factory=list)
    by_condition: dict[str, ConditionSummary] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict, description="converse, total")


class RunRecord(BaseModel):
    """The file `mheval run` writes and `mheval check` / `baseline bless` read."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = RUN_FORMAT_VERSION
    kind: Literal["run", "baseline"] = "run"
    tool_version: str
    created_at: str
    target: TargetInfo
    scenarios: dict[str, str] = Field(description="scenario id -> content hash")
    outcomes: list[ScenarioOutcome]
    score: ScoreRun
    summary: ScenarioRunSummary = Field(default_factory=ScenarioRunSummary)
    blessed_at: str | None = None
