"""An independent table of UK non-working weekdays, 2022–2027, written out by hand.

Not derived from the ``holidays`` package: these are the dates the UK and devolved governments
published (gov.uk/bank-holidays; the Scottish Government for Scotland), with substitute days, in
every nation (FOIA s10(6): a bank holiday "in any part of the United Kingdom" is no working
day). EW England and Wales, S Scotland, NI Northern Ireland.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

_TABLE = {
    2022: [
        "01-03",  # New Year's Day (substitute), all
        "01-04",  # 2 January (substitute), S
        "03-17",  # St Patrick's Day, NI
        "04-15",  # Good Friday, all
        "04-18",  # Easter Monday, EW NI
        "05-02",  # Early May, all
        "06-02",  # Spring (moved), all
        "06-03",  # Platinum Jubilee, all
        "07-12",  # Battle of the Boyne, NI
        "08-01",  # Summer, S
        "08-29",  # Summer, EW NI
        "09-19",  # State funeral of Queen Elizabeth II, all
        "11-30",  # St Andrew's Day, S
        "12-26",  # Boxing Day, all
        "12-27",  # Christmas Day (substitute), all
    ],
    2023: [
        "01-02",
        "01-03",
        "03-17",
        "04-07",
        "04-10",
        "05-01",
        "05-08",  # Coronation of King Charles III, all
        "05-29",
        "07-12",
        "08-07",
        "08-28",
        "11-30",
        "12-25",
        "12-26",
    ],
    2024: [
        "01-01",
        "01-02",
        "03-18",
        "03-29",
        "04-01",
        "05-06",
        "05-27",
        "07-12",
        "08-05",
        "08-26",
        "12-02",
        "12-25",
        "12-26",
    ],
    2025: [
        "01-01",
        "01-02",
        "03-17",
        "04-18",
        "04-21",
        "05-05",
        "05-26",
        "07-14",
        "08-04",
        "08-25",
        "12-01",
        "12-25",
        "12-26",
    ],
    2026: [
        "01-01",
        "01-02",
        "03-17",
        "04-03",
        "04-06",
        "05-04",
        "05-25",
        "06-15",  # Scotland: the men's football World Cup, proclaimed for 2026
        "07-13",
        "08-03",
        "08-31",
        "11-30",
        "12-25",
        "12-28",
    ],
    2027: [
        "01-01",
        "01-04",
        "03-17",
        "03-26",
        "03-29",
        "05-03",
        "05-31",
        "07-12",
        "08-02",
        "08-30",
        "11-30",
        "12-27",
        "12-28",
    ],
}
FIRST, LAST = date(2022, 1, 1), date(2027, 12, 31)
GOOD_FRIDAYS = [date(2022, 4, 15), date(2023, 4, 7), date(2024, 3, 29), date(2025, 4, 18), date(2026, 4, 3),
                date(2027, 3, 26)]  # fmt: skip

HOLIDAYS = frozenset(date(year, int(d[:2]), int(d[3:])) for year, days in _TABLE.items() for d in days)


def working(day: date, extra: frozenset[date] = frozenset()) -> bool:
    return day.weekday() < 5 and day not in HOLIDAYS and day not in extra


def nth_working_after(day: date, n: int, extra: frozenset[date] = frozenset()) -> date:
    count = 0
    while True:
        day += timedelta(days=1)
        if working(day, extra):
            count += 1
            if count == n:
                return day


def london_date(moment: datetime) -> date:
    """Europe/London date by the BST rule: UTC+1 from 01:00 UTC on the last Sunday of March to
    01:00 UTC on the last Sunday of October."""
    utc = moment.astimezone(UTC)

    def last_sunday(month: int) -> datetime:
        day = date(utc.year, month, 31)
        while day.weekday() != 6:
            day -= timedelta(days=1)
        return datetime(day.year, day.month, day.day, 1, tzinfo=UTC)

    summer = last_sunday(3) <= utc < last_sunday(10)
    return (utc + timedelta(hours=1 if summer else 0)).date()
