#!/usr/bin/env bash
# The README's test command (`npm test`). Needs Debian's chromium package for headless WebGPU
# and its SwiftShader Vulkan driver; installs it when it can, or says exactly what to run.
set -uo pipefail
cd "$(dirname "$0")/.."

have_chromium() { [ -x /usr/bin/chromium ] || [ -x /usr/bin/chromium-browser ] || [ -n "${CHROMIUM_PATH:-}" ]; }

if ! have_chromium; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "chromium is missing: installing Debian's chromium package (needed for WebGPU tests)..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || {
      echo "Installing chromium failed. Run: sudo apt-get update && sudo apt-get install -y chromium" >&2; exit 1; }
  else
    echo "The tests need Debian's chromium package (headless WebGPU + SwiftShader). Run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi

if [ ! -d node_modules ]; then npm ci --no-audit --no-fund || exit 1; fi

mkdir -p test-results
rm -f test-results/vitest.json
npx vitest run "$@"
status=$?
node tests/summarize-results.mjs test-results/vitest.json || status=1
exit $status
