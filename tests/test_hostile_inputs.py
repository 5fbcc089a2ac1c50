"""Issue 14's table, row by row: every failure is one clear line and an exit code that is never
mistaken for a verdict (0 ok, 1 regression or failed check, 2 bad input, 70 internal error).

The rows: JSON nested thousands of levels deep (transcript, run file, baseline, scores file, a
folder with --skip-invalid), a 5,000-digit transcript id, a `.jsonl.gz` that is not gzip, a config
that is not UTF-8, `--out` at a folder or an unwritable path, a named pipe as a transcript, a
`python:` bot that exits, raises or hangs, and SIGTERM during `score` / `corpus ingest` (no
`.NAME.*.tmp` left behind; a stale one from a killed run does not confuse the next run). Also: the
top-level guard for unexpected exceptions, and SIGINT still cleaning its temp files.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from evaluator.config import project_root
from evaluator.errors import EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_TERMINATED
from evaluator.io import write_json
from evaluator.types import RunRecord, ScenarioOutcome, ScoreRun

ROOT = project_root()
EXAMPLES = ROOT / "examples" / "transcripts" / "conversations.jsonl"
SCENARIOS = ROOT / "tests" / "data" / "scenarios"
DEEP = "[" * 5000 + "]" * 5000
MESSAGES = [
    {"role": "user", "content": "I can't sleep again."},
    {"role": "assistant", "content": "That sounds exhausting. What has the last week been like?"},
]


def one_line_error(result, code: int = EXIT_INPUT) -> str:
    """The command failed with `code`, printed exactly one non-blank line and no traceback."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def _run_record() -> RunRecord:
    return RunRecord(
        tool_version="test",
        created_at="2026-11-23T00:00:00+00:00",
        target={"spec": "python:bot:reply"},
        scenarios={"s": "hash"},
        outcomes=[ScenarioOutcome(scenario_id="s", condition="general", risk="low", error="x")],
        score=ScoreRun(
            tool_version="test",
            created_at="2026-11-23T00:00:00+00:00",
            judge={"name": "local", "version": "1"},
            rubrics={},
            transcripts=[],
        ),
        summary={"score": None},
    )


# --- JSON nested a few thousand levels deep ----------------------------------------------------


@pytest.fixture
def deep_transcript(tmp_path) -> Path:
    path = tmp_path / "deep.jsonl"
    path.write_text(f'{{"id": "a", "messages": {json.dumps(MESSAGES)}, "extra": {DEEP}}}\n')
    return path


def test_deep_json_in_a_transcript(cli, deep_transcript):
    line = one_line_error(cli("score", deep_transcript, "--no-retrieval"))
    assert "deep.jsonl:1" in line and "nested" in line


def test_deep_json_in_a_folder_scored_with_skip_invalid(cli, tmp_path, deep_transcript):
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"id": "ok", "messages": MESSAGES}) + "\n")
    result = cli("score", tmp_path, "--no-retrieval", "--skip-invalid", "--summary-only")
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    assert "deep.jsonl:1" in result.output and "nested" in result.output


def test_deep_json_as_a_run_file_and_as_a_baseline(cli, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP)
    good = tmp_path / "run.json"
    write_json(good, _run_record())
    for run, baseline in ((deep, good), (good, deep)):
        line = one_line_error(cli("check", run, "--baseline", baseline))
        assert "deep.json" in line and "nested" in line
    line = one_line_error(cli("baseline", "bless", deep, "--out", tmp_path / "b.json"))
    assert "deep.json" in line and "nested" in line
    assert not (tmp_path / "b.json").exists()


def test_deep_json_as_the_scores_of_agreement(cli, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP)
    labels = tmp_path / "labels.csv"
    labels.write_text("id,label\na,pass\n")
    line = one_line_error(cli("agreement", deep, labels))
    assert "deep.json" in line and "nested" in line


