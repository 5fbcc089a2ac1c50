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

from evaluator.types.transcript import ScoreRun, Transcript

__all__ = [
    "Risk",
    "Persona",
    "ConditionalTurn",
    "ScenarioTurn",
    "Simulation",
    "Scenario",
    "ScenarioOutcome",
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


class RunRecord(BaseModel):
    """The file `mheval run` writes and `mheval check` / `baseline bless` read."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = RUN_FORMAT_VERSION
    kind: Literal["run", "baseline"] = "run"
    tool_version: str
    created_at: str
    target: dict[str, Any] = Field(description="target spec, system prompt hash, model ids")
    scenarios: dict[str, str] = Field(description="scenario id -> content hash")
    outcomes: list[ScenarioOutcome]
    score: ScoreRun
    summary: dict[str, Any] = Field(
        default_factory=dict, description="scenario counts, errors, unmet expectations, timings"
    )
    blessed_at: str | None = None
