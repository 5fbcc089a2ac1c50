"""The corpus index against a real Chroma server (`chroma run` on loopback, temp storage)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from evaluator.cli._common import state
from evaluator.config import Settings
from evaluator.index import Retriever
from evaluator.types import Annotation

DATA = Path(__file__).parent / "data" / "index"

pytestmark = pytest.mark.server


def _chroma_executable() -> str | None:
    beside_python = Path(sys.executable).parent / "chroma"
    return str(beside_python) if beside_python.is_file() else shutil.which("chroma")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    executable = _chroma_executable()
    if executable is None:
        pytest.skip("the `chroma` executable (chromadb's server CLI) is not installed")
    port = _free_port()
    storage = tmp_path_factory.mktemp("chroma-server")
    log = open(storage.parent / f"chroma-{port}.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [executable, "run", "--path", str(storage), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 40
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"chroma server did not start: {log.name}") from None
                time.sleep(0.25)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _cli(monkeypatch, *args) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from evaluator.cli.app import app

    monkeypatch.setattr(state, "_settings", None)
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_build_query_status_through_a_chroma_server(chroma_url, tmp_path, monkeypatch):
    relevant = [
        a
        for a in map(
            Annotation.model_validate_json,
            (DATA / "annotations.jsonl").read_text().splitlines(),
        )
        if a.relevant and not a.error
    ]
    expected = len({i.supporting_quote for a in relevant for i in a.impacts})
    config = tmp_path / "mheval.toml"
    config.write_text(
        f'corpus = "{DATA / "corpus.jsonl"}"\n'
        f'annotations = "{DATA / "annotations.jsonl"}"\n'
        f'index_path = "{tmp_path / "never"}"\n'
        f'cache_dir = "{tmp_path / "cache"}"\n'
    )
    code, out, err = _cli(
        monkeypatch, "--config", config, "index", "build", "--chroma-url", chroma_url, "--json"
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["backend"] == "server" and report["location"] == chroma_url
    assert report["count"] == report["added"] == expected

    code, out, _ = _cli(
        monkeypatch, "--config", config, "index", "build", "--chroma-url", chroma_url
    )
    assert code == 0 and "up to date" in out

    code, out, _ = _cli(
        monkeypatch, "--config", config, "--json", "index", "query", "the AI fed my delusions",
        "--condition", "schizophrenia_spectrum", "--sentiment", "negative", "-k", "3",
        "--chroma-url", chroma_url,
    )  # fmt: skip
    assert code == 0
    answer = json.loads(out)
    assert answer["index"]["url"] == chroma_url
    assert len(answer["voices"]) == 3
    assert all(
        (v["condition"], v["sentiment"]) == ("schizophrenia_spectrum", "negative")
        for v in answer["voices"]
    )
    assert "delusion" in answer["voices"][0]["quote"]

    code, out, _ = _cli(
        monkeypatch, "--config", config, "index", "status", "--json", "--chroma-url", chroma_url
    )
    status = json.loads(out)
    assert code == 0 and status["backend"] == "server" and status["count"] == expected
    assert status["size_bytes"] is None and status["model_matches"]

    # The library sees the same index through settings.chroma_url; nothing was written locally.
    settings = Settings(
        corpus=DATA / "corpus.jsonl",
        annotations=DATA / "annotations.jsonl",
        index_path=tmp_path / "never",
        chroma_url=chroma_url,
        cache_dir=tmp_path / "cache",
        voice_min_similarity=-1.0,  # 42 fixture posts: few are near any one query
    )
    retriever = Retriever.open(settings, auto_build=False)
    voices = retriever.voices_for(text="it helps me plan my day", conditions=["adhd"], k=3)
    assert len(voices) == 3 and all(v.condition == "adhd" for v in voices)
    assert not (tmp_path / "never").exists()


def test_score_and_run_take_the_index_from_chroma_url(chroma_url, tmp_path, monkeypatch):
    """`--chroma-url` on score and run: voices come from the server, no local index is made."""
    config = tmp_path / "mheval.toml"
    config.write_text(
        f'corpus = "{DATA / "corpus.jsonl"}"\n'
        f'annotations = "{DATA / "annotations.jsonl"}"\n'
        f'index_path = "{tmp_path / "never"}"\n'
        f'cache_dir = "{tmp_path / "cache"}"\n'
        "voice_min_similarity = -1.0\n"
    )
    code, _, err = _cli(
        monkeypatch, "--config", config, "index", "build", "--chroma-url", chroma_url
    )
    assert code == 0, err
    chat = tmp_path / "chat.jsonl"
    messages = [
        {"role": "user", "content": "I have ADHD and I cannot start my tax return."},
        {"role": "assistant", "content": "Let's break it into three small steps together."},
    ]
    chat.write_text(json.dumps({"id": "adhd-taxes", "messages": messages}) + "\n")
    code, _, err = _cli(
        monkeypatch, "--config", config, "score", chat, "--out", tmp_path / "score.json",
        "--exit-zero", "--chroma-url", chroma_url,
    )  # fmt: skip
    assert code == 0, err
    scored = json.loads((tmp_path / "score.json").read_text())
    assert scored["index"]["url"] == chroma_url
    assert any(v["user_voices"] for t in scored["transcripts"] for v in t["criteria"])

    scenario = Path(__file__).parents[1] / "scenarios" / "adhd_break_down_task.yaml"
    monkeypatch.chdir(Path(__file__).parents[1])  # python:examples.bot.bot is found from here
    code, _, err = _cli(
        monkeypatch, "--config", config, "run", scenario, "--target",
        "python:examples.bot.bot:reply", "--out", tmp_path / "run.json", "--chroma-url", chroma_url,
    )  # fmt: skip
    assert code == 0, err
    assert json.loads((tmp_path / "run.json").read_text())["score"]["index"]["url"] == chroma_url
    assert not (tmp_path / "never").exists()