def test_deep_yaml_and_toml_are_refused_too(cli, tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("id: s\nextra: " + "[" * 5000 + "]" * 5000 + "\n")
    line = one_line_error(cli("scenarios", "validate", scenario))
    assert "s.yaml" in line and "nest" in line  # libyaml's own limit, or ours
    config = tmp_path / "mheval.toml"
    config.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    line = one_line_error(cli("--config", config, "score", EXAMPLES, "--no-retrieval"))
    assert "mheval.toml" in line and "nested" in line


def test_json_size_limits(cli, tmp_path, monkeypatch):
    """A JSON document or JSONL line over the limit is refused with its size, not read whole."""
    import evaluator.io as io

    monkeypatch.setattr(io, "MAX_JSON_DOCUMENT_CHARS", 1000)
    monkeypatch.setattr(io, "MAX_JSONL_LINE_CHARS", 1000)
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"messages": MESSAGES, "pad": "x" * 2000}))
    line = one_line_error(cli("score", big, "--no-retrieval"))
    assert "big.json" in line and "larger than" in line
    long_line = tmp_path / "long.jsonl"
    long_line.write_text(
        json.dumps({"id": "a", "messages": MESSAGES, "pad": "x" * 2000})
        + "\n"
        + json.dumps({"id": "b", "messages": MESSAGES})
        + "\n"
    )
    line = one_line_error(cli("score", long_line, "--no-retrieval"))
    assert "long.jsonl:1" in line and "longer than" in line
    skipped = cli("score", long_line, "--no-retrieval", "--skip-invalid", "--summary-only")
    assert skipped.exit_code in (0, 1) and "long.jsonl:1" in skipped.output  # line 2 is read


# --- a transcript id that is a 5,000-digit number ----------------------------------------------


def test_a_five_thousand_digit_id(cli, tmp_path):
    path = tmp_path / "bigid.jsonl"
    path.write_text(f'{{"id": {"9" * 5000}, "messages": {json.dumps(MESSAGES)}}}\n')
    line = one_line_error(cli("score", path, "--no-retrieval"))
    assert "bigid.jsonl:1" in line and ": id:" in line and "5000" in line


@pytest.mark.parametrize(
    ("raw", "message"),
    [("true", "string or integer"), ('"' + "a" * 300 + '"', "300 characters"), ("1.5", "string")],
)
def test_id_type_and_length(cli, tmp_path, raw, message):
    path = tmp_path / "t.jsonl"
    path.write_text(f'{{"id": {raw}, "messages": {json.dumps(MESSAGES)}}}\n')
    line = one_line_error(cli("score", path, "--no-retrieval"))
    assert ": id:" in line and message in line


# --- a .jsonl.gz that is not gzip --------------------------------------------------------------


def test_a_gz_file_that_is_not_gzip(cli, tmp_path):
    path = tmp_path / "chats.jsonl.gz"
    path.write_text(json.dumps({"id": "a", "messages": MESSAGES}) + "\n")
    line = one_line_error(cli("score", path, "--no-retrieval"))
    assert "chats.jsonl.gz" in line and "gzip" in line


def test_a_truncated_gzip_file(cli, tmp_path):
    import gzip

    data = gzip.compress(
        "".join(
            json.dumps({"id": f"t{i}", "messages": MESSAGES}) + "\n" for i in range(200)
        ).encode()
    )
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    line = one_line_error(cli("score", path, "--no-retrieval"))
    assert "cut.jsonl.gz" in line and "gzip" in line


def test_corpus_ingest_of_a_gz_that_is_not_gzip(cli, tmp_path):
    path = tmp_path / "posts.jsonl.gz"
    path.write_text('{"id": "1", "text": "hello there"}\n')
    result = cli("corpus", "ingest", path, "--out", tmp_path / "corpus.jsonl")
    assert result.exit_code == EXIT_INPUT, result.output
    assert "Traceback" not in result.output and "gzip" in result.output


# --- a config file that is not UTF-8 -----------------------------------------------------------


def test_a_config_that_is_not_utf8(cli, tmp_path):
    config = tmp_path / "mheval.toml"
    config.write_bytes(b'judge = "\xff\xfe"\n')
    line = one_line_error(cli("--config", config, "score", EXAMPLES, "--no-retrieval"))
    assert "mheval.toml" in line and "UTF-8" in line


