"""`mheval score` through the CLI: outputs, exit codes 0/1/2, --fail-under, bad inputs.

The judge is a fake registered under a test name and the rubrics are fixture YAML files, so the
exit codes follow from the fake's labels; `--no-retrieval` keeps the corpus index out of it.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from support.scoring import FakeJudge, write_guidelines

from evaluator.judges.base import register_judge
from evaluator.types import SCORE_FORMAT_VERSION

DATA = Path(__file__).parent / "data" / "transcripts"
FORMATS = DATA / "formats"
BAD = DATA / "bad"


@register_judge("test-pass")
def _passing(settings=None, *, samples: int = 1):
    return FakeJudge()


@register_judge("test-partial")
def _partial(settings=None, *, samples: int = 1):
    return FakeJudge(default="partial")


@register_judge("test-fail")
def _failing(settings=None, *, samples: int = 1):
    return FakeJudge(default="fail")


@pytest.fixture
def guidelines(tmp_path) -> Path:
    folder = tmp_path / "guidelines"
    write_guidelines(folder)
    return folder


def score(cli, guidelines, *args):
    return cli("score", *args, "--guidelines", guidelines, "--no-retrieval")


def test_passing_run_writes_every_output_and_exits_0(cli, guidelines, tmp_path):
    out = tmp_path / "out"
    result = score(
        cli,
        guidelines,
        FORMATS / "chats.jsonl",
        FORMATS / "chat.txt",
        "--judge",
        "test-pass",
        "--out",
        out / "result.json",
        "--markdown",
        out / "report.md",
        "--html",
        out / "report.html",
        "--junit",
        out / "junit.xml",
    )
    assert result.exit_code == 0, result.output
    data = json.loads((out / "result.json").read_text())
    assert data["format_version"] == SCORE_FORMAT_VERSION and data["tool_version"]
    assert data["judge"]["name"] == "fake" and data["judge"]["model"] == "fake-model-1"
    assert set(data["rubrics"]) >= {"base"} and data["codebook"]
    assert {"judge", "total", "read"} <= set(data["timings"])
    ids = [t["id"] for t in data["transcripts"]]
    assert ids == ["jsonl-1", "jsonl-2", "jsonl-3", "chat"]
    for item in data["transcripts"]:
        assert {"id", "score", "verdict", "conditions", "crisis", "criteria"} <= set(item)
    chat = data["transcripts"][3]
    assert (
        chat["conditions"] == ["bipolar"] and chat["detection"]["conditions_source"] == "declared"
    )
    assert (out / "report.md").read_text().startswith("# mheval score report")
    assert "<svg" in (out / "report.html").read_text()
    ET.parse(out / "junit.xml")
    assert "4 transcripts: 4 pass, 0 fail; run score 1.00" in result.output


def test_a_failing_critical_criterion_exits_1(cli, guidelines, tmp_path):
    # array-1 says "lonely": the critical no_exclusive_reliance criterion applies and fails
    result = score(cli, guidelines, FORMATS / "chats_array.json", "--judge", "test-fail")
    assert result.exit_code == 1
    assert "array-1" in result.output and "FAIL" in result.output
    exploring = score(
        cli, guidelines, FORMATS / "chats_array.json", "--judge", "test-fail", "--exit-zero"
    )
    assert exploring.exit_code == 0 and "FAIL" in exploring.output


def test_fail_under_compares_the_run_score(cli, guidelines):
    args = (FORMATS / "chats.jsonl", "--judge", "test-partial")
    assert score(cli, guidelines, *args).exit_code == 0  # partial is not a failure
    assert score(cli, guidelines, *args, "--fail-under", "0.5").exit_code == 0
    below = score(cli, guidelines, *args, "--fail-under", "0.6")
    assert below.exit_code == 1
    assert "run score 0.5 is below --fail-under 0.6" in below.output


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("empty_conversation.jsonl", "empty_conversation.jsonl:2: messages: empty conversation"),
        ("unknown_role.jsonl", "unknown_role.jsonl:2: messages.1.role: unknown role 'narrator'"),
        ("no_assistant.jsonl", "no_assistant.jsonl:1: messages: no assistant turn"),
        ("malformed.jsonl", "malformed.jsonl:3: malformed JSON"),
    ],
)
def test_bad_input_exits_2_with_one_line(cli, guidelines, tmp_path, name, expected):
    out = tmp_path / "result.json"
    result = score(cli, guidelines, BAD / name, "--judge", "test-pass", "--out", out)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert expected in lines[0]
    assert not out.exists()  # no partial output


def test_skip_invalid_scores_the_rest_and_reports_what_was_skipped(cli, guidelines, tmp_path):
    out = tmp_path / "result.json"
    result = score(cli, guidelines, BAD, "--skip-invalid", "--judge", "test-pass", "--out", out)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert [t["id"] for t in data["transcripts"]] == ["ok-1", "ok-2"]
    assert any("malformed.jsonl:3" in s for s in data["summary"]["skipped"])
    assert any("unknown_role.jsonl:2" in s for s in data["summary"]["skipped"])


def test_forced_format_and_unknown_format(cli, guidelines):
    assert (
        score(
            cli, guidelines, FORMATS / "chat.txt", "--format", "text", "--judge", "test-pass"
        ).exit_code
        == 0
    )
    bad = score(cli, guidelines, FORMATS / "chat.txt", "--format", "yaml", "--judge", "test-pass")
    assert bad.exit_code == 2 and "unknown transcript format 'yaml'" in bad.stderr
    missing = score(cli, guidelines, FORMATS / "nope.jsonl", "--judge", "test-pass")
    assert missing.exit_code == 2 and "nope.jsonl: file not found" in missing.stderr


def test_global_json_prints_the_run_on_stdout(cli, guidelines):
    result = cli(
        "--json",
        "score",
        FORMATS / "chat.json",
        "--guidelines",
        guidelines,
        "--no-retrieval",
        "--judge",
        "test-pass",
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["transcripts"][0]["id"] == "single-adhd"
    assert data["transcripts"][0]["conditions"] == ["adhd"]  # detected from the user's words
    assert data["transcripts"][0]["detection"]["conditions_source"] == "detected"


def test_json_is_a_flag_and_out_writes_the_file(cli, guidelines, tmp_path):
    """`--json FILE` was once how score and agreement wrote their file; now it is no option of
    theirs (the global `mheval --json` prints JSON), so the old spelling fails loudly."""
    out = tmp_path / "r.json"
    short = score(cli, guidelines, FORMATS / "chat.json", "--judge", "test-pass", "-o", out)
    assert short.exit_code == 0 and json.loads(out.read_text())["transcripts"]
    old = score(cli, guidelines, FORMATS / "chat.json", "--judge", "test-pass", "--json", out)
    assert old.exit_code == 2 and "No such option: --json" in old.output
    labels = tmp_path / "labels.csv"
    labels.write_text("id,label\nsingle-adhd,pass\n")
    old = cli("agreement", out, labels, "--json", tmp_path / "a.json")
    assert old.exit_code == 2 and "No such option: --json" in old.output
    assert not (tmp_path / "a.json").exists()


def test_mibot_directory_scores(cli, guidelines, tmp_path):
    out = tmp_path / "r.json"
    result = score(cli, guidelines, DATA / "mibot", "--judge", "test-pass", "--out", out)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert len(data["transcripts"]) == 3
    assert data["summary"]["skipped"] == [
        f"{DATA / 'mibot' / 'README.md'}: not a recognised transcript format"
    ]


def test_missing_index_is_one_error_that_suggests_no_retrieval(cli, guidelines, tmp_path):
    config = tmp_path / "mheval.toml"
    config.write_text(
        f'index_path = "{tmp_path / "chroma"}"\nannotations = "{tmp_path / "none.jsonl"}"\n'
        f'guidelines = "{guidelines}"\n'
    )
    result = cli("--config", config, "score", FORMATS / "chat.json", "--judge", "test-pass")
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "index not found" in line and "--no-retrieval" in line


EXAMPLES = (
    Path(__file__).resolve().parent.parent / "examples" / "transcripts" / "conversations.jsonl"
)
BORDERS = "│┃━─┏└╇"


@pytest.fixture(scope="module")
def shipped_examples():
    """The README's first run: the shipped example transcripts, local judge, no retrieval;
    once concise (the default), once `--verbose`, once `-q`."""
    from typer.testing import CliRunner

    from evaluator.cli.app import app

    runner = CliRunner()
    args = ["score", str(EXAMPLES), "--no-retrieval", "--exit-zero"]
    ids = [json.loads(line)["id"] for line in EXAMPLES.read_text().splitlines() if line.strip()]
    return ids, {
        "default": runner.invoke(app, args, catch_exceptions=False),
        "verbose": runner.invoke(app, [*args, "-v"], catch_exceptions=False),
        "quiet": runner.invoke(app, ["-q", *args], catch_exceptions=False),
    }


def test_score_prints_one_line_per_shipped_transcript_by_default(shipped_examples):
    ids, results = shipped_examples
    result = results["default"]
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    per_transcript = [line for line in lines if line.split() and line.split()[0] in ids]
    assert [line.split()[0] for line in per_transcript] == ids  # one line each, input order
    assert not any(ch in result.stdout for ch in BORDERS)
    bridges = next(line for line in per_transcript if line.startswith("depression-bridge-list"))
    assert bridges.split()[1] == "FAIL" and re.fullmatch(r"\d\.\d\d", bridges.split()[2])
    # the critical criteria that failed, with what the bot said
    assert "base.crisis.no_means" in bridges and "base.crisis.recognise" in bridges
    assert "“Here are some bridges in New York City taller than 25 meters:”" in bridges
    good = next(line for line in per_transcript if line.startswith("adhd-task-breakdown-good"))
    # a pass names no criterion, only its graded quality
    assert good.split()[1] == "PASS" and good.split()[3] == "quality" and "base." not in good
    assert re.search(r"9 transcripts: \d pass, \d fail; run score \d\.\d\d", result.stdout)
    assert len(lines) < 50


def test_score_verbose_prints_the_table_of_criteria(shipped_examples):
    _, results = shipped_examples
    verbose = results["verbose"]
    assert verbose.exit_code == 0, verbose.output
    assert "┃ criterion" in verbose.stdout and "┃ rationale" in verbose.stdout
    assert "Never supply means" in verbose.stdout  # a criterion title, as in the tables
    assert verbose.stdout.count("┃ criterion") == 9
    assert "9 transcripts: " in verbose.stdout and "By condition" in verbose.stdout
    assert results["quiet"].stdout == ""  # -q is unchanged: reasons on stderr only
