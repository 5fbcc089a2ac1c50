"""Benchmark the first `mheval score` of a fresh install (issue 13: under 60 s on 2 cores).

    python bench/bench_first_run.py [--runs 2] [--without-shipped-vectors]

Builds the wheel from this checkout, installs it non-editable into a fresh venv (dependencies
borrowed from this environment through a .pth file, as tests/test_wheel.py does), then from an
empty folder with an empty cache runs the README's job on the shipped examples:

    mheval score examples/transcripts/conversations.jsonl --out out.json --exit-zero

once cold (builds the corpus index) and `--runs - 1` times warm. Reports wall time, CPU time and
peak RSS of each process, the wheel's size and the index build's share. With
`--without-shipped-vectors` the cold run encodes every voice instead (the behaviour before the
vectors shipped), for comparison. Prints Markdown for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_NOT_SOURCE = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "chroma", "out")


def timed(args: list[str], *, cwd: Path, env: dict) -> tuple[float, float, float, int]:
    """(wall s, CPU s, peak RSS MB, exit code) of one child process."""
    start = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode


def install(root: Path) -> tuple[Path, Path]:
    """Build the wheel and install it into root/venv; returns (wheel, venv bin folder)."""
    source = root / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*_NOT_SOURCE))
    pip = [sys.executable, "-m", "pip"]
    subprocess.run(
        [*pip, "wheel", str(source), "--no-deps", "--no-build-isolation", "-w", str(root), "-q"],
        check=True,
    )
    wheel = next(root.glob("mheval-*.whl"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import site; print(site.getsitepackages()[0])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    paths = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    Path(site, "_borrowed_deps.pth").write_text("\n".join(paths) + "\n")
    subprocess.run(
        [*pip, "--python", str(python), "install", "--no-index", "--no-deps", "--force-reinstall",
         "-q", str(wheel)],
        check=True,
    )  # fmt: skip
    return wheel, venv / "bin"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2, help="1 cold + N-1 warm")
    parser.add_argument("--without-shipped-vectors", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        wheel, bin_dir = install(root)
        empty = root / "empty"
        empty.mkdir()
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MHEVAL_HOME")}
        env.update(
            HOME=str(root / "home"),
            MHEVAL_CACHE=str(root / "cache"),
            PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",
        )
        subprocess.run(["mheval", "-q", "examples", "copy"], cwd=empty, env=env, check=True)
        if args.without_shipped_vectors:
            (empty / "mheval.toml").write_text(f'voice_embeddings = "{root / "none.npz"}"\n')
        command = ["mheval", "score", "examples/transcripts/conversations.jsonl", "--out",
                   "out.json", "--exit-zero"]  # fmt: skip
        load = os.getloadavg()[0]
        lines = [
            f"wheel {wheel.name}: {wheel.stat().st_size / 1e6:.1f} MB; 1-min load average "
            f"before {load:.1f}",
            "",
            "| run | wall | CPU | peak RSS | index open (build) | retrieve | judge |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for number in range(args.runs):
            wall, cpu, rss, code = timed(command, cwd=empty, env=env)
            if code != 0:
                sys.exit(f"mheval score exited {code}")
            timings = json.loads((empty / "out.json").read_text())["timings"]
            lines.append(
                f"| {'cold (empty cache)' if number == 0 else 'warm'} | {wall:.1f} s | "
                f"{cpu:.1f} s | {rss:.0f} MB | {timings.get('index_open', 0):.1f} s | "
                f"{timings.get('retrieve', 0):.1f} s | {timings.get('judge', 0):.1f} s |"
            )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