def test_a_config_that_is_a_folder(cli, tmp_path):
    line = one_line_error(cli("--config", tmp_path, "score", EXAMPLES, "--no-retrieval"))
    assert "not a regular file" in line or "folder" in line


def test_a_system_prompt_that_is_not_utf8(cli, tmp_path):
    prompt = tmp_path / "prompt.txt"
    prompt.write_bytes(b"be kind \xff\n")
    line = one_line_error(
        cli(
            "run",
            SCENARIOS / "scenarios",
            "-t",
            "python:x:y",
            "-s",
            prompt,
            "-o",
            tmp_path / "r.json",
        )
    )
    assert "prompt.txt" in line and "UTF-8" in line


# --- output paths checked before any work ------------------------------------------------------


@pytest.fixture
def spy_scoring(monkeypatch):
    """Records whether scoring started."""
    import evaluator.scoring as scoring

    calls = []
    real = scoring.score_files

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(scoring, "score_files", spy)
    return calls


@pytest.mark.parametrize("option", ["--out", "--html", "--markdown", "--junit"])
def test_score_output_at_a_folder(cli, tmp_path, spy_scoring, option):
    line = one_line_error(cli("score", EXAMPLES, "--no-retrieval", option, tmp_path))
    assert option in line and "folder" in line
    assert spy_scoring == []  # refused before any transcript was judged


def test_score_output_at_unwritable_paths(cli, tmp_path, spy_scoring):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    for target in (a_file / "out.json", Path("/proc/mheval-no-such/out.json")):
        line = one_line_error(cli("score", EXAMPLES, "--no-retrieval", "--out", target))
        assert "--out" in line and str(target.parent) in line or "cannot write" in line
    assert spy_scoring == []


def test_a_full_disk_is_bad_input_not_a_crash(cli, tmp_path, monkeypatch):
    import errno

    import evaluator.io as io

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(io.os, "fsync", full)
    out = tmp_path / "result.json"
    line = one_line_error(cli("score", EXAMPLES, "--no-retrieval", "--out", out, "--exit-zero"))
    assert "result.json" in line and "No space left" in line
    assert list(tmp_path.iterdir()) == []


def test_output_checks_of_the_other_commands(cli, tmp_path):
    run = tmp_path / "run.json"
    write_json(run, _run_record())
    labels = tmp_path / "labels.csv"
    labels.write_text("id,label\na,pass\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    commands = [
        ("baseline", "bless", run, "--out", folder),
        ("check", run, "--baseline", run, "--junit", folder),
        ("check", run, "--baseline", run, "--markdown", folder),
        ("agreement", run, labels, "--out", folder),
        ("corpus", "ingest", EXAMPLES, "--out", folder),
        ("run", SCENARIOS / "scenarios", "-t", "python:x:y", "--out", folder),
        ("mine", EXAMPLES, "--out", folder),
    ]
    for args in commands:
        line = one_line_error(cli(*args))
        assert "folder" in line, args


# --- a named pipe given as a transcript --------------------------------------------------------


