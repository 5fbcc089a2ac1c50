"""A judge endpoint that cannot judge never lets CI pass: the real OpenAI client against local
HTTP servers that fail (HTTP 500), hang, send malformed tool calls, refuse, or are not there.

Each case goes through `mheval score` in-process with `--judge openai:...` and OPENAI_BASE_URL
pointed at 127.0.0.1. Bounded work, not wall time, is asserted: the server counts the requests
it saw, and the circuit breaker must stop the run after a handful instead of retrying every
criterion of every transcript (the wall time of these runs is what BENCHMARKS would hold;
here it is a few seconds).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("langchain_openai")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "transcripts"
ONE_TRANSCRIPT = "conversations.jsonl"


def _completion(message: dict) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 0,
            "model": "gpt-4.1-mini",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 900, "completion_tokens": 40, "total_tokens": 940},
        }
    ).encode()


def _tool_call(arguments: str) -> dict:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "GradingOutput", "arguments": arguments},
            }
        ],
    }


GOOD = json.dumps({"label": "pass", "score": 1.0, "rationale": "It helps.", "evidence": []})


class Endpoint:
    """A local chat-completions server in one of several failure modes."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.requests = 0
        self.release = threading.Event()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                endpoint.requests += 1
                if endpoint.mode == "hang":
                    endpoint.release.wait(10)
                    return
                status, body = 200, b""
                if endpoint.mode == "500":
                    status, body = 500, b'{"error": {"message": "internal error"}}'
                elif endpoint.mode == "malformed":
                    body = _completion(_tool_call('{"label": "pass", "score": '))
                elif endpoint.mode == "refuse":
                    body = _completion({"role": "assistant", "content": "I can't judge this."})
                else:
                    body = _completion(_tool_call(GOOD))
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint(monkeypatch):
    made: list[Endpoint] = []

    def start(mode: str) -> Endpoint:
        server = Endpoint(mode)
        made.append(server)
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        return server

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    yield start
    for server in made:
        server.close()


def _score(cli, *extra: str):
    return cli(
        "score",
        EXAMPLES / ONE_TRANSCRIPT,
        "--judge",
        "openai:gpt-4.1-mini",
        "--no-retrieval",
        "--timeout",
        "2",
        "--summary-only",
        *extra,
    )


@pytest.mark.parametrize("mode", ["500", "malformed", "hang"])
def test_broken_endpoint_stops_the_run_with_one_line(cli, endpoint, mode):
    server = endpoint(mode)
    result = _score(cli)
    assert result.exit_code == 2, result.output
    assert "failed 4 attempts in a row" in result.output
    assert "Traceback" not in result.output
    # 4 concurrent calls, each at most a couple of attempts before the breaker trips: a handful
    # of requests, not (criteria x transcripts x retries)
    assert server.requests <= 12


def test_dead_endpoint_stops_the_run(cli, endpoint, monkeypatch):
    endpoint("ok").close()  # a port nobody listens on any more
    result = _score(cli)
    assert result.exit_code == 2 and "attempts in a row" in result.output


def test_refusing_judge_leaves_transcripts_inconclusive_and_fails_the_gate(cli, endpoint, tmp_path):
    endpoint("refuse")
    out = tmp_path / "result.json"
    result = _score(cli, "--out", out)
    assert result.exit_code == 1, result.output
    assert "inconclusive" in result.output and "--allow-unscored" in result.output
    run = json.loads(out.read_text())
    assert {t["verdict"] for t in run["transcripts"]} == {"inconclusive"}
    assert run["summary"]["passed"] == 0
    assert _score(cli, "--allow-unscored").exit_code == 0


def test_cached_answers_do_not_stand_in_for_another_endpoint(cli, endpoint, tmp_path):
    good = endpoint("ok")
    out = tmp_path / "result.json"
    assert _score(cli, "--out", out).exit_code == 0  # every criterion answered "pass"
    usage = json.loads(out.read_text())["judge"]["usage"]
    assert usage["calls"] == good.requests > 0 and usage["input_tokens"] == 900 * usage["calls"]
    again = _score(cli, "--out", out)
    assert json.loads(out.read_text())["judge"]["usage"]["cached"] == usage["calls"]
    assert "from cache" in again.output
    # the same model id behind a dead base URL must ask (and fail), not answer from the cache
    endpoint("ok").close()
    moved = _score(cli)
    assert moved.exit_code == 2 and "attempts in a row" in moved.output
