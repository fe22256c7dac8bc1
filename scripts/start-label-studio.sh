#!/usr/bin/env bash
# A local Label Studio for annotators, on 127.0.0.1 only, with this corpus's project.
#
#   scripts/start-label-studio.sh            install 1.23.2 if missing, start, push, serve
#   PORT=8081 scripts/start-label-studio.sh  another port
#   LS_VENV=/path/to/venv scripts/start-label-studio.sh   another installed release
#
# It says which Label Studio release it starts, and warns when that release is outside the
# supported range (corpus_tools/labelstudio.py SUPPORTED_MIN/SUPPORTED_MAX: 1.14 to 1.23).
# Log in at http://127.0.0.1:$PORT with $LABEL_STUDIO_USERNAME / $LABEL_STUDIO_PASSWORD
# (defaults below; set your own before the first start). Other annotators sign up on the login
# page. Data (database, uploads) stays in $LABEL_STUDIO_DATA (default .cache/label-studio-data,
# not committed). Stop with Ctrl-C.
#
# It says each step as it goes (install if missing, first start's database, waiting for the
# server with a dot a second on a terminal, the push of the project) and ends with the URL,
# the login and how to stop it; the last line starts "Label Studio is ready at".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3}
PORT=${PORT:-8080}
DATA=${LABEL_STUDIO_DATA:-$ROOT/.cache/label-studio-data}
USERNAME_=${LABEL_STUDIO_USERNAME:-admin@example.org}
PASSWORD_=${LABEL_STUDIO_PASSWORD:-corpus-admin}
TOKEN_=${LABEL_STUDIO_USER_TOKEN:-corpus-local-token}
LS_VENV=${LS_VENV:-$ROOT/.venv-ls}
WAIT_S=${LABEL_STUDIO_START_TIMEOUT:-120}
say() { echo "$*" >&2; }

if [ ! -x "$LS_VENV/bin/label-studio" ]; then
  say "[setup] installing label-studio 1.23.2 into $LS_VENV (usually 1-3 minutes)..."
  "$PY" -m venv "$LS_VENV"
  "$LS_VENV/bin/python" -m pip install -q --upgrade pip
  "$LS_VENV/bin/python" -m pip install -q "label-studio==1.23.2"
