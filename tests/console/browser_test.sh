#!/usr/bin/env bash
# The web console's journeys in headless Chromium (tests/console/browser).
#
#   browser_test.sh SRC_DIR WORK_DIR HEARTH_BIN
#
# playwright-core and axe-core are installed from the committed
# package-lock.json with `npm ci` into WORK_DIR (kept while the lockfile does
# not change); Chromium is Debian's (tools/install-deps), run headless.
set -euo pipefail
src=$1 work=$2 hearth=$3

command -v node >/dev/null && command -v npm >/dev/null || {
  echo "browser_test: node and npm are required (tools/install-deps)" >&2
  exit 1
}
[[ -x ${HEARTH_CHROMIUM:-/usr/bin/chromium} ]] || {
  echo "browser_test: Debian's chromium is required (tools/install-deps)" >&2
  exit 1
}

pkg=$work/browser
mkdir -p "$pkg"
cp "$src/package.json" "$src/package-lock.json" "$src/journeys.mjs" "$pkg/"
if ! cmp -s "$pkg/package-lock.json" "$pkg/node_modules/.hearth-installed-lock.json"; then
  (cd "$pkg" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
  cp "$pkg/package-lock.json" "$pkg/node_modules/.hearth-installed-lock.json"
fi
run=$(mktemp -d "${TMPDIR:-/tmp}/hearth-console-XXXXXX")
trap 'rm -rf "$run"' EXIT
node "$pkg/journeys.mjs" "$hearth" "$run/work" "$work/screenshots"
