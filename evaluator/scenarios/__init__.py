"""Scenarios: scripted (and optionally simulated) conversations run against a bot, scored, and
gated in CI against a blessed baseline.

    run_scenarios(["scenarios/"], "python:examples.bot.bot:reply", settings=load_settings(),
                  system_prompt_file="examples/bot/prompts/v1.txt") -> RunRecord
    bless(run) -> RunRecord (kind="baseline")
    evaluator.check.check_run(run, baseline, max_drop=0.05) -> CheckReport

Targets are looked up by prefix (`register_target` adds one); see `targets`.
"""

from evaluator.scenarios.loader import (
    check_expectations,
    load_scenario_file,
    load_scenarios,
    resolve_expectation,
    scenario_hash,
    scenario_json_schema,
)
from evaluator.scenarios.pipeline import (
    bless,
    fill_expectations,
    load_checked_scenarios,
    run_scenarios,
)
from evaluator.scenarios.runner import TargetCallError, converse, run_conversations
from evaluator.scenarios.targets import (
    TARGETS,
    Message,
    ReplayTarget,
    Target,
    open_target,
    register_target,
)

__all__ = [
    "Message",
    "ReplayTarget",
    "Target",
    "TargetCallError",
    "bless",
    "check_expectations",
    "converse",
    "fill_expectations",
    "load_checked_scenarios",
    "load_scenario_file",
    "load_scenarios",
    "open_target",
    "register_target",
    "resolve_expectation",
    "run_conversations",
    "run_scenarios",
    "scenario_hash",
    "scenario_json_schema",
    "TARGETS",
]