def _mheval(*args, cwd=None, **kwargs) -> subprocess.Popen:
    """The console script in a subprocess (real signals, real exit codes)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", "from evaluator.cli import main; main()", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd or ROOT,
        **kwargs,
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_a_named_pipe_is_refused_not_waited_on(tmp_path):
    pipe = tmp_path / "chats.jsonl"
    os.mkfifo(pipe)
    for args in (("score", pipe, "--no-retrieval"), ("score", tmp_path, "--no-retrieval")):
        process = _mheval(*args)
        try:
            _, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail(f"mheval {args} waited on a named pipe")
        assert process.returncode == EXIT_INPUT, err
        assert "Traceback" not in err
    assert "not a regular file" in err or "no transcripts" in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_other_inputs_that_are_pipes(cli, tmp_path):
    pipe = tmp_path / "p.json"
    os.mkfifo(pipe)
    run = tmp_path / "run.json"
    write_json(run, _run_record())
    for args in (
        ("check", pipe, "--baseline", run),
        ("agreement", pipe, run),
        ("--config", pipe, "score", EXAMPLES),
        ("corpus", "ingest", pipe, "--out", tmp_path / "c.jsonl"),
        ("scenarios", "validate", pipe),
        ("run", SCENARIOS / "scenarios", "-t", f"replay:{pipe}", "-o", tmp_path / "r.json"),
    ):
        line = one_line_error(cli(*args))
        assert "not a regular file" in line, args


# --- a python: bot that exits, raises or hangs -------------------------------------------------


@pytest.fixture
def bad_bots(tmp_path, monkeypatch):
    (tmp_path / "badbots.py").write_text(
        textwrap.dedent(
            """
            import sys, time

            def exits(messages):
                sys.exit(3)

            def raises(messages):
                raise RuntimeError("bot down")

            def hangs(messages):
                time.sleep(60)
                return "too late"

            def interrupts(messages):
                raise KeyboardInterrupt
            """
        )
    )
    (tmp_path / "exits_on_import.py").write_text("import sys\nsys.exit(4)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "badbots"
    sys.modules.pop("badbots", None)
    sys.modules.pop("exits_on_import", None)


@pytest.mark.parametrize(
    ("bot", "message"),
    [
        ("exits", "sys.exit(3)"),
        ("raises", "RuntimeError: bot down"),
        ("hangs", "no reply within"),
        ("interrupts", "KeyboardInterrupt"),
    ],
)
def test_a_bot_that_exits_raises_or_hangs_fails_its_scenarios(
    cli, tmp_path, bad_bots, bot, message
):
    from evaluator.io import read_run

    config = tmp_path / "mheval.toml"
    config.write_text(f'guidelines = "{SCENARIOS / "guidelines"}"\n')
    out = tmp_path / "run.json"
    started = time.perf_counter()
    result = cli(
        "--config",
        config,
        "run",
        SCENARIOS / "scenarios",
        "--target",
        f"python:{bad_bots}:{bot}",
        "--no-retrieval",
        "--timeout",
        "0.3",
        "--retries",
        "0",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output  # `run` records; `check` gates
    assert time.perf_counter() - started < 30
    run = read_run(out)
    assert run.outcomes and all(o.verdict == "error" for o in run.outcomes)
    assert all(message in o.error for o in run.outcomes), [o.error for o in run.outcomes]


def test_a_bot_module_that_exits_on_import(cli, tmp_path, bad_bots):
    line = one_line_error(
        cli(
            "run",
            SCENARIOS / "scenarios",
            "-t",
            "python:exits_on_import:reply",
            "-o",
            tmp_path / "r.json",
        )
    )
    assert "--target" in line and "exit" in line


# --- the top-level guard -----------------------------------------------------------------------


def test_an_unexpected_exception_is_one_line_and_exit_70(cli, monkeypatch):
    import evaluator.scoring as scoring

    def boom(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(scoring, "score_files", boom)
    line = one_line_error(cli("score", EXAMPLES, "--no-retrieval"), EXIT_INTERNAL)
    assert line.startswith("internal error: RuntimeError: boom") and "--debug" in line
    debug = cli("--debug", "score", EXAMPLES, "--no-retrieval")
    assert debug.exit_code == EXIT_INTERNAL
    assert "Traceback" in debug.output and "boom" in debug.output


def test_usage_errors_stay_click_s_own_exit_2(cli):
    """The guard lets click's usage errors through: exit 2 with click's message, not 70."""
    for args, message in (
        (("score", EXAMPLES, "--no-such-option"), "No such option"),
        (("score", EXAMPLES, "--samples", "99"), "--samples"),
        (("no-such-command",), "No such command"),
    ):
        result = cli(*args)
        assert result.exit_code == EXIT_INPUT, result.output
        assert message in result.output and "internal error" not in result.output


def test_exit_codes_are_in_the_help(cli):
    text = cli("--help").output
    for code in ("0", "1", "2", "70"):
        assert f"{code} " in text
    assert "Exit codes" in text


# --- signals: temp files removed, stale ones harmless ------------------------------------------

# Runs the console script with the final fsync of an atomic write slowed down, and a marker file
# written when it starts: the parent then signals a process that is certainly mid-write.
_SLOW_WRITE = textwrap.dedent(
    """
    import os, signal, sys, time
    import evaluator.io as io

    # A shell's background job inherits SIGINT ignored; stand in for a foreground terminal.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    marker, args = sys.argv[1], sys.argv[2:]
    real = os.fsync

    def slow_fsync(fd):
        open(marker, "w").close()
        time.sleep(60)
        real(fd)

    io.os.fsync = slow_fsync
    sys.argv = ["mheval", *args]
    from evaluator.cli import main
    main()
    """
)


def _interrupt_mid_write(tmp_path: Path, sig: int, *args) -> tuple[int, str]:
    marker = tmp_path / "writing"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITE, str(marker), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            out, err = process.communicate()
            pytest.fail(f"never reached the write: {out} {err}")
        time.sleep(0.05)
    process.send_signal(sig)
    try:
        _, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("did not stop on the signal")
    return process.returncode, err


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGTERM, EXIT_TERMINATED), (signal.SIGINT, EXIT_INTERRUPTED)]
)
def test_a_signal_during_score_leaves_no_temp_file(tmp_path, sig, code):
    out = tmp_path / "result.json"
    out.write_text("old\n")
    status, err = _interrupt_mid_write(
        tmp_path, sig, "score", EXAMPLES, "--no-retrieval", "--out", out, "--exit-zero"
    )
    assert status == code, err
    assert "Traceback" not in err
    assert out.read_text() == "old\n"
    assert _temps(tmp_path) == []


def test_sigterm_during_corpus_ingest_leaves_no_temp_file(tmp_path):
    source = tmp_path / "posts.jsonl"
    source.write_text(
        "".join(
            json.dumps({"id": str(i), "text": f"post number {i} about my anxiety at work"}) + "\n"
            for i in range(50)
        )
    )
    out = tmp_path / "corpus.jsonl"
    out.write_text("old\n")
    status, err = _interrupt_mid_write(
        tmp_path, signal.SIGTERM, "corpus", "ingest", source, "--text-col", "text", "-o", out
    )
    assert status == EXIT_TERMINATED, err
    assert out.read_text() == "old\n"
    assert _temps(tmp_path) == []


def test_a_stale_temp_file_from_a_killed_run_does_not_confuse_the_next(tmp_path, cli):
    """SIGKILL cannot be handled: its temp file stays, and the next run ignores then removes it."""
    folder = tmp_path / "transcripts"
    folder.mkdir()
    (folder / "chats.jsonl").write_text(EXAMPLES.read_text())
    out = folder / "result.json"
    status, _ = _interrupt_mid_write(
        tmp_path, signal.SIGKILL, "score", folder, "--no-retrieval", "--out", out, "--exit-zero"
    )
    assert status == -signal.SIGKILL
    [stale] = _temps(folder)
    # the stale file sits among the transcripts: it is not read as one, and is swept by the next
    # write of the same file
    result = cli("score", folder, "--no-retrieval", "--out", out, "--exit-zero", "--summary-only")
    assert result.exit_code == 0, result.output
    assert "9 transcripts" in result.output
    assert json.loads(out.read_text())["transcripts"]
    assert _temps(folder) == []


def test_temp_files_of_live_processes_are_kept(tmp_path):
    """The sweep removes only temp files whose writing process is gone."""
    from evaluator.io import atomic_write

    target = tmp_path / "a.json"
    live = tmp_path / f".a.json.{os.getppid()}-abcd1234.tmp"  # the parent of pytest is alive
    live.write_text("x")
    unrelated = tmp_path / ".b.json.999999999-abcd.tmp"
    unrelated.write_text("x")
    with atomic_write(target) as handle:
        handle.write("{}")
    assert live.exists() and unrelated.exists()
