"""The supported API (`evaluator.__all__`), and a team's judge reachable with `--judge` through
a plugin: the `plugins` config key, or an installed `mheval.plugins` entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import evaluator
from evaluator.config import load_settings
from evaluator.errors import ConfigError
from evaluator.io import read_score_run
from evaluator.judges import unregister_judge

EXAMPLE = (
    Path(__file__).resolve().parent.parent / "examples" / "transcripts" / "conversations.jsonl"
)

EXPECTED_API = [
    "__version__",
    "score",
    "score_files",
    "open_session",
    "gate",
    "read_score_run",
    "write_score_run",
    "read_run",
    "write_run",
    "read_check",
    "read_transcripts",
    "run_scenarios",
    "check_run",
    "load_settings",
    "Settings",
    "Judge",
    "JudgeRequest",
    "JudgeAnswer",
    "get_judge",
    "register_judge",
    "unregister_judge",
    "register_chat_model",
    "unregister_chat_model",
    "register_reader",
    "register_target",
    "register_annotator",
    "ScoreRun",
    "RunRecord",
    "Verdict",
    "Transcript",
    "CheckReport",
    "EvaluatorError",
    "InputError",
    "ConfigError",
    "ModelError",
]

#: A team's judge: passes everything "by their rule". Registered when the module is imported.
THEIR_JUDGE = textwrap.dedent(
    """
    from evaluator import JudgeAnswer, register_judge

    class TheirJudge:
        name = "theirs"
        model = None
        version = "1"
        deterministic = True
        samples = 1
        usage = None

        def judge(self, requests):
            return [JudgeAnswer(label="pass", rationale="their rule") for _ in requests]

    @register_judge("theirs")
    def factory(settings=None, *, samples=1):
        return TheirJudge()
    """
)


def test_the_public_names_are_exactly_the_supported_api_and_all_import():
    assert evaluator.__all__ == EXPECTED_API
    for name in evaluator.__all__:
        assert getattr(evaluator, name) is not None, name
    with pytest.raises(AttributeError):
        evaluator.not_a_public_name  # noqa: B018
    assert evaluator.JudgeAnswer(label="pass").label == "pass"
    assert evaluator.register_judge == evaluator.judges.JUDGES.register


def test_importing_the_package_stays_light():
    heavy = ("torch", "sentence_transformers", "chromadb", "langchain", "langchain_core")
    code = f"import sys, evaluator; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture
def project_with_plugin(tmp_path, monkeypatch):
    """A project folder: their_judge.py beside an mheval.toml that names it as a plugin."""
    monkeypatch.setattr(sys, "path", list(sys.path))  # the config's folder is added to it
    (tmp_path / "their_judge.py").write_text(THEIR_JUDGE)
    (tmp_path / "mheval.toml").write_text('plugins = ["their_judge"]\n')
    try:
        yield tmp_path
    finally:
        unregister_judge("theirs")
        sys.modules.pop("their_judge", None)


def test_a_judge_from_the_plugins_config_key_is_selectable_with_judge(cli, project_with_plugin):
    out = project_with_plugin / "run.json"
    result = cli(
        "--config", project_with_plugin / "mheval.toml", "score", EXAMPLE, "--judge", "theirs",
        "--no-retrieval", "--summary-only", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    run = read_score_run(out)
    assert run.judge.name == "theirs"
    judged = [v for t in run.transcripts for v in t.criteria if v.label != "not_applicable"]
    assert judged and {(v.label, v.rationale, v.judge) for v in judged} == {
        ("pass", "their rule", "theirs")
    }


def test_a_plugin_that_cannot_be_imported_names_itself_and_the_config_file(tmp_path):
    config = tmp_path / "mheval.toml"
    config.write_text('plugins = ["no_such_plugin_module"]\n')
    with pytest.raises(ConfigError, match="cannot load plugin 'no_such_plugin_module'") as caught:
        load_settings(config)
    assert caught.value.file == str(config) and caught.value.field == "plugins"


def _install_distribution(site: Path, entry_point: str) -> None:
    """What `pip install` leaves for a package declaring
    `[project.entry-points."mheval.plugins"]`: its module and a dist-info folder."""
    (site / "their_pkg.py").write_text(THEIR_JUDGE)
    dist = site / "their_pkg-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: their-pkg\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[mheval.plugins]\n{entry_point}\n")


def _mheval(site: Path, *args) -> subprocess.CompletedProcess:
    """`mheval ARGS` in a fresh interpreter that has `site` installed (entry points are read
    once per process, so this cannot run in the test's own)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    code = "import sys; from evaluator.cli import main; sys.argv[0] = 'mheval'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True, text=True, env=env, cwd=site, timeout=300,
    )  # fmt: skip


def test_a_judge_from_an_installed_entry_point_is_selectable_with_judge(tmp_path):
    _install_distribution(tmp_path, "theirs = their_pkg")
    out = tmp_path / "run.json"
    result = _mheval(
        tmp_path, "score", EXAMPLE, "--judge", "theirs", "--no-retrieval", "--summary-only",
        "--out", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    run = json.loads(out.read_text())
    assert run["judge"]["name"] == "theirs"
    labels = {v["label"] for t in run["transcripts"] for v in t["criteria"]}
    assert labels == {"pass", "not_applicable"}


def test_a_broken_entry_point_is_a_config_error_naming_it(tmp_path):
    _install_distribution(tmp_path, "broken = their_pkg_missing")
    result = _mheval(tmp_path, "score", EXAMPLE, "--judge", "theirs", "--no-retrieval")
    assert result.returncode == 2, result.stderr
    assert "cannot load plugin 'broken = their_pkg_missing' (entry point of their-pkg" in (
        result.stderr
    )
