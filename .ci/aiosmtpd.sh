#!/usr/bin/env bash
# Installs aiosmtpd, the local SMTP server the notification tests start on a free port and
# read back (server/tests/notify_*.rs). Without it those tests print "SKIPPED: aiosmtpd is not
# installed" and pass; with REGLAMENT_CI=1 they fail instead.
set -euo pipefail
python3 -m pip install --quiet --disable-pip-version-check 'aiosmtpd==1.4.*'
python3 -c 'import aiosmtpd; print("SMTP receiver: aiosmtpd", aiosmtpd.__version__)'
