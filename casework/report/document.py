"""The report as a sequence of sections: the wording of the 2013 Board paper around live figures.

HTML and Markdown render the same :class:`Document`, so both say the same thing. Paragraphs are
plain text (the renderers escape them); every number in them comes from
:class:`~casework.report.figures.HeadlineFigures` or a table, and the notes section says how.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from casework.report.charts import Chart, report_charts
from casework.report.data import ReportData
from casework.report.figures import Figure, HeadlineFigures, footnotes, headline_figures
from casework.report.tables import Table, build_tables, has_surgeries, month_label, surgeries_table
from store.enums import Category


@dataclass
class Section:
    key: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    table: Table | None = None
    chart: Chart | None = None
    after: list[str] = field(default_factory=list)


@dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Section]
    figures: HeadlineFigures
    notes: list[Figure]
    tables: list[Table]
    charts: list[Chart]


CATEGORY_MEANING = {
    Category.CORRESPONDENCE: "members of the public, or people working for the force, who want the "
    "Commissioner's position on an issue; also companies or charities marketing their services.",
    Category.COMPLAINT: "Professional Standards Department referrals and complaints against the "
    "Chief Constable.",
    Category.FOI: "Freedom of Information requests, including those referred to the force because the "
    "office does not hold the information; the office tracks them until the reply is sent.",
    Category.CAMPAIGN: "many people writing the same message. Each campaign is counted as one case, "
    "whatever its number of senders, though every sender receives a reply: read the totals in that light.",
    Category.OFFICER_CORRESPONDENCE: "correspondence from police officers and staff.",
    Category.CONSULTATION: "consultations from other bodies asking for the office's view.",
}


def _date(day: object) -> str:
    from datetime import date

    assert isinstance(day, date)
    return f"{day.day} {day:%B %Y}"


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _timeliness_sections(data: ReportData, by_key: dict[str, Table]) -> list[Section]:
    """Timeliness against each case's final due date, with what moved FOI due dates."""
    table = by_key.get("timeliness")
    if table is None:
        return []
    total = table.rows[-1]
    performance = total.get("performance_pct")
    clocks = data.foi_clocks
    extended = clocks.get("extended_cases", 0)
    clarified = clocks.get("clarification", 0)
    foi = [
        f"For Freedom of Information requests, {_plural(extended, 'request was', 'requests were')} extended "
        f"to consider the public interest (FOIA s10(3); {clocks.get('extended_working_days', 0):,} working "
        f"days in all, at most 20 each as the Information Commissioner expects), and the office asked for "
        f"clarification of {_plural(clarified, 'request')} (s1(3)): each of those is due 20 working days "
        "after the clarification arrived, not after the request."
    ]
    if clocks.get("fee"):
        foi.append(
            f"The clock was paused for a fees notice on {_plural(clocks['fee'], 'request')} (s9, s10(2)); "
            "the days until the fee was paid do not count."
        )
    pct = f"{float(performance):.1f}%" if performance is not None else "not applicable"
    return [
        Section(
            "timeliness",
            "Timeliness against the deadline",
            [
                f"Of the {total['received']:,} cases received in the period, "
                f"{total['responded_in_time']:,} were answered by their due date and "
                f"{total['responded_late']:,} after it; {total['open_in_time']:,} were still open and in "
                f"time and {total['open_late']:,} open and late. Performance (answered in time plus open in "
                f"time, over received) was {pct}. A due date here is the final one: after any "
                "clarification, fee pause or extension.",
                " ".join(foi),
            ],
            table=table,
        )
    ]


