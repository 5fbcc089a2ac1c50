#!/usr/bin/env bash
# System packages some tests need: Debian's headless Chromium renders the HTML report in
# tests/test_report_html.py (marked `browser`; skipped with a reason when Chromium is absent).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y chromium
