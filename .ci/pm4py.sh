#!/usr/bin/env bash
# Installs PM4Py, the independent reader of our XES and OCEL exports (engine/audit/tests/audit.rs).
# Without it those checks print "SKIPPED: pm4py is not installed" and pass; with REGLAMENT_CI=1
# they fail instead.
set -euo pipefail
python3 -m pip install --quiet --disable-pip-version-check 'pm4py==2.7.*'
python3 -c 'import pm4py; print("XES oracle: pm4py", pm4py.__version__)'
