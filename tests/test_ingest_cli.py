"""`mheval corpus ingest` through the real CLI: the 200-post slice of the collected corpus,
JSON output, the generic mapping, and user errors as one red line with exit code 2 (also
through the console-script entry point)."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pytest

from evaluator.cli import main
from evaluator.corpus import read_corpus

DATA = Path(__file__).parent / "data" / "ingest"
SLICE = DATA / "corpus_slice.jsonl"


def test_ingest_the_corpus_slice_renders_the_summary(cli, tmp_path):
    out = tmp_path / "corpus.jsonl.gz"
    result = cli("corpus", "ingest", SLICE, "--out", out)
    assert result.exit_code == 0, result.output
    for word in ("posts in", "posts out", "google_play", "reddit", "duplicate texts", "scrubbed"):
        assert word in result.output
    assert "196" in result.output
    posts = list(read_corpus(out))
    assert len(posts) == 196
    ids = {json.loads(line)["id"] for line in SLICE.read_text(encoding="utf-8").splitlines()}
    assert {p.id for p in posts} <= ids
    with gzip.open(out, "rt", encoding="utf-8") as handle:
        assert sum(1 for _ in handle) == 196


def test_json_report_and_report_file(cli, tmp_path):
    report_file = tmp_path / "report.json"
    result = cli(
        "--json", "corpus", "ingest", SLICE, DATA / "reddit_malformed.jsonl",
        "-o", tmp_path / "c.jsonl", "--report", report_file,
    )  # fmt: skip
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report == json.loads(report_file.read_text(encoding="utf-8"))
    assert report["posts_out"] == 198
    assert report["dropped"]["duplicate_text"] == 4
    assert report["skipped_total"] == 2
    assert report["skipped"][0]["line"] == 2
    assert [i["format"] for i in report["inputs"]] == ["mheval", "reddit"]
    assert set(report["scrubbed"]) == {"url", "email", "user", "phone"}
    assert report["tool_version"] and report["format_version"] == 1


def test_skipped_lines_are_reported_with_file_and_line(cli, tmp_path):
    result = cli("corpus", "ingest", DATA / "reddit_malformed.jsonl", "-o", tmp_path / "c.jsonl")
    assert result.exit_code == 0
    assert "reddit_malformed.jsonl:2: malformed JSON" in result.stderr
    assert "reddit_malformed.jsonl:4:" in result.stderr


def test_generic_mapping_from_the_command_line(cli, tmp_path):
    out = tmp_path / "c.jsonl"
    result = cli(
        "corpus", "ingest", DATA / "generic_survey.csv", "-o", out, "--text-col", "answer",
        "--id-col", "response_id", "--date-col", "submitted", "--platform", "survey",
        "--meta-col", "age_band",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    posts = {p.id: p for p in read_corpus(out)}
    assert sorted(posts) == ["survey:r-001", "survey:r-002"]
    assert posts["survey:r-001"].meta == {"age_band": "25-34"}
    assert "example.com" not in out.read_text(encoding="utf-8")  # unmapped e-mail column


def test_a_column_option_without_text_col_is_an_error_before_anything_is_read(cli, tmp_path):
    out = tmp_path / "c.jsonl"
    result = cli("corpus", "ingest", DATA / "generic_survey.csv", "-o", out, "--id-col", "rid")
    assert result.exit_code == 2
    assert "--text-col: column options need --text-col" in result.stderr
    assert not out.exists()


def test_unknown_format_is_one_red_line_naming_the_formats_tried(cli, tmp_path):
    result = cli("corpus", "ingest", DATA / "unknown.jsonl", "-o", tmp_path / "c.jsonl")
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "unknown.jsonl: unrecognised JSONL format; tried:" in lines[0]
    for name in ("reddit", "twitter-v2", "bluesky", "youtube", "tiktok", "google-play"):
        assert name in lines[0]
    assert not (tmp_path / "c.jsonl").exists()


def _run_main(monkeypatch, capsys, *args) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["mheval", *map(str, args)])
    with pytest.raises(SystemExit) as caught:
        main()
    return caught.value.code, capsys.readouterr().err


def test_strict_is_one_red_line_and_exit_2(monkeypatch, capsys, tmp_path):
    out = tmp_path / "c.jsonl"
    out.write_text("old corpus\n", encoding="utf-8")
    code, err = _run_main(
        monkeypatch, capsys, "corpus", "ingest", DATA / "reddit_malformed.jsonl", "-o", out,
        "--strict",
    )  # fmt: skip
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("error:") and "reddit_malformed.jsonl:2: malformed JSON" in lines[0]
    assert out.read_text(encoding="utf-8") == "old corpus\n"


def test_help_shows_examples(cli):
    result = cli("corpus", "ingest", "--help")
    assert result.exit_code == 0
    assert "Examples" in result.output and "mheval corpus ingest" in result.output
    formats = cli("corpus", "formats")
    for name in ("reddit", "twitter-v2", "bluesky", "youtube", "tiktok", "app-store", "paper"):
        assert name in formats.output
