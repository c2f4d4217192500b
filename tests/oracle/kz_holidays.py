#!/usr/bin/env python3
"""Non-working weekdays of Kazakhstan by python-holidays, an independent implementation.

Usage: kz_holidays.py FIRST_YEAR LAST_YEAR [--eid]
Prints `# holidays <version>` and then one `YYYY-MM-DD` per line: every Monday-to-Friday
date that python-holidays marks as a holiday (including its "observed" moves and the
transfer days off in KazakhstanStaticHolidays). With `--eid`, every date of Eid al-Adha
(Kurban Ait) follows, weekends included, each as `eid YYYY-MM-DD`. Exits 3 when the
package is missing.

Harness caveats (kz-calendar.md §7.1): the package has no working weekend days, and it
lists holidays that fall on weekends, so only weekdays are compared. Kurban Ait dates it
has not confirmed carry "(estimated)"; they are still holidays here.
"""

import sys

try:
    import holidays
except ImportError:
    print("python holidays not installed", file=sys.stderr)
    sys.exit(3)


def main() -> None:
    first, last = int(sys.argv[1]), int(sys.argv[2])
    eid = "--eid" in sys.argv[3:]
    print(f"# holidays {holidays.__version__}")
    eids = []
    for year in range(first, last + 1):
        # The language only changes names; the default follows the locale, so fix it.
        days = holidays.KZ(years=year, language="en_US")
        for day in sorted(days):
            if day.year != year:
                continue
            if day.weekday() < 5:
                print(day.isoformat())
            if "Eid al-Adha" in days.get(day) and "observed" not in days.get(day):
                eids.append(day)
    if eid:
        for day in eids:
            print(f"eid {day.isoformat()}")


if __name__ == "__main__":
    main()
