"""The report's charts, drawn with matplotlib (Agg, no display) as PNG bytes.

Colours are the Okabe–Ito palette, which stays distinguishable with every common form of
colour blindness; every chart has labelled axes and a title that says what is shown, and the
bars carry hatching where colour alone would have to tell two series apart.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import matplotlib

matplotlib.use("Agg")  # never try to open a window, even where a display exists

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from casework.report.data import ReportData
from casework.report.tables import has_surgeries, month_label, week_holidays
from store.enums import Category, Status

#: Okabe & Ito (2008), "Color Universal Design"
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
CATEGORY_COLOURS = {
    Category.CORRESPONDENCE: OKABE_ITO["blue"],
    Category.COMPLAINT: OKABE_ITO["orange"],
    Category.FOI: OKABE_ITO["green"],
    Category.CAMPAIGN: OKABE_ITO["purple"],
    Category.OFFICER_CORRESPONDENCE: OKABE_ITO["sky_blue"],
    Category.CONSULTATION: OKABE_ITO["yellow"],
}
STATUS_COLOURS = {
    Status.OPEN: OKABE_ITO["vermillion"],
    Status.IN_PROGRESS: OKABE_ITO["orange"],
    Status.MONITORING: OKABE_ITO["purple"],
    Status.CLOSED: OKABE_ITO["blue"],
}
DPI = 110


@dataclass(frozen=True)
class Chart:
    """One chart: its file name, title and text alternative (for screen readers), and the PNG."""

    name: str
    title: str
    alt: str
    png: bytes


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    # no Software/date metadata, so the same data always gives the same bytes
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _or_nan(value: float | None) -> float:
    """A gap in a line (matplotlib leaves NaN points out) where a rate is undefined."""
    return float("nan") if value is None else float(value)


def _months(tables: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [row for row in tables[key] if row["month"] != "total"]


def _short_month(month: str) -> str:
    return date.fromisoformat(f"{month}-01").strftime("%b\n%Y")


def _stacked_bars(ax: Any, rows: list[dict[str, Any]], series: list[tuple[str, str, str]]) -> None:
    labels = [_short_month(row["month"]) for row in rows]
    bottom = [0] * len(rows)
    for key, label, colour in series:
        values = [row.get(key, 0) for row in rows]
        ax.bar(labels, values, bottom=bottom, label=label, color=colour, edgecolor="white", linewidth=0.5)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for x, height in enumerate(bottom):
        if height:
            ax.annotate(
                f"{height:,}",
                (x, height),
                ha="center",
                va="bottom",
                fontsize=8,
                xytext=(0, 2),
                textcoords="offset points",
            )
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max([*bottom, 1]) * 1.12)
    ax.spines[["top", "right"]].set_visible(False)


def cases_by_category_png(tables: dict[str, Any]) -> bytes:
    rows = _months(tables, "categories")
    fig = Figure(figsize=(8, 4.2), layout="constrained")
    ax = fig.subplots()
    _stacked_bars(ax, rows, [(c.value, c.label, CATEGORY_COLOURS[c]) for c in Category])
    ax.set_title("Cases logged each month, by category")
    ax.set_xlabel("Month received")
    ax.set_ylabel("Cases logged")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    return _png(fig)


def status_by_month_png(tables: dict[str, Any]) -> bytes:
    rows = _months(tables, "statuses")
    as_of = date.fromisoformat(tables["as_of"])
    fig = Figure(figsize=(8, 4.2), layout="constrained")
    ax = fig.subplots()
    order = [Status.CLOSED, Status.MONITORING, Status.IN_PROGRESS, Status.OPEN]
    _stacked_bars(ax, rows, [(s.value, s.label, STATUS_COLOURS[s]) for s in order])
    ax.set_title(f"Status on {as_of:%-d %B %Y} of the cases logged each month")
    ax.set_xlabel("Month received")
    ax.set_ylabel("Cases")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    return _png(fig)


def closure_times_png(data: ReportData) -> bytes:
    """How many working days each closed case took, against the deadline."""
    fig = Figure(figsize=(8, 4.2), layout="constrained")
    ax = fig.subplots()
    deadline = data.deadline_days
    working = [w for _, w, _ in data.closures]
    top = max([*working, deadline + 5])
    width = 5 if top > 60 else 2
    # bin edges on half days with one at the deadline, so no bar straddles it
    first = deadline + 0.5 - width * math.ceil((deadline + 0.5) / width)
    edges = [first + width * k for k in range(math.ceil((top + 0.5 - first) / width) + 1)]
    # coloured by the table's own test (closed by the due date), so the counts agree with it
    within = [w for _, w, in_time in data.closures if in_time]
    over = [w for _, w, in_time in data.closures if not in_time]
    ax.hist(
        [within, over],
        bins=edges,
        stacked=True,
        color=[OKABE_ITO["blue"], OKABE_ITO["vermillion"]],
        label=[
            f"Closed by the due date ({len(within):,})",
            f"Closed after the due date ({len(over):,})",
        ],
        edgecolor="white",
        linewidth=0.5,
    )
    over_patches = ax.containers[1] if len(ax.containers) > 1 else []
    for patch in over_patches:
        patch.set_hatch("//")
    ax.axvline(deadline + 0.5, color=OKABE_ITO["black"], linestyle="--", linewidth=1.2)
    ax.annotate(
        f"deadline: {deadline} working days",
        (deadline + 0.5, 1),
        xycoords=("data", "axes fraction"),
        xytext=(4, -12),
        textcoords="offset points",
        fontsize=8,
    )
    ax.set_title(
        f"Working days taken by the {len(working):,} cases closed "
        f"{data.start:%b %Y}–{min(data.end, data.as_of):%b %Y},\nagainst the {deadline}-working-day deadline"
    )
    ax.set_xlabel("UK working days from receipt to closure")
    ax.set_ylabel("Cases closed")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    return _png(fig)


def weekly_calls_png(tables: dict[str, Any], *, call_target_seconds: int = 9) -> bytes:
    rows = [row for row in tables["calls"] if row["week_commencing"] != "total"]
    fig = Figure(figsize=(9, 4.4), layout="constrained")
    ax = fig.subplots()
    x = list(range(len(rows)))
    received = [row["received"] for row in rows]
    holiday_weeks = [
        i
        for i, row in enumerate(rows)
        if row.get("holiday") or week_holidays(date.fromisoformat(row["week_commencing"]))
    ]
    colours = [OKABE_ITO["orange"] if i in holiday_weeks else OKABE_ITO["sky_blue"] for i in x]
    bars = ax.bar(x, received, color=colours, edgecolor="white", linewidth=0.5)
    for i in holiday_weeks:
        bars[i].set_hatch("xx")
    ax.set_ylabel("Calls received")
    ax.set_xlabel("Week commencing (Monday)")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    step = max(1, len(rows) // 12)
    ax.set_xticks(
        x[::step],
        [date.fromisoformat(r["week_commencing"]).strftime("%-d %b\n%Y") for r in rows][::step],
        fontsize=8,
    )
    rate = ax.twinx()
    rate.plot(
        x,
        [_or_nan(row["pct_within_target"]) for row in rows],
        color=OKABE_ITO["black"],
        marker="o",
        markersize=3,
        linewidth=1.2,
    )
    rate.set_ylim(0, 105)
    rate.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    rate.set_ylabel(f"% answered within {call_target_seconds} s")
    fig.legend(
        handles=[
            Patch(color=OKABE_ITO["sky_blue"], label="Calls received"),
            Patch(
                facecolor=OKABE_ITO["orange"], hatch="xx", edgecolor="white", label="Week with a bank holiday"
            ),
            Line2D(
                [], [], color=OKABE_ITO["black"], marker="o", markersize=3, label="% answered within target"
            ),
        ],
        loc="outside lower center",
        ncols=3,
        frameon=False,
        fontsize=8,
    )
    ax.set_title(f"Calls received each week, and the share answered within target ({call_target_seconds} s)")
    ax.spines[["top"]].set_visible(False)
    return _png(fig)


def summary_chart_png(tables: dict[str, Any]) -> bytes:
    """One compact chart for Slack on a phone: cases a month by category, and % closed in time.

    The bars are cases *received* each month by category; the line is the share of the cases
    *closed* that month that were closed by their due date (the closure-time table).
    """
    rows = _months(tables, "categories")
    closure = {row["month"]: row["pct_within_deadline"] for row in _months(tables, "closure_times")}
    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.subplots()
    labels = [date.fromisoformat(f"{row['month']}-01").strftime("%b\n%y") for row in rows]
    bottom = [0] * len(rows)
    for category in Category:
        values = [row.get(category.value, 0) for row in rows]
        if any(values):
            ax.bar(
                labels,
                values,
                bottom=bottom,
                color=CATEGORY_COLOURS[category],
                label=category.label,
                edgecolor="white",
                linewidth=0.5,
            )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("Cases logged", fontsize=11)
    ax.set_ylim(0, max([*bottom, 1]) * 1.15)
    ax.tick_params(labelsize=10)
    rate = ax.twinx()
    rate.plot(
        labels,
        [_or_nan(closure.get(row["month"])) for row in rows],
        color=OKABE_ITO["black"],
        marker="o",
        linewidth=2,
        label="% closed by due date",
    )
    rate.set_ylim(0, 105)
    rate.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    rate.set_ylabel("% of cases closed that month\nclosed by the due date", fontsize=10)
    handles, names = ax.get_legend_handles_labels()
    line_handles, line_names = rate.get_legend_handles_labels()
    fig.legend(
        handles + line_handles,
        names + line_names,
        loc="outside lower center",
        ncols=3,
        fontsize=9,
        frameon=False,
    )
    first, last = (month_label(rows[0]["month"]), month_label(rows[-1]["month"])) if rows else ("", "")
    ax.set_title(f"Cases a month by category, {first} – {last}", fontsize=12)
    return _png(fig)


def calls_by_hour_png(tables: dict[str, Any], *, call_target_seconds: int = 9) -> bytes:
    """Calls by hour of day, stacked: within target, answered later or busy, unanswered."""
    rows = tables["calls_by_hour"]
    fig = Figure(figsize=(9, 4.2), layout="constrained")
    ax = fig.subplots()
    hours = [row["hour"] for row in rows]
    within = [row["within_target"] for row in rows]
    unanswered = [row["unanswered"] for row in rows]
    rest = [row["received"] - row["within_target"] - row["unanswered"] for row in rows]
    ax.bar(hours, within, color=OKABE_ITO["green"], label=f"Answered within {call_target_seconds} s")
    ax.bar(hours, rest, bottom=within, color=OKABE_ITO["sky_blue"], label="Answered later, or busy")
    ax.bar(
        hours,
        unanswered,
        bottom=[a + b for a, b in zip(within, rest, strict=True)],
        color=OKABE_ITO["vermillion"],
        label="Unanswered",
    )
    ax.set_xticks(hours, [f"{h:02d}" for h in hours], fontsize=8)
    ax.set_xlabel("Hour of day the call started (UK time)")
    ax.set_ylabel("Calls received")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    ax.set_title("Calls by hour of day: when the phones need cover")
    return _png(fig)


def surgeries_png(tables: dict[str, Any]) -> bytes:
    """Appointments each month: slots offered against appointments booked and kept."""
    rows = _months(tables, "surgeries")
    labels = [_short_month(row["month"]) for row in rows]
    fig = Figure(figsize=(8, 4.2), layout="constrained")
    ax = fig.subplots()
    x = list(range(len(rows)))
    width = 0.27
    series = [
        ("slots", "Slots offered", OKABE_ITO["sky_blue"], ""),
        ("booked", "Booked", OKABE_ITO["blue"], "//"),
        ("attended", "Attended", OKABE_ITO["green"], ".."),
    ]
    for offset, (key, label, colour, hatch) in zip((-width, 0, width), series, strict=True):
        ax.bar([i + offset for i in x], [row[key] for row in rows], width, label=label, color=colour,
               hatch=hatch, edgecolor="white", linewidth=0.5)  # fmt: skip
    for i, row in enumerate(rows):
        if row["cancelled_sessions"]:
            top = max(row["slots"], row["booked"], 1)
            ax.annotate(f"{row['cancelled_sessions']} cancelled", (i, top), ha="center", va="bottom",
                        fontsize=7, xytext=(0, 3), textcoords="offset points")  # fmt: skip
    ax.set_xticks(x, labels)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Surgery appointments each month: offered, booked and attended")
    ax.set_xlabel("Month held")
    ax.set_ylabel("Appointments")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    return _png(fig)


def report_charts(data: ReportData) -> list[Chart]:
    """Every chart of the Board report, in the order the sections use them."""
    tables = data.tables
    total = next(row for row in tables["categories"] if row["month"] == "total")["total"]
    return [
        Chart(
            "cases_by_category",
            "Cases logged each month, by category",
            f"Stacked bar chart of the {total:,} cases logged each month by category; the figures are in "
            "the category table.",
            cases_by_category_png(tables),
        ),
        Chart(
            "status_by_month",
            "Status of the cases logged each month",
            "Stacked bar chart of each month's cases by their status on the report date; the figures "
            "are in the status table.",
            status_by_month_png(tables),
        ),
        Chart(
            "closure_times",
            "Working days taken to close cases, against the deadline",
            f"Histogram of the UK working days taken by each closed case, with the {data.deadline_days}-"
            "working-day deadline marked; the averages are in the closure-time table.",
            closure_times_png(data),
        ),
        Chart(
            "weekly_calls",
            "Calls received each week and the share answered within target",
            "Bar chart of calls received each week, bank-holiday weeks hatched, with a line for the "
            "percentage answered within target; the figures are in the telephone annex.",
            weekly_calls_png(tables, call_target_seconds=data.call_target_seconds),
        ),
        *(
            [
                Chart(
                    "calls_by_hour",
                    "Calls by hour of day",
                    "Stacked bar chart of the calls received in each hour of the day over the period: "
                    "answered within target, answered later or busy, and unanswered.",
                    calls_by_hour_png(tables, call_target_seconds=data.call_target_seconds),
                )
            ]
            if "calls_by_hour" in tables
            else []
        ),
        *(
            [
                Chart(
                    "surgeries",
                    "Surgery appointments each month: offered, booked and attended",
                    "Grouped bar chart of the slots offered, appointments booked and appointments attended "
                    "each month, with cancelled sessions noted; the figures are in the surgeries table.",
                    surgeries_png(tables),
                )
            ]
            if has_surgeries(tables)
            else []
        ),
    ]