def build_document(data: ReportData) -> Document:
    tables = build_tables(
        data.tables, deadline_days=data.deadline_days, call_target_seconds=data.call_target_seconds
    )
    by_key = {table.key: table for table in tables}
    charts = report_charts(data)
    chart = {c.name: c for c in charts}
    f = headline_figures(data)
    notes = footnotes(f, data)
    note = {n.key: n for n in notes}
    period = f"{_date(data.start)} – {_date(data.end)}"
    as_of = _date(data.as_of)
    busiest = (
        f" The busiest month was {month_label(f.busiest_month)}, with {f.busiest_month_cases:,} cases."
        if f.busiest_month
        else ""
    )
    oldest = (
        f" The oldest case that had not had a formal response was received on "
        f"{_date(f.oldest_awaiting_reply.received_on)} ({f.oldest_awaiting_reply.reference})."
        if f.oldest_awaiting_reply
        else " Every case had had a formal response."
    )
    sections = [
        Section(
            "purpose",
            "Purpose of report",
            [
                f"To update the Board on the casework and correspondence received and managed by the "
                f"{data.office_name}, {period}. Figures are as they stood at the end of {as_of}.",
            ],
        ),
        Section(
            "casework",
            f"Casework analysis – {period}",
            [
                f"In this period a total of {f.total_cases:,} cases were logged. The following table gives a "
                f"monthly breakdown of the cases logged and their category. The average number of cases "
                f"logged per month over the period was {note['monthly_average'].text}.{busiest}",
            ],
            table=by_key["categories"],
            chart=chart["cases_by_category"],
        ),
        Section(
            "categories",
            "Categories explained",
            ["Six categories are used. The following shows what is recorded under each:"],
            bullets=[f"{c.label} – {CATEGORY_MEANING[c]}" for c in Category],
        ),
        Section(
            "statuses",
            f"Status of cases on {as_of}",
            [
                "The table below gives the cases received each month and their status at the report date.",
            ],
            bullets=[
                "Open – logged and acknowledged, but no action has been taken yet.",
                "In progress – referred to the force for comment, or to a caseworker to draft a response.",
                "Monitoring – being addressed by the Independent Police Complaints Commission (IPCC) or due "
                "court proceedings; the Commissioner cannot comment or intervene yet.",
                "Closed – all actions have been taken and a formal response has been sent.",
            ],
            table=by_key["statuses"],
            chart=chart["status_by_month"],
            after=[oldest.strip()],
        ),
        Section(
            "closure_times",
            "Time taken to close cases",
            [
                "All correspondence should receive a full response within "
                f"{data.deadline_days} working days, "
                "in line with the statutory requirement for Freedom of Information requests. The table gives "
                f"the cases closed each month and the time they took. As in 2013 it shows the "
                f"{data.aged_days}-day stand-in for {data.deadline_days} working days, and beside it the "
                "true "
                f"measure: closed on or before the due date, the {data.deadline_days}th UK working day after "
                "receipt (bank holidays of every UK nation excluded).",
                f"Of the {f.cases_closed:,} cases closed in the period, {f.within_deadline:,} "
                f"({note['pct_within_deadline'].text}) were closed by their due date; {f.within_28:,} "
                f"({note['pct_within_28'].text}) within {data.aged_days} calendar days.",
            ],
            table=by_key["closure_times"],
            chart=chart["closure_times"],
        ),
        *_timeliness_sections(data, by_key),
        Section(
            "aged_unclosed",
            f"Cases over {data.aged_days} days old not closed",
            [
                f"The following table gives the cases received more than {data.aged_days} days before "
                f"{as_of} that were not closed then, by month received and current status.",
            ],
            table=by_key["aged_unclosed"],
        ),
        Section(
            "calls",
            "Annex: telephone hunt group",
            [
                f"The agreed target is to answer every call within three rings ({data.call_target_seconds} "
                f"seconds). The average percentage of calls answered in target is "
                f"{note['pct_within_target'].text} and the average number of calls received each week is "
                f"{note['calls_per_week'].text}. Response, unanswered-wait and talk times are in seconds. "
                "Weeks with a UK bank holiday are marked.",
            ],
            table=by_key["calls"],
            chart=chart["weekly_calls"],
        ),
    ]
    if "calls_by_hour" in chart:
        busiest = max(data.tables["calls_by_hour"], key=lambda row: row["unanswered"])
        sections.append(
            Section(
                "calls_by_hour",
                "Annex: calls by hour of day",
                [
                    "Calls received in each hour of the day over the period, by when they started (UK "
                    "time), showing when the phones need cover."
                    + (
                        f" Most unanswered calls ({busiest['unanswered']:,}) came in the hour from "
                        f"{busiest['hour']:02d}:00."
                        if busiest["unanswered"]
                        else ""
                    ),
                ],
                chart=chart["calls_by_hour"],
            )
        )
    if has_surgeries(data.tables):
        sections.append(_surgeries_section(data, chart["surgeries"]))
        tables.append(surgeries_table(data.tables))
    return Document(
        title="Casework analysis",
        subtitle=f"{data.office_name} · {period} · status at {as_of}",
        sections=sections,
        figures=f,
        notes=notes,
        tables=tables,
        charts=charts,
    )


def _surgeries_section(data: ReportData, chart: Chart) -> Section:
    """The surgeries and casework meetings of the period (report paras 12–14), when there were any."""
    total = data.tables["surgeries"][-1]
    held = total["sessions"] - total["cancelled_sessions"]
    taken = f"{total['booked'] * 100 / total['slots']:.0f}%" if total["slots"] else "none"
    return Section(
        "surgeries",
        "Surgeries and casework meetings",
        [
            f"The Casework Team supports the surgeries held by the Commissioner and the Deputy Commissioner "
            f"and provides the briefing pack for every session. In this period {total['sessions']} sessions "
            f"were arranged ({total['meetings']} of them casework meetings and {total['virtual_sessions']} "
            f"virtual surgeries); {held} went ahead and {total['cancelled_sessions']} were cancelled.",
            f"Of the {total['slots']} appointments offered, {total['booked']} were booked ({taken}) and "
            f"{total['attended']} attended. There were {total['cancellations']} cancellations, "
            f"{total['late_cancellations']} of them late, and {total['no_shows']} people did not attend. "
            "Freed appointments are offered to the waiting list automatically.",
        ],
        table=surgeries_table(data.tables),
        chart=chart,
    )
