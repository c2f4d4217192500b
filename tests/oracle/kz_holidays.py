#!/usr/bin/env python3
"""Non-working weekdays of Kazakhstan by python-holidays, an independent implementation.

Usage: kz_holidays.py FIRST_YEAR LAST_YEAR
Prints `# holidays <version>` and then one `YYYY-MM-DD` per line: every Monday-to-Friday
date that python-holidays marks as a holiday (including its "observed" moves and the
transfer days off in KazakhstanStaticHolidays). Exits 3 when the package is missing.

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
    print(f"# holidays {holidays.__version__}")
    for year in range(first, last + 1):
        # The language only changes names; the default follows the locale, so fix it.
        days = holidays.KZ(years=year, language="en_US")
        for day in sorted(days):
            if day.year == year and day.weekday() < 5:
                print(day.isoformat())


if __name__ == "__main__":
    main()
