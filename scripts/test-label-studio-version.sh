#!/usr/bin/env bash
# Run the Label Studio tests (marker `labelstudio`; the browser ones too when Chromium is
# installed) against other Label Studio releases, each in its own venv, and print a table.
#
#   scripts/test-label-studio-version.sh 1.20.0                  one release
#   scripts/test-label-studio-version.sh 1.14.0.post0 1.20.0     several, one table
#   LS_VENVS=/somewhere/else scripts/test-label-studio-version.sh 1.20.0
#   REMOVE_VENV=1 scripts/test-label-studio-version.sh 1.20.0    delete the venv afterwards
#   PYTEST_ARGS="-x -k pull" scripts/test-label-studio-version.sh 1.20.0
#
# Each release is installed from PyPI into $LS_VENVS/label-studio-VERSION (default
# .cache/ls-venvs, not committed): about a minute and 1 GB per release, reused by later runs;
# the release .venv-ls already has (1.23.2) runs from .venv-ls.
# The tests start that server through CORPUS_TEST_LS_BIN (tests/ls_server.py); its template
# is cached under .cache/ by the installed version. Output of each run: $LS_VENVS/VERSION.log
# (with the reason of every skip) and VERSION.xml (JUnit).
# Exit status: 0 when no test failed on any release.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3}
VENVS=${LS_VENVS:-$ROOT/.cache/ls-venvs}
TIMEOUT=${TEST_TIMEOUT:-1800}
if [ $# -eq 0 ]; then
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
fi
[ -x .venv/bin/pytest ] || { echo "run scripts/setup.sh --test first (.venv)" >&2; exit 2; }
mkdir -p "$VENVS"
ASK='import importlib.metadata as m; print(m.version("label-studio"))'

rows=()
status=0
for VERSION in "$@"; do
  if ! [[ $VERSION =~ ^[0-9]+\.[0-9]+(\.[0-9A-Za-z.]+)?$ ]]; then
    echo "not a version: $VERSION" >&2
    exit 2
  fi
  VENV=$VENVS/label-studio-$VERSION
  OWN=1
  if [ -x .venv-ls/bin/python ] && [ "$(.venv-ls/bin/python -c "$ASK")" = "$VERSION" ]; then
    VENV=$ROOT/.venv-ls # the project's own server venv has that release: no second install
    OWN=0
  fi
  if [ ! -x "$VENV/bin/label-studio" ]; then
    echo "installing label-studio==$VERSION into $VENV (about a minute, 1 GB)..." >&2
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' >&2 || true
    if ! "$VENV/bin/python" -m pip install -q "label-studio==$VERSION" >"$VENVS/$VERSION.pip.log" 2>&1; then
      grep -v '^WARNING: Location' "$VENVS/$VERSION.pip.log" | tail -20 >&2
      echo "label-studio==$VERSION did not install (see $VENVS/$VERSION.pip.log)" >&2
      rows+=("$VERSION|not installed|-|-|-|-")
      status=1
      continue
    fi
  fi
  INSTALLED=$("$VENV/bin/python" -c "$ASK")
  WARN=$(.venv/bin/python -c 'import sys
from corpus_tools.labelstudio import support_warning
print(support_warning(sys.argv[1]) or "")' "$INSTALLED")
  [ -z "$WARN" ] || echo "warning: $WARN" >&2
  echo "testing against Label Studio $INSTALLED ($VENV)..." >&2
  START=$(date +%s)
  # shellcheck disable=SC2086  # PYTEST_ARGS is a list of words on purpose
  CORPUS_TEST_LS_BIN="$VENV/bin/label-studio" timeout "$TIMEOUT" .venv/bin/pytest -q \
    -p no:cacheprovider -m labelstudio -rfEs --junitxml="$VENVS/$VERSION.xml" ${PYTEST_ARGS:-} \
    >"$VENVS/$VERSION.log" 2>&1 || true
  SECONDS_=$(($(date +%s) - START))
  tail -3 "$VENVS/$VERSION.log" >&2
  COUNTS=$(.venv/bin/python - "$VENVS/$VERSION.xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET

try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print("-|-|-")
    raise SystemExit
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
n = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
failed = n["failures"] + n["errors"]
print(f"{n['tests'] - failed - n['skipped']}|{failed}|{n['skipped']}")
EOF
)
  rows+=("$VERSION|$INSTALLED|$COUNTS|$SECONDS_")
  [ "$(cut -d'|' -f2 <<<"$COUNTS")" = "0" ] || status=1
  if [ "${REMOVE_VENV:-0}" = "1" ] && [ "$OWN" = "1" ]; then rm -rf "$VENV"; fi
done

printf '\n| %-14s | %-14s | %6s | %6s | %7s | %7s |\n' version installed passed failed skipped seconds
printf '|%s|%s|%s|%s|%s|%s|\n' ---------------- ---------------- -------- -------- --------- ---------
for row in "${rows[@]}"; do
  IFS='|' read -r v i p f s t <<<"$row"
  printf '| %-14s | %-14s | %6s | %6s | %7s | %7s |\n' "$v" "$i" "$p" "$f" "$s" "$t"
done
exit "$status"
