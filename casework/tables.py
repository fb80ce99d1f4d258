"""Printing the Board's tables in a terminal, laid out like the report's."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from store.enums import Category

COLUMNS: dict[str, list[tuple[str, str]]] = {
    "categories": [("month", "Month")] + [(c.value, c.label) for c in Category] + [("total", "Total")],
    "statuses": [
        ("month", "Month"),
        ("open", "Open"),
        ("in_progress", "In progress"),
        ("monitoring", "Monitoring"),
        ("closed", "Closed"),
        ("total", "Total"),
    ],
    "closure_times": [
        ("month", "Month closed"),
        ("closed", "Cases"),
        ("avg_days", "Avg days"),
        ("within_28", "≤28 days"),
        ("pct_within_28", "% ≤28"),
        ("avg_days_within_28", "Avg ≤28"),
        ("avg_days_over_28", "Avg >28"),
        ("avg_working_days", "Avg working days"),
        ("within_deadline", "In deadline"),
        ("pct_within_deadline", "% in deadline"),
    ],
    "aged_unclosed": [
        ("month", "Month"),
        ("open", "Open"),
        ("in_progress", "In progress"),
        ("monitoring", "Monitoring"),
        ("total", "Total"),
    ],
    "calls": [
        ("week_commencing", "Week commencing"),
        ("received", "Received"),
        ("within_target", "In target"),
        ("over_target", "Over target"),
        ("unanswered", "Unanswered"),
        ("busy", "Busy"),
        ("avg_response_s", "Avg response s"),
        ("avg_unanswered_s", "Avg unanswered s"),
        ("avg_talk_s", "Avg talk s"),
        ("pct_answered", "% answered"),
        ("pct_within_target", "% in target"),
        ("holiday", "Bank holiday"),
    ],
    "timeliness": [
        ("month", "Month"),
        ("received", "Received"),
        ("responded_in_time", "Responded in time"),
        ("responded_late", "Responded late"),
        ("open_in_time", "Open in time"),
        ("open_late", "Open late"),
        ("performance_pct", "Performance %"),
    ],
    "calls_by_hour": [
        ("hour", "Hour"),
        ("received", "Received"),
        ("within_target", "In target"),
        ("unanswered", "Unanswered"),
    ],
    "surgeries": [
        ("month", "Month"),
        ("sessions", "Sessions"),
        ("cancelled_sessions", "Cancelled"),
        ("slots", "Slots"),
        ("booked", "Booked"),
        ("attended", "Attended"),
        ("late_cancellations", "Late cancellations"),
        ("cancellations", "Cancellations"),
        ("no_shows", "No-shows"),
        ("virtual_sessions", "Virtual"),
        ("meetings", "Meetings"),
    ],
}

TITLES = {
    "categories": "Cases logged by month received and category",
    "statuses": "Status of cases received, as at {as_of}",
    "closure_times": "Closed cases: time to full response, by month closed (deadline: 20 UK working days)",
    "aged_unclosed": "Cases not closed and over 28 days old at {as_of}, by month received",
    "calls": "Telephone hunt group, by week",
    "timeliness": "Timeliness against the final due date, by month received, as at {as_of}",
    "calls_by_hour": "Telephone hunt group, by hour of day (calls started in the range)",
    "surgeries": "Surgeries and casework meetings, by month held",
}


def cell(value: Any) -> str:
    if value is None:
        return "N/A"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def render(tables: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console(width=160)
    console.print(f"Casework statistics {tables['from']} to {tables['to']}, as at {tables['as_of']}")
    for name, columns in COLUMNS.items():
        if name not in tables:  # timeliness and calls_by_hour: only from office_tables
            continue
        table = Table(title=TITLES[name].format(as_of=tables["as_of"]), title_justify="left")
        for key, heading in columns:
            table.add_column(
                heading, justify="left" if key in ("month", "week_commencing", "holiday", "hour") else "right"
            )
        for row in tables.get(name, []):
            table.add_row(
                *(cell(row.get(key)) if key != "holiday" else row.get(key, "") for key, _ in columns),
                style="bold" if row.get("month", row.get("week_commencing")) == "total" else None,
            )
        console.print(table)
