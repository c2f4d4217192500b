#!/usr/bin/env bash
# Installs axe-core at the version in tests/web-tools/package-lock.json: the Chromium
# end-to-end tests inject it into every page they visit and fail on any WCAG 2.1 AA violation
# (server/tests/support/chrome.rs). Without it those checks say "SKIPPED"; with
# REGLAMENT_CI=1 they fail instead.
set -euo pipefail
cd "$(dirname "$0")/../tests/web-tools"
npm ci --no-audit --no-fund --loglevel=error
node -e 'console.log("web tools: axe-core", require("axe-core/package.json").version)'
