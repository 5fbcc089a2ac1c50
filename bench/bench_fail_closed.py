"""How long a broken LLM judge endpoint takes to stop `mheval score` (issue 13: under a minute,
one clear line, non-zero exit), with the default timeout, retries and breaker.

    python bench/bench_fail_closed.py            # the 9 example transcripts, no retrieval

Three endpoints on localhost, each behind `OPENAI_BASE_URL`: one that accepts connections and
never answers (hung), one that answers HTTP 500 to everything, and a port nobody listens on.
Reports wall time from process start to exit, the exit code, the last line printed and how many
requests reached the endpoint.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "transcripts" / "conversations.jsonl"


class _Counter:
    requests = 0


def _hung_server(counter: _Counter) -> tuple[socket.socket, int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            counter.requests += 1

    threading.Thread(target=accept, daemon=True).start()
    return server, server.getsockname()[1]


def _error_server(counter: _Counter) -> tuple[http.server.ThreadingHTTPServer, int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            counter.requests += 1
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = b'{"error": {"message": "internal error"}}'
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _score(port: int, cache: Path) -> dict:
    env = {
        **os.environ,
        "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
        "OPENAI_API_KEY": "sk-bench",
        "MHEVAL_CACHE": str(cache),
    }
    command = [str(Path(sys.executable).with_name("mheval")), "score", str(EXAMPLES)]
    command += ["--judge", "openai:gpt-4o-mini", "--no-retrieval"]
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    lines = (done.stdout + done.stderr).strip().splitlines()
    return {
        "seconds": round(time.perf_counter() - start, 1),
        "exit": done.returncode,
        "last_line": lines[-1] if lines else "",
    }


def main() -> int:
    import tempfile

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        counter = _Counter()
        server, port = _hung_server(counter)
        results["hung"] = {**_score(port, Path(tmp) / "a"), "requests": counter.requests}
        server.close()
        counter = _Counter()
        http_server, port = _error_server(counter)
        results["http_500"] = {**_score(port, Path(tmp) / "b"), "requests": counter.requests}
        http_server.shutdown()
        results["nobody_listening"] = {**_score(_free_port(), Path(tmp) / "c"), "requests": 0}
    results["load_average"] = os.getloadavg()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
