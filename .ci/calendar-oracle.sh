#!/usr/bin/env bash
# Installs the independent oracle for the calendar cross-check (tests/calendar_oracle.rs).
# Without it that test prints "SKIPPED: python holidays not installed" and passes.
# Pinned: 0.109 is the first release with Constitution Day moved to 15 March (from 2027)
# and without 30 August 2026.
set -euo pipefail
python3 -m pip install --quiet --disable-pip-version-check 'holidays==0.109'
python3 -c 'import holidays; print("calendar oracle: python holidays", holidays.__version__)'