fi
# Which release this is, whether it is in the supported range, and whether its `init` takes
# --enable-legacy-api-token (1.18 and later; older ones need no switch, see labelstudio_server).
VERSION=$("$LS_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("label-studio"))')
mapfile -t FACTS < <(.venv/bin/python -c 'import sys
from corpus_tools.labelstudio import has_feature, support_warning
v = sys.argv[1]
print(support_warning(v) or "")
print("--enable-legacy-api-token" if has_feature("legacy-token-switch", v) else "")
print("yes" if has_feature("personal-access-tokens", v) and not has_feature("legacy-token-switch", v) else "")
' "$VERSION")
say "Label Studio $VERSION ($LS_VENV)"
[ -z "${FACTS[0]}" ] || echo "warning: ${FACTS[0]}" >&2
LEGACY_FLAG=(${FACTS[1]:+"${FACTS[1]}"})

# Label Studio reads LABEL_STUDIO_X, HEARTEX_X and plain X from the environment: run it with a
# scrubbed one (a stray PORT, HOST or CI=true changes its behaviour).
# Its SSRF guard refuses ML backends and webhooks on loopback: allow 127.0.0.1 only (for
# `corpus serve`), every other private or reserved network stays blocked.
BANNED=$(.venv/bin/python -c 'from corpus_tools.labelstudio_server import LOOPBACK_ML_ENV as e
print(e["USER_ADDITIONAL_BANNED_SUBNETS"])')
LS_ENV=(env -i HOME="$DATA" PATH=/usr/bin:/bin LANG=C.UTF-8 PYTHONUNBUFFERED=1
  LABEL_STUDIO_BASE_DATA_DIR="$DATA" LATEST_VERSION_CHECK=false COLLECT_ANALYTICS=false
  SENTRY_DSN= FRONTEND_SENTRY_DSN= LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true
  USE_DEFAULT_BANNED_SUBNETS=false USER_ADDITIONAL_BANNED_SUBNETS="$BANNED"
  "$LS_VENV/bin/label-studio")

mkdir -p "$DATA"
if [ ! -f "$DATA/label_studio.sqlite3" ]; then
  say "[first start] creating the database and the admin user in $DATA (usually 20-40 s)..."
  T0=$SECONDS
  # The legacy API token must be enabled now, when the organisation is created (the flag
  # where the release has it; LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN above does it too).
  "${LS_ENV[@]}" init --quiet --no-browser --data-dir "$DATA" --username "$USERNAME_" \
    --password "$PASSWORD_" --user-token "$TOKEN_" "${LEGACY_FLAG[@]}" \
    >"$DATA/init.log" 2>&1 || { cat "$DATA/init.log" >&2; exit 1; }
  if [ -n "${FACTS[2]}" ]; then
    # 1.17 makes the organisation with legacy tokens off and has no switch: turn them on.
    .venv/bin/python -c 'import sys
from pathlib import Path
from corpus_tools.labelstudio_server import enable_legacy_tokens
enable_legacy_tokens(Path(sys.argv[1]), Path(sys.argv[2]), 240)' "$LS_VENV/bin/label-studio" "$DATA"
  fi
  say "[first start] done in $((SECONDS - T0)) s"
fi

# env execs label-studio, so $! is the server itself and the trap stops it.
"${LS_ENV[@]}" start --no-browser --data-dir "$DATA" --internal-host 127.0.0.1 --port "$PORT" \
  >"$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null' EXIT INT TERM
URL="http://127.0.0.1:$PORT"
# Waiting: a dot a second on a terminal, a line every 10 s otherwise (logs); the server
# usually answers in 10-30 s.
T0=$SECONDS
if [ -t 2 ]; then
  printf '[start] waiting for the server at %s (usually 10-30 s) ' "$URL" >&2
else
  say "[start] waiting for the server at $URL (usually 10-30 s)..."
fi
last=$SECONDS
until curl -fs "$URL/health" >/dev/null 2>&1; do
  if ! kill -0 "$SERVER" 2>/dev/null; then
    [ -t 2 ] && echo >&2
    say "error: the server stopped while starting; its log ($DATA/server.log):"
    tail -n 40 "$DATA/server.log" >&2
    exit 1
  fi
  if [ $((SECONDS - T0)) -ge "$WAIT_S" ]; then
    [ -t 2 ] && echo >&2
    say "error: the server did not answer at $URL/health within $WAIT_S s (set"
    say "  LABEL_STUDIO_START_TIMEOUT to wait longer); the end of $DATA/server.log:"
    tail -n 20 "$DATA/server.log" >&2
    exit 1
  fi
  if [ $((SECONDS - last)) -ge 1 ]; then
    last=$SECONDS
    if [ -t 2 ]; then
      printf '.' >&2
    elif [ $(((SECONDS - T0) % 10)) = 0 ]; then
      say "[start] still waiting ($((SECONDS - T0)) s)"
    fi
  fi
  sleep 0.5
done
if [ -t 2 ]; then printf ' up in %d s\n' $((SECONDS - T0)) >&2; else say "[start] up in $((SECONDS - T0)) s"; fi
if grep -q "Starting development server at" "$DATA/server.log" &&
  ! grep -q "Starting development server at $URL/" "$DATA/server.log"; then
  echo "port $PORT was busy: see $DATA/server.log for the address used" >&2
fi

export LABEL_STUDIO_URL="$URL" LABEL_STUDIO_API_KEY="$TOKEN_"
if [ ! -f build/tasks.json ]; then
  if [ ! -f build/articles.parquet ]; then
    say "[push] no build/articles.parquet yet: corpus ingest"
    .venv/bin/corpus ingest -q
  fi
  say "[push] no build/tasks.json yet: corpus tasks"
  .venv/bin/corpus tasks -q
fi
say "[push] the project and its tasks (corpus ls push)"
.venv/bin/corpus ls push
if [ "$PASSWORD_" = corpus-admin ]; then
  login="$USERNAME_ / corpus-admin (the default: set LABEL_STUDIO_PASSWORD before the first start)"
else
  login="$USERNAME_ (password: \$LABEL_STUDIO_PASSWORD)"
fi
say ""
say "  open     $URL"
say "  log in   $login"
say "  others   sign up on the login page"
say "  stop     Ctrl-C here (or: kill $$); data stays in $DATA"
say "Label Studio is ready at $URL (log in as $USERNAME_). Ctrl-C stops it."
wait "$SERVER"
