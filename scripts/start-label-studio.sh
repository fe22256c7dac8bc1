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

if [ ! -x "$LS_VENV/bin/label-studio" ]; then
  echo "installing label-studio 1.23.2 into $LS_VENV (about a minute)..." >&2
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
echo "Label Studio $VERSION ($LS_VENV)" >&2
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
  echo "first start: creating the database and the admin user (about 30 s)..." >&2
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
fi

# env execs label-studio, so $! is the server itself and the trap stops it.
"${LS_ENV[@]}" start --no-browser --data-dir "$DATA" --internal-host 127.0.0.1 --port "$PORT" \
  >"$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null' EXIT INT TERM
URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 240); do
  if curl -fs "$URL/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER" 2>/dev/null; then cat "$DATA/server.log" >&2; exit 1; fi
  sleep 0.5
done
if grep -q "Starting development server at" "$DATA/server.log" &&
  ! grep -q "Starting development server at $URL/" "$DATA/server.log"; then
  echo "port $PORT was busy: see $DATA/server.log for the address used" >&2
fi

export LABEL_STUDIO_URL="$URL" LABEL_STUDIO_API_KEY="$TOKEN_"
if [ ! -f build/tasks.json ]; then
  [ -f build/articles.parquet ] || .venv/bin/corpus ingest
  .venv/bin/corpus tasks
fi
.venv/bin/corpus ls push
echo "Label Studio is ready at $URL (log in as $USERNAME_). Ctrl-C stops it." >&2
wait "$SERVER"
