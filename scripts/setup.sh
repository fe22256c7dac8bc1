#!/usr/bin/env bash
# Install corpus-tools for use (default) or for tests (--test).
#   .venv     the toolkit (+ test and dev tools with --test)
#   .venv-ls  the Label Studio server 1.23.2, kept apart: it pins pyarrow<25, Django and more
#   --test    also Debian's Chromium for the browser tests (Playwright drives it; its own
#             browser download cannot work offline)
#
# Each step says what it does and how long it usually takes; pip's own progress shows when
# stdout is a terminal, and one line per step when it is not (CI logs). Steps already done
# (a venv that exists, Chromium on the PATH) are skipped and say so; running it again only
# refreshes the toolkit's editable install (a few seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
mode=${1:-}
case "$mode" in
  "" | --test) ;;
  -h | --help)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "setup.sh: unknown option '$mode' (use --test, or nothing)" >&2
    exit 2
    ;;
esac

if [ -t 1 ]; then TTY=1; PIP_Q=(); else TTY=0; PIP_Q=(-q); fi
STEPS=3
[ "$mode" = "--test" ] && STEPS=4
N=0
STARTED=$SECONDS
T0=$SECONDS

# step TITLE USUALLY: announce step N of STEPS (on a terminal on its own line, above pip's
# progress; otherwise the start of the step's one line, which `done_` ends).
step() {
  N=$((N + 1))
  T0=$SECONDS
  if [ "$TTY" = 1 ]; then
    printf '[%d/%d] %s (usually %s)\n' "$N" "$STEPS" "$1" "$2"
  else
    printf '[%d/%d] %s (usually %s) ...' "$N" "$STEPS" "$1" "$2"
  fi
}
done_() {  # done_ [WHAT]: end the step with its time
  local what=${1:-done}
  if [ "$TTY" = 1 ]; then
    printf '      %s in %d s\n' "$what" $((SECONDS - T0))
  else
    printf ' %s in %d s\n' "$what" $((SECONDS - T0))
  fi
}
skip() {  # skip REASON
  if [ "$TTY" = 1 ]; then printf '      skipped: %s\n' "$1"; else printf ' skipped: %s\n' "$1"; fi
}
failed() {
  local status=$1
  [ "$status" = 0 ] && return
  [ "$TTY" = 1 ] || echo " failed"
  echo "setup.sh: step $N of $STEPS failed (exit $status); see the messages above" >&2
}
trap 'failed $?' EXIT

if [ "$mode" = "--test" ]; then
  extra=".[dev]"
  what="the toolkit with its test and dev tools"
  usually="3-6 min the first time"
else
  extra="."
  what="the toolkit"
  usually="1-3 min the first time"
fi

step "Python environment .venv ($("$PY" --version 2>&1))" "5-20 s"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install "${PIP_Q[@]}" --upgrade pip
  done_ created
else
  skip ".venv exists"
fi

# constraints/release.txt pins the libraries that shape a release's bytes (byte-identical
# releases across machines need the same versions; `corpus release` warns when they differ).
step "$what into .venv (pip install -c constraints/release.txt -e \"$extra\")" "$usually, seconds after"
.venv/bin/python -m pip install "${PIP_Q[@]}" -c constraints/release.txt -e "$extra"
done_ installed

step "Label Studio 1.23.2 into .venv-ls, its own environment" "1-3 min the first time"
if [ ! -x .venv-ls/bin/label-studio ]; then
  "$PY" -m venv .venv-ls
  .venv-ls/bin/python -m pip install "${PIP_Q[@]}" --upgrade pip
  .venv-ls/bin/python -m pip install "${PIP_Q[@]}" "label-studio==1.23.2"
  done_ installed
else
  skip ".venv-ls has label-studio"
fi

chromium_note=""
if [ "$mode" = "--test" ]; then
  step "Debian's Chromium and emoji fonts for the browser tests (apt-get)" "1-2 min"
  if command -v chromium >/dev/null 2>&1; then
    skip "chromium is on the PATH"
  elif [ "$(id -u)" = "0" ]; then
    # fonts-noto-color-emoji: without it Chromium draws emoji as empty boxes in screenshots
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      chromium fonts-noto-color-emoji >/dev/null
    done_ installed
  else
    skip "not root"
    chromium_note="note: install Debian's chromium (sudo apt-get install chromium) for the browser tests"
  fi
fi

trap - EXIT
[ -z "$chromium_note" ] || echo "$chromium_note" >&2
tool=$(.venv/bin/corpus --version 2>/dev/null || echo "corpus-tools (version unknown)")
ls_version=$(.venv-ls/bin/python -c 'import importlib.metadata as m; print(m.version("label-studio"))' 2>/dev/null || echo "?")
echo "corpus-tools installed: .venv/bin/corpus (server: .venv-ls/bin/label-studio)"
echo "  $tool in .venv; Label Studio $ls_version in .venv-ls$(
  [ "$mode" = "--test" ] && command -v chromium >/dev/null 2>&1 && echo "; $(chromium --version 2>/dev/null | head -1)"
) ($((SECONDS - STARTED)) s)"
if [ "$mode" = "--test" ]; then
  echo "next: .venv/bin/python -m pytest        # the test suite"
else
  echo "next: .venv/bin/corpus pipeline 0.1.0    # the sample corpus, from ingest to a published release"
fi
