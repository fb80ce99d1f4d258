"""``casework demo``: load a year of invented casework into a local SQLite file and show the tables.

Runs on embedded defaults: no Slack, IMAP or SMTP account, and no file outside the package.
It writes to its own database (``casework-demo.db`` unless ``--database`` says otherwise) so
it can never mix invented cases into an office's real store.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from pathlib import Path

import typer
from sqlalchemy import select
from sqlmodel import Session, col

from casework import demo_clocks, demo_lifecycle, report
from casework.commands.stats import parse_date
from casework.demo import demo_cases, demo_master_csv, demo_period, demo_surgeries
from casework.runtime import open_store
from casework.settings import get_settings
from casework.tables import render
from store import retention
from store.calls import asterisk_csv, text
from store.calls.base import Context
from store.calls.importer import Tally, merge, store_reading
from store.db import session_scope
from store.enums import Stage
from store.imports import import_cases
from store.models import Case
from store.workdays import LONDON


def demo(
    database: Path = typer.Option(
        Path("casework-demo.db"), "--database", help="SQLite file for the demo data"
    ),
    report_dir: Path = typer.Option(
        Path("casework-demo-report"),
        "--report-dir",
        help="where to write the demo Board report (HTML and Markdown)",
    ),
    today: str | None = typer.Option(None, "--today", help="pretend today is this date (YYYY-MM-DD)"),
) -> None:
    """Load demo data (a year of cases, calls and surgeries), print the Board's tables, write the report."""
    settings = get_settings().model_copy(
        update={"database_url": f"sqlite:///{database}", "reference_prefix": "DEMO"}
    )
    day = parse_date(today, "--today") or datetime.now(LONDON).date()
    engine = open_store(settings)
    with session_scope(engine) as session:
        cases = import_cases(session, settings=settings, rows=demo_cases(day))
        calls = _import_demo_calls(session, day)
    with session_scope(engine) as session:
        sessions = demo_surgeries(session, day)
    typer.echo(
        f"demo data in {database}: {cases.imported} new cases ({cases.already_present} already there), "
        f"{calls.calls_new} new calls (read as an Asterisk Master.csv), {sessions} new surgery sessions"
    )
    with session_scope(engine) as session:
        walked = demo_lifecycle.load(session, settings=settings, today=day)
        stages = Counter(session.execute(select(col(Case.stage))).scalars())
    if walked:
        typer.echo("lifecycle: " + ", ".join(f"{n} {stage.replace('_', ' ')}" for stage, n in walked.items()))
    typer.echo("cases by stage: " + ", ".join(f"{stage} {stages.get(stage, 0)}" for stage in Stage))
    with session_scope(engine) as session:
        clocked = demo_clocks.load(session, settings=settings, today=day)
        # a short schedule, so that the demo's year has cases whose time is up
        due = retention.review(session, schedule={"default": "6m"}, as_of=day)
    if clocked:
        typer.echo("statutory clocks: " + ", ".join(f"{n} {what}" for what, n in clocked.items()))
    typer.echo(
        f"personal data: {len(due)} closed cases would be anonymised under a 6-month schedule "
        "(`casework retention review`; the office's own schedule is CASEWORK_RETENTION)"
    )
    start, end = demo_period(day)
    with session_scope(engine) as session:
        data = report.gather(session, settings=settings, start=start, end=end, as_of=day)
    render(data.tables)
    written = report.write(report_dir, report.render(data, ("html", "md")))
    typer.echo(f"Board report written: {written[0]} (open it in a browser)")


def _import_demo_calls(session: Session, day: date) -> Tally:
    """The demo's calls through the asterisk-csv reader, as a real office's Master.csv would go."""
    decoded = text.split(demo_master_csv(day).encode("utf-8"))
    reading = merge(asterisk_csv.NAME, False, decoded, Context(zone=LONDON, hunt_group="600"))
    return store_reading(session, reading=reading)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
