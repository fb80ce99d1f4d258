"""The headline figures the report's paragraphs quote, each with a note saying how it was got.

Every figure is computed from the Board tables (or, for the oldest cases, from the store via
:mod:`casework.report.data`), never typed in. Where the 2013 paper used a definition that
differs from the obvious one, both are given and the note says which is which:

- calls a week: the paper's 112 is calls ÷ weeks *with call records* (3,819 ÷ 34); dividing by
  every week the period overlaps gives less;
- % answered within target: the paper's 95% is the *mean of the weekly* percentages; pooled
  over all calls it is higher (3,660 ÷ 3,819);
- closed in time: the paper's "28 days" stand-in is shown beside the statutory measure, closed
  on or before the 20th UK working day after receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from casework.report.data import OldestCase, ReportData
from casework.report.tables import month_label


def round_half_up(value: float | None, places: int = 1) -> float | None:
    if value is None:
        return None
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def _body(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [row for row in rows if row[key] != "total"]


def _total(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return next(row for row in rows if row[key] == "total")


@dataclass(frozen=True)
class Figure:
    """One headline figure: what the paragraphs say, and the footnote that traces it."""

    key: str
    label: str
    text: str
    how: str
    #: a short qualifier printed under the value (e.g. the case reference)
    detail: str = ""


@dataclass(frozen=True)
class HeadlineFigures:
    total_cases: int
    months: int
    monthly_average: float | None
    busiest_month: str | None
    busiest_month_cases: int
    cases_closed: int
    within_deadline: int
    pct_within_deadline: float | None
    within_28: int
    pct_within_28: float | None
    oldest_unclosed: OldestCase | None
    oldest_awaiting_reply: OldestCase | None
    calls_received: int
    weeks_with_calls: int
    weeks_in_period: int
    calls_per_week: float | None
    calls_per_week_all_weeks: float | None
    pct_within_target_weekly_mean: float | None
    pct_within_target_pooled: float | None

    @property
    def monthly_average_whole(self) -> int | None:
        """The monthly average as the paper prints it: a whole number of cases."""
        value = round_half_up(self.monthly_average, 0)
        return None if value is None else int(value)

    @property
    def calls_per_week_whole(self) -> int | None:
        value = round_half_up(self.calls_per_week, 0)
        return None if value is None else int(value)

    @property
    def pct_within_target_whole(self) -> int | None:
        value = round_half_up(self.pct_within_target_weekly_mean, 0)
        return None if value is None else int(value)


def headline_figures(data: ReportData) -> HeadlineFigures:
    tables = data.tables
    months = _body(tables["categories"], "month")
    total_cases = int(_total(tables["categories"], "month")["total"])
    busiest = max(months, key=lambda row: row["total"], default=None)
    closure = _total(tables["closure_times"], "month")
    weeks = _body(tables["calls"], "week_commencing")
    with_calls = [row for row in weeks if row["received"]]
    calls = _total(tables["calls"], "week_commencing")
    weekly = [row["within_target"] / row["received"] * 100 for row in with_calls]
    return HeadlineFigures(
        total_cases=total_cases,
        months=len(months),
        monthly_average=round_half_up(total_cases / len(months)) if months else None,
        busiest_month=busiest["month"] if busiest and busiest["total"] else None,
        busiest_month_cases=int(busiest["total"]) if busiest else 0,
        cases_closed=int(closure["closed"]),
        within_deadline=int(closure["within_deadline"]),
        pct_within_deadline=closure["pct_within_deadline"],
        within_28=int(closure["within_28"]),
        pct_within_28=closure["pct_within_28"],
        oldest_unclosed=data.oldest_unclosed,
        oldest_awaiting_reply=data.oldest_awaiting_reply,
        calls_received=int(calls["received"]),
        weeks_with_calls=len(with_calls),
        weeks_in_period=len(weeks),
        calls_per_week=round_half_up(calls["received"] / len(with_calls)) if with_calls else None,
        calls_per_week_all_weeks=round_half_up(calls["received"] / len(weeks)) if weeks else None,
        pct_within_target_weekly_mean=round_half_up(sum(weekly) / len(weekly)) if weekly else None,
        pct_within_target_pooled=calls["pct_within_target"],
    )


def _pct(value: float | None) -> str:
    return "N/A" if value is None else f"{value:.1f}%"


def _num(value: float | None) -> str:
    return "N/A" if value is None else f"{value:,.1f}"


def _day(value: OldestCase | None) -> str:
    return "none" if value is None else f"{value.received_on.day} {value.received_on:%B %Y}"


def _which(value: OldestCase | None) -> str:
    return "" if value is None else f"{value.reference}, {value.status.replace('_', ' ')}"


def footnotes(figures: HeadlineFigures, data: ReportData) -> list[Figure]:
    """Each headline figure as printed, with how it was computed from which table."""
    f = figures
    period = f"{data.start:%-d %b %Y} – {data.end:%-d %b %Y}"
    return [
        Figure(
            "total_cases",
            "Cases logged",
            f"{f.total_cases:,}",
            f"Total row of the category table: cases received {period}.",
        ),
        Figure(
            "monthly_average",
            "Average cases a month",
            f"{f.monthly_average_whole}" if f.monthly_average is not None else "N/A",
            f"{f.total_cases:,} cases ÷ {f.months} months in the period = {_num(f.monthly_average)}, "
            "printed to the nearest whole case as the 2013 paper does.",
        ),
        Figure(
            "busiest_month",
            "Busiest month",
            f"{month_label(f.busiest_month)} ({f.busiest_month_cases:,} cases)" if f.busiest_month else "N/A",
            "The month with the largest total in the category table (the earliest if tied).",
        ),
        Figure(
            "pct_within_deadline",
            f"Closed within the deadline ({data.deadline_days} working days)",
            _pct(f.pct_within_deadline),
            f"{f.within_deadline:,} of the {f.cases_closed:,} cases closed in the period were closed on or "
            f"before their due date, the {data.deadline_days}th UK working day after receipt (total row of "
            "the closure-time table). This is the statutory measure.",
        ),
        Figure(
            "pct_within_28",
            f"Closed within {data.aged_days} days (the 2013 stand-in)",
            _pct(f.pct_within_28),
            f"{f.within_28:,} of the same {f.cases_closed:,} cases took {data.aged_days} calendar days or "
            "fewer. The 2013 paper used 28 days as a stand-in for 20 working days; bank holidays make "
            "the two differ.",
        ),
        Figure(
            "oldest_awaiting_reply",
            "Oldest case without a formal response",
            _day(f.oldest_awaiting_reply),
            f"The earliest-received case that was open or in progress at the end of {data.as_of:%-d %b %Y} "
            "and had never been closed. Cases being monitored (with the IPCC or a court) are left out, "
            "as are re-opened cases, as in para 7 of the 2013 paper; a case imported without its "
            "history cannot show that it was re-opened.",
            _which(f.oldest_awaiting_reply),
        ),
        Figure(
            "oldest_unclosed",
            "Oldest case not closed (any status)",
            _day(f.oldest_unclosed),
            f"The earliest-received case in the period not closed at the end of {data.as_of:%-d %b %Y}.",
            _which(f.oldest_unclosed),
        ),
        Figure(
            "calls_per_week",
            "Average calls a week",
            f"{f.calls_per_week_whole}" if f.calls_per_week is not None else "N/A",
            f"{f.calls_received:,} calls ÷ {f.weeks_with_calls} weeks with call records = "
            f"{_num(f.calls_per_week)} (the 2013 paper's definition). Over all {f.weeks_in_period} weeks "
            f"the period overlaps it is {_num(f.calls_per_week_all_weeks)}.",
        ),
        Figure(
            "pct_within_target",
            f"Calls answered within target ({data.call_target_seconds} s)",
            f"{f.pct_within_target_whole}%" if f.pct_within_target_weekly_mean is not None else "N/A",
            f"Mean of the weekly percentages answered within target = "
            f"{_pct(f.pct_within_target_weekly_mean)} (the 2013 paper's definition). Pooled over all "
            f"calls it is {_pct(f.pct_within_target_pooled)} (total row of the calls table).",
        ),
    ]
