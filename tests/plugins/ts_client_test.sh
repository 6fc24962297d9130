#!/usr/bin/env bash
# The TypeScript client (plugins/ts-client) against a real plugin server on
# 127.0.0.1, with a CA, a server certificate and a client certificate made
# here, now (no private key is ever committed).
#
#   ts_client_test.sh CLIENT_SRC SCHEMA_DIR WORK_DIR SERVER_BIN
#
# The client's npm dependencies are installed from its package-lock.json with
# `npm ci` into WORK_DIR (a copy of the package); npm's cache makes later runs
# work offline, and an install whose lockfile has not changed is kept.
set -euo pipefail
src=$1 schema=$2 work=$3 server_bin=$4

command -v node >/dev/null && command -v npm >/dev/null || {
  echo "ts_client_test: node and npm are required (tools/install-deps)" >&2
  exit 1
}

pkg=$work/ts-client
mkdir -p "$pkg"
# The package, without any node_modules, gen or dist of the source tree.
rm -rf "$pkg/src" "$pkg/scripts" "$pkg/gen" "$pkg/dist"
cp -r "$src/package.json" "$src/package-lock.json" "$src/tsconfig.json" "$src/src" \
  "$src/scripts" "$pkg/"
if ! cmp -s "$pkg/package-lock.json" "$pkg/node_modules/.hearth-installed-lock.json"; then
  (cd "$pkg" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
  cp "$pkg/package-lock.json" "$pkg/node_modules/.hearth-installed-lock.json"
fi
(cd "$pkg" && HEARTH_SCHEMA_DIR="$schema" node scripts/generate.mjs && node_modules/.bin/tsc -p .)

run=$(mktemp -d "${TMPDIR:-/tmp}/hearth-ts-XXXXXX")
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$run"
}
trap cleanup EXIT

# A CA, the server's certificate (for 127.0.0.1) and the plugin's (CN ts-client).
cd "$run"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
openssl req -x509 "${ec[@]}" -subj /CN=hearth-test-ca -days 2 -keyout ca.key -out ca.pem 2>/dev/null
issue() {  # name CN extension-lines
  openssl req "${ec[@]}" -subj "/CN=$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf '%b' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
issue server 127.0.0.1 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'
issue client ts-client 'extendedKeyUsage=clientAuth\n'

cat > server.json <<JSON
{
  "listen": {"address": "127.0.0.1", "port": 0},
  "tls": {"ca": "ca.pem", "cert": "server.pem", "key": "server.key"},
  "plugins": {
    "ts-client": {
      "scopes": {"append_types": ["ContactRecorded"], "read_districts": ["north"],
                 "read_personal": true, "read_log": true, "read_models": ["info"]},
      "roles": {"caseworker": {}}
    }
  }
}
JSON

"$server_bin" "$run/store" "$run/server.json" "$run/port" &
server_pid=$!
for _ in $(seq 1 600); do
  [[ -s port ]] && break
  kill -0 "$server_pid" 2>/dev/null || { echo "ts_client_test: the server exited" >&2; exit 1; }
  sleep 0.05
done
[[ -s port ]] || { echo "ts_client_test: the server did not start" >&2; exit 1; }
port=$(cat port)

out=$(node "$pkg/dist/src/roundtrip.js" --host 127.0.0.1 --port "$port" --ca ca.pem \
  --cert client.pem --key client.key --district north --user staff-ts --role caseworker)
echo "$out"
grep -q '"ok":true' <<<"$out"
grep -q '"subscribed":2' <<<"$out"

# A certificate signed by another CA is refused before any request.
openssl req -x509 "${ec[@]}" -subj /CN=ts-client -days 2 -keyout rogue.key -out rogue.pem 2>/dev/null
if node "$pkg/dist/src/roundtrip.js" --host 127.0.0.1 --port "$port" --ca ca.pem \
     --cert rogue.pem --key rogue.key >rogue.out 2>&1; then
  echo "ts_client_test: a certificate from another CA was accepted" >&2
  exit 1
fi
echo "rogue certificate refused: $(head -c 200 rogue.out)"
