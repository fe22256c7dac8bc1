#!/usr/bin/env bash
# Install corpus-tools for use (default) or for tests (--test).
#   .venv     the toolkit (+ test and dev tools with --test)
#   .venv-ls  the Label Studio server 1.23.2, kept apart: it pins pyarrow<25, Django and more
#   --test    also Debian's Chromium for the browser tests (Playwright drives it; its own
#             browser download cannot work offline)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
mode=${1:-}

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
# constraints/release.txt pins the libraries that shape a release's bytes (byte-identical
# releases across machines need the same versions; `corpus release` warns when they differ).
if [ "$mode" = "--test" ]; then
  .venv/bin/python -m pip install -q -c constraints/release.txt -e ".[dev]"
else
  .venv/bin/python -m pip install -q -c constraints/release.txt -e .
fi

if [ ! -x .venv-ls/bin/label-studio ]; then
  "$PY" -m venv .venv-ls
  .venv-ls/bin/python -m pip install -q --upgrade pip
  .venv-ls/bin/python -m pip install -q "label-studio==1.23.2"
fi

if [ "$mode" = "--test" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    # fonts-noto-color-emoji: without it Chromium draws emoji as empty boxes in screenshots
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      chromium fonts-noto-color-emoji >/dev/null
  else
    echo "note: install Debian's chromium (sudo apt-get install chromium) for the browser tests" >&2
  fi
fi
echo "corpus-tools installed: .venv/bin/corpus (server: .venv-ls/bin/label-studio)"
