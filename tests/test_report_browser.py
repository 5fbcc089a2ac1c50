"""The HTML report rendered by a real headless browser (Debian's chromium)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from support.scoring import sample_run

from evaluator.codebook import load_codebook
from evaluator.config import project_root
from evaluator.report import render_html

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK),
        reason="needs /usr/bin/chromium (apt-get install -y chromium; see .ci/setup-system.sh)",
    ),
]


def chromium(*args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    run = sample_run(load_codebook(project_root() / "guidelines" / "codebook.yaml"))
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(render_html(run), encoding="utf-8")
    return path


def test_screenshot_shows_a_rendered_page(report, tmp_path):
    from PIL import Image, ImageStat

    shot = tmp_path / "shot.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,2000", report.as_uri())
    assert shot.is_file() and shot.stat().st_size > 20_000
    with Image.open(shot) as image:
        assert image.size == (1280, 2000)
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1_000_000)
        assert colours is not None and len(colours) > 50  # text, badges, chart: not a blank page
        # the failing-verdict red and the chart blue are both on screen
        pixels = set(rgb.resize((640, 1000)).getdata())
        assert any(r > 150 and g < 90 and b < 90 for r, g, b in pixels)
        assert any(b > 160 and r < 90 for r, g, b in pixels)
        assert ImageStat.Stat(rgb).stddev[0] > 10


def test_dom_after_rendering_holds_verdicts_evidence_and_voices(report):
    dom = chromium("--dump-dom", report.as_uri()).stdout
    assert "mheval score report" in dom
    assert 'id="by-condition"' in dom and "<svg" in dom
    assert '<mark class="fail">Fresh air fixes most things.</mark>' in dom
    assert "As someone with depressive, what helped was #0." in dom
    assert "Crisis resources" in dom
    assert dom.count('class="bar-score"') == 2
