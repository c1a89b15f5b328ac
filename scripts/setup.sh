#!/usr/bin/env bash
# Set up everything the course needs on a fresh machine: a virtual environment in .venv with the
# pinned packages (torch 2.13.0 CPU build), the package itself, and Chromium for the book's browser test.
# Safe to re-run: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.eqhyp-installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[setup] installing pinned packages (constraints.txt)"
  # --no-compile: modules are byte-compiled when first imported, which saves about a minute here
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-compile -c constraints.txt -e ".[dev,book,cluster]"
  echo "$want" > "$stamp"
fi

# Headless Chromium for tests/test_book.py (Debian packages); skipped where apt is unavailable.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "[setup] installing chromium and chromium-driver (browser test of the book)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
      || echo "[setup] warning: could not install chromium; the book's browser test will be skipped"
  else
    echo "[setup] note: chromium/chromedriver not found; the book's browser test will be skipped"
  fi
fi
echo "[setup] done: activate with 'source .venv/bin/activate'"
