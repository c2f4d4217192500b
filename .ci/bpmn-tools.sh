#!/usr/bin/env bash
# Installs the bpmn.io tools that check the BPMN export and feed the importer
# (server/tests/bpmn_tools.rs): bpmn-moddle, bpmnlint, bpmn-js and playwright-core (which
# drives Debian's chromium; it downloads no browser), at the versions in
# tests/bpmn-tools/package-lock.json. Without them that test prints "SKIPPED"; with
# REGLAMENT_CI=1 it fails instead.
set -euo pipefail
cd "$(dirname "$0")/../tests/bpmn-tools"
npm ci --no-audit --no-fund --loglevel=error
node -e 'console.log("BPMN tools: bpmnlint", require("bpmnlint/package.json").version, "bpmn-js", require("bpmn-js/package.json").version)'
