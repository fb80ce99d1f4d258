"""Reading the date ranges people type after ``/casework summary`` and ``/casework calls``.

``this month`` (the default), ``last month``, ``quarter`` (this calendar quarter so far, which
is also the financial quarter), ``year`` (this financial year so far, from 1 April), a month
``2013-04``, or ``2013-04-01..2013-06-30``. Anything else is a :class:`UserError` whose
message says what would have worked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from casework.errors import UserError

SUMMARY_FORMS = "`this month`, `last month`, `quarter`, `year`, `2013-04` or `2013-04-01..2013-06-30`"
CALLS_FORMS = "`4 weeks` or `2013-04-01..2013-06-30`"
#: longest range a Slack reply is asked to cover (the message must stay readable)
MAX_DAYS = 3 * 366

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_SPAN = re.compile(r"^(\S+)\s*\.\.\s*(\S+)$")
_WEEKS = re.compile(r"^(\d{1,3})\s*(w|wk|wks|week|weeks)?$")


@dataclass(frozen=True)
class Range:
    start: date
    end: date
    label: str


def month_end(day: date) -> date:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def _iso(text: str, forms: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"`{text}` is not a date I can read. Use YYYY-MM-DD, for example {forms}.") from None


def _span(text: str, forms: str) -> Range | None:
    match = _SPAN.match(text)
    if not match:
        return None
    start, end = _iso(match.group(1), forms), _iso(match.group(2), forms)
    if end < start:
        raise UserError(f"The range `{start}..{end}` ends before it starts. Put the earlier date first.")
    if (end - start).days > MAX_DAYS:
        raise UserError(
            "That range is longer than three years; ask for a shorter one, or use `casework stats`."
        )
    return Range(start, end, f"{start:%-d %b %Y} to {end:%-d %b %Y}")


def summary_range(text: str, today: date) -> Range:
    """The range meant by ``text`` (already stripped of ``share``/``chart``)."""
    text = " ".join(text.lower().split())
    if text in ("", "this month", "month"):
        start = today.replace(day=1)
        return Range(start, today, f"{today:%B %Y} so far")
    if text in ("last month", "previous month"):
        end = today.replace(day=1) - timedelta(days=1)
        return Range(end.replace(day=1), end, f"{end:%B %Y}")
    if text in ("quarter", "this quarter"):
        start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        return Range(start, today, f"Quarter from {start:%-d %b %Y} so far")
    if text in ("year", "this year", "financial year"):
        start = date(today.year if today.month >= 4 else today.year - 1, 4, 1)
        return Range(start, today, f"Financial year {start.year}-{(start.year + 1) % 100:02d} so far")
    match = _MONTH.match(text)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise UserError(f"`{text}` has no month {month}. Use YYYY-MM with a month from 01 to 12.")
        start = date(year, month, 1)
        return Range(start, month_end(start), f"{start:%B %Y}")
    found = _span(text, SUMMARY_FORMS)
    if found:
        return found
    raise UserError(f"I can't read `{text}` as a period. Try {SUMMARY_FORMS}.")


def calls_range(text: str, today: date) -> Range:
    """``N weeks`` back to the Monday N-1 weeks before this one, or an explicit range."""
    text = " ".join(text.lower().split())
    if text == "":
        text = "4 weeks"
    match = _WEEKS.match(text)
    if match:
        weeks = int(match.group(1))
        if not 1 <= weeks <= 156:
            raise UserError("Ask for between 1 and 156 weeks of calls.")
        monday = today - timedelta(days=today.weekday())
        start = monday - timedelta(weeks=weeks - 1)
        return Range(start, today, f"last {weeks} week{'s' if weeks != 1 else ''}")
    found = _span(text, CALLS_FORMS)
    if found:
        return found
    raise UserError(f"I can't read `{text}` as a period of calls. Try {CALLS_FORMS}.")
