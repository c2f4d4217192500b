#!/usr/bin/env bash
# The OpenAPI contract checked against the real server: installs schemathesis (pinned) from
# PyPI, starts `reglament serve --demo` on a loopback port with a fresh data folder, makes an
# API token for the demo administrator (who may call every operation) and one for a clerk (who
# is refused most), and lets schemathesis generate requests for every operation of
# /api/v1/openapi.json, valid and invalid ones. It fails on any 5xx, any status code, content
# type, header or body the document does not describe, and on a `$ref` the document does not
# define. .ci/schemathesis.toml gives it the ids of the demo cases, tasks and regulations.
#
# Usage: bash .ci/schemathesis.sh [MAX_EXAMPLES]   (default 30 per operation and phase; the run
# takes a few minutes on two cores). Builds $CARGO_TARGET_DIR (or target)/debug/reglament if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
examples=${1:-30}

python3 -m pip install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
schemathesis --version

bin=${CARGO_TARGET_DIR:-target}/debug/reglament
if [ ! -x "$bin" ]; then
  cargo build --locked -p reglament-server --bin reglament
fi

work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

RUST_LOG=warn "$bin" serve --demo --listen 127.0.0.1:0 --data "$work" --regulations regulations \
  >"$work/serve.log" 2>&1 &
server=$!
base=
for _ in $(seq 1 600); do
  base=$(sed -n 's/^Reglament is listening on \(http:[^ ]*\).*/\1/p' "$work/serve.log")
  [ -n "$base" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log"; echo "the server exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$base" ] || { cat "$work/serve.log"; echo "the server did not start" >&2; exit 1; }
echo "server at $base"

token() { "$bin" token create --user "$1" --name schemathesis --data "$work" | grep -o 'rgt_[A-Za-z0-9]*' | head -n1; }
admin=$(token admin)
clerk=$(token atyrau-city.registrar)
[ -n "$admin" ] && [ -n "$clerk" ] || { echo "no token" >&2; exit 1; }

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
run() {
  local who=$1 token=$2
  echo "--- schemathesis as $who"
  # From the temporary folder: hypothesis and schemathesis leave their caches in the
  # current directory.
  (cd "$work" && schemathesis --config-file "$root/.ci/schemathesis.toml" run "$base/api/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks "$checks" \
    --max-examples "$examples" \
    --phases examples,coverage,fuzzing \
    --seed 20260415 \
    --workers 2 \
    --request-timeout 30 \
    --generation-database none \
    --suppress-health-check all \
    --no-color)
}
status=0
# The clerk first: the administrator's run lists the accounts and then disables some of them
# (schemathesis reuses identifiers it saw in answers), the clerk's among them.
run clerk "$clerk" || status=1
run administrator "$admin" || status=1
# The server must still be up and answering after all that.
python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=10)' "$base" \
  || { echo "the server stopped answering" >&2; status=1; }
if grep -q 'panicked' "$work/serve.log"; then
  grep -n 'panicked' "$work/serve.log" >&2
  status=1
fi
exit $status
