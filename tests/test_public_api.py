"""The supported API (`evaluator.__all__`) and judges from plugins reachable with `--judge`."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import evaluator
from evaluator.config import Settings
from evaluator.errors import ConfigError
from evaluator.judges import get_judge, unregister_judge

EXAMPLE = (
    Path(__file__).resolve().parent.parent / "examples" / "transcripts" / "conversations.jsonl"
)

PLUGIN = textwrap.dedent(
    """
    from evaluator.types import JudgeAnswer

    class TheirJudge:
        name = "theirs"
        model = None
        version = "1"
        deterministic = True
        samples = 1
        usage = None

        def judge(self, requests):
            return [JudgeAnswer(label="pass", rationale="their rule") for _ in requests]

    def factory(settings=None, *, samples=1):
        return TheirJudge()
    """
)


def test_every_public_name_resolves_and_nothing_else_is_offered():
    for name in evaluator.__all__:
        assert getattr(evaluator, name) is not None, name
    with pytest.raises(AttributeError):
        evaluator.not_a_public_name  # noqa: B018
    assert callable(evaluator.score_files) and evaluator.JudgeAnswer(label="pass").label == "pass"


def test_importing_the_package_stays_light():
    heavy = ("torch", "chromadb", "langchain", "evaluator.scoring")
    code = f"import sys, evaluator; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture
def plugin_module(tmp_path, monkeypatch):
    (tmp_path / "their_judge.py").write_text(
        PLUGIN.replace("factory(", "_factory(")
        + textwrap.dedent(
            """
        from evaluator.judges import register_judge
        register_judge("theirs")(_factory)
        """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    unregister_judge("theirs")
    sys.modules.pop("their_judge", None)


def test_plugins_config_key_makes_a_team_judge_selectable(cli, plugin_module, tmp_path):
    config = tmp_path / "mheval.toml"
    config.write_text('plugins = ["their_judge"]\n')
    out = tmp_path / "run.json"
    result = cli(
        "--config", config, "score", EXAMPLE, "--judge", "theirs", "--no-retrieval",
        "--summary-only", "--json", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert '"name": "theirs"' in out.read_text()


def test_entry_point_group_registers_installed_judges(tmp_path, monkeypatch):
    (tmp_path / "their_pkg.py").write_text(PLUGIN)
    dist = tmp_path / "their_pkg-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: their-pkg\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[mheval.judges]\ntheirs = their_pkg:factory\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        judge = get_judge("theirs", Settings())
        assert judge.name == "theirs"
    finally:
        unregister_judge("theirs")
        sys.modules.pop("their_pkg", None)


def test_a_plugin_that_cannot_be_imported_is_a_config_error():
    with pytest.raises(ConfigError, match="cannot import plugin 'no_such_module'"):
        get_judge("nobody", Settings(plugins=["no_such_module"]))
