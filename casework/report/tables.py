"""The report's tables: ``store.stats.board_tables`` output turned into titled, labelled sections.

The numbers are never changed here; this module only decides each table's title, column
headings and how a cell is printed (``N/A`` where the store gives ``null``, as the 2013 paper
prints it). The HTML, Markdown and CSV writers all read the same :class:`Table` objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from store.enums import Category, Status
from store.workdays import holiday_name

Kind = Literal["label", "count", "pct", "days", "seconds", "text"]

#: the order the 2013 paper prints its tables in; also the CSV file names
TABLE_KEYS = ("categories", "statuses", "closure_times", "aged_unclosed", "calls")
#: shown after them when the tables have it (``casework stats --json`` since statutory clocks)
TIMELINESS_KEY = "timeliness"
#: the surgeries table joins the report only when the period had a session
SURGERY_KEY = "surgeries"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: Kind


@dataclass(frozen=True)
class Table:
    """One of the Board's tables: the raw rows from the store plus how to print them."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]

    @property
    def body(self) -> list[dict[str, Any]]:
        """The month (or week) rows, without the final ``total`` row."""
        return [row for row in self.rows if row[self.columns[0].key] != "total"]

    @property
    def total(self) -> dict[str, Any] | None:
        last = self.rows[-1] if self.rows else None
        return last if last is not None and last[self.columns[0].key] == "total" else None

    def header(self) -> list[str]:
        return [column.label for column in self.columns]

    def cells(self) -> list[list[str]]:
        return [[format_cell(column, row.get(column.key)) for column in self.columns] for row in self.rows]


def month_label(month: str) -> str:
    """``2012-11`` → ``Nov 2012``; ``total`` → ``Total``."""
    if month == "total":
        return "Total"
    return date.fromisoformat(f"{month}-01").strftime("%b %Y")


def week_label(monday: str) -> str:
    """``2012-11-26`` → ``26 Nov 2012``; ``total`` → ``Total``."""
    if monday == "total":
        return "Total"
    day = date.fromisoformat(monday)
    return f"{day.day} {day.strftime('%b %Y')}"


def format_cell(column: Column, value: Any) -> str:
    if column.kind == "label":
        return week_label(str(value)) if column.key == "week_commencing" else month_label(str(value))
    if column.kind == "text":
        return "" if value is None else str(value)
    if value is None:
        return "N/A"
    if column.kind == "count":
        return f"{int(value):,}"
    if column.kind == "pct":
        return f"{float(value):.1f}%"
    return f"{float(value):.1f}"


def week_holidays(monday: date) -> str:
    """The UK bank holidays (any nation) in the week commencing ``monday``, joined."""
    names = [name for offset in range(7) if (name := holiday_name(monday + timedelta(days=offset)))]
    return "; ".join(names)


def _calls_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # board_tables marks bank-holiday weeks itself; a table read from an older JSON export may
    # not, so mark them here too (never overwriting what the store said).
    marked = []
    for row in rows:
        if "holiday" not in row and row["week_commencing"] != "total":
            name = week_holidays(date.fromisoformat(row["week_commencing"]))
            row = {**row, "holiday": name} if name else row
        marked.append(row)
    return marked


def build_tables(
    data: dict[str, Any], *, deadline_days: int = 20, call_target_seconds: int = 9
) -> list[Table]:
    """The five Board tables, in the paper's order, from ``board_tables`` output."""
    month = Column("month", "Month", "label")
    categories = Table(
        "categories",
        "Cases logged each month, by category",
        (month, *(Column(c.value, c.label, "count") for c in Category), Column("total", "Total", "count")),
        data["categories"],
    )
    statuses = Table(
        "statuses",
        f"Status on {date.fromisoformat(data['as_of']).strftime('%-d %B %Y')} of the cases logged each month",
        (month, *(Column(s.value, s.label, "count") for s in Status), Column("total", "Total", "count")),
        data["statuses"],
    )
    closure = Table(
        "closure_times",
        "Time taken to close cases, by month closed",
        (
            Column("month", "Month closed", "label"),
            Column("closed", "Cases closed", "count"),
            Column("avg_days", "Average days to full response", "days"),
            Column("within_28", "Closed in 28 days", "count"),
            Column("pct_within_28", "% closed in 28 days", "pct"),
            Column("avg_days_within_28", "Average days (≤ 28)", "days"),
            Column("avg_days_over_28", "Average days (> 28)", "days"),
            Column("avg_working_days", "Average working days", "days"),
            Column("within_deadline", f"Closed by the due date ({deadline_days} working days)", "count"),
            Column("pct_within_deadline", "% closed by the due date", "pct"),
        ),
        data["closure_times"],
    )
    aged = Table(
        "aged_unclosed",
        "Cases over 28 days old and not closed, by month logged and status",
        (
            month,
            *(Column(s.value, s.label, "count") for s in Status if s is not Status.CLOSED),
            Column("total", "Total", "count"),
        ),
        data["aged_unclosed"],
    )
    calls = Table(
        "calls",
        "Telephone hunt group: calls received each week",
        (
            Column("week_commencing", "Week commencing", "label"),
            Column("received", "Calls received", "count"),
            Column("within_target", f"Answered within target (≤ {call_target_seconds} s)", "count"),
            Column("over_target", "Answered over target", "count"),
            Column("unanswered", "Unanswered", "count"),
            Column("busy", "Busy", "count"),
            Column("avg_response_s", "Average response (s)", "seconds"),
            Column("avg_unanswered_s", "Average wait before hanging up (s)", "seconds"),
            Column("avg_talk_s", "Average talk time (s)", "seconds"),
            Column("pct_answered", "% answered", "pct"),
            Column("pct_within_target", "% answered within target", "pct"),
            Column("holiday", "Bank holiday", "text"),
        ),
        _calls_rows(data["calls"]),
    )
    tables = [categories, statuses, closure, aged, calls]
    if TIMELINESS_KEY in data:
        tables.append(
            Table(
                TIMELINESS_KEY,
                "Timeliness: cases received each month, answered or open, in time or late",
                (
                    month,
                    Column("received", "Received", "count"),
                    Column("responded_in_time", "Responded in time", "count"),
                    Column("responded_late", "Responded late", "count"),
                    Column("open_in_time", "Open, in time", "count"),
                    Column("open_late", "Open, late", "count"),
                    Column("performance_pct", "Performance %", "pct"),
                ),
                data[TIMELINESS_KEY],
            )
        )
    return tables


def has_surgeries(data: dict[str, Any]) -> bool:
    """Whether the period held any surgery or casework meeting (else the report leaves it out)."""
    rows = data.get(SURGERY_KEY) or []
    return bool(rows) and bool(rows[-1].get("sessions"))


def surgeries_table(data: dict[str, Any]) -> Table:
    count = ("sessions", "cancelled_sessions", "slots", "booked", "attended", "late_cancellations",
             "cancellations", "no_shows", "virtual_sessions", "meetings")  # fmt: skip
    labels = ("Sessions", "Cancelled sessions", "Slots offered", "Booked", "Attended", "Late cancellations",
              "Cancellations", "No-shows", "Virtual surgeries", "Casework meetings")  # fmt: skip
    return Table(
        SURGERY_KEY,
        "Surgeries and casework meetings, by month held",
        (
            Column("month", "Month", "label"),
            *(Column(k, n, "count") for k, n in zip(count, labels, strict=True)),
        ),
        data[SURGERY_KEY],
    )
