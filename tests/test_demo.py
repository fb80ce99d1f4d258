"""The README's first command: ``casework demo`` runs on embedded defaults and shows the tables."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from casework import demo as casework_demo
from casework.demo import demo_calls, demo_cases
from store.workdays import LONDON
from tests.support.cli import run_cli


def test_demo_loads_a_year_and_prints_the_board_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["demo", "--today", "2026-11-25", "--report-dir", str(tmp_path / "report")]
    first = run_cli(args, database_url="sqlite:///ignored.db", monkeypatch=monkeypatch, capsys=capsys)
    assert first.exit_code == 0, first.stderr
    assert (tmp_path / "casework-demo.db").exists() and not (tmp_path / "ignored.db").exists()
    assert "Cases logged by month received and category" in first.stdout
    assert "Telephone hunt group" in first.stdout
    # a year of surgeries (issue 13): the table in the terminal, the section and chart in the report
    assert "Surgeries and casework meetings, by month held" in first.stdout
    page = (tmp_path / "report" / "report.html").read_text()
    assert '<section id="surgeries">' in page and 'id="table-surgeries"' in page
    assert (
        "were cancelled" in page and (tmp_path / "report" / "charts" / "surgeries.png").stat().st_size > 5000
    )
    # the statutory clocks (issue 11) and the retention schedule (issue 12) are shown too
    assert "statutory clocks: 1 clarified, 1 fee, 1 extended, 1 waiting, 1 internal review" in first.stdout
    assert "closed cases would be anonymised" in first.stdout
    exported = run_cli(
        ["export", "cases", "--format", "json"],
        database_url=f"sqlite:///{tmp_path / 'casework-demo.db'}", monkeypatch=monkeypatch, capsys=capsys,
    )  # fmt: skip
    rows = json.loads(exported.stdout)
    assert sum(row["clock"] == "stopped" for row in rows) == 1
    assert sum(row["extended_working_days"] == 10 for row in rows) == 1
    assert sum(row["stopped_working_days"] > 0 for row in rows) >= 1
    assert sum(row["review_of"] is not None for row in rows) == 1
    again = run_cli(args, database_url="sqlite:///ignored.db", monkeypatch=monkeypatch, capsys=capsys)
    assert (
        "0 new cases" in again.stdout and "0 new surgery sessions" in again.stdout
    )  # the demo is idempotent
    assert "statutory clocks" not in again.stdout


def test_demo_data_has_the_reports_shape() -> None:
    today = date(2026, 11, 25)
    cases, calls = demo_cases(today), demo_calls(today)
    assert 1000 < len(cases) < 2000  # about 120 a month for a year
    assert {c.category for c in cases} == {
        "correspondence",
        "complaint",
        "foi",
        "campaign",
        "officer_correspondence",
        "consultation",
    }
    assert all(c.closed_at is None or c.closed_at >= c.received_at for c in cases)
    weeks = len({c["started_on"].isocalendar()[:2] for c in calls})
    assert 90 < len(calls) / weeks < 130
    assert demo_cases(today)[5] == cases[5]  # seeded: the same day gives the same data


def test_demo_calls_go_through_the_asterisk_reader_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo writes its calls as a Master.csv and imports that: the figures are demo_calls' own."""
    from collections import Counter

    from store.calls import asterisk_csv, text
    from store.calls.base import Context
    from store.calls.importer import merge

    today = date(2026, 11, 25)
    calls = demo_calls(today)
    reading = merge(
        asterisk_csv.NAME,
        False,
        text.split(casework_demo.demo_master_csv(today).encode()),
        Context(hunt_group="600"),
    )
    rows = [call.row("asterisk", "asterisk-csv") for call in reading.calls]
    assert len(rows) == len(calls)
    assert Counter(r["outcome"] for r in rows) == Counter(c["outcome"] for c in calls)
    assert sorted(r["wait_s"] for r in rows) == sorted(c["wait_s"] for c in calls)
    assert sorted(r["started_at"] for r in rows) == sorted(c["started_at"] for c in calls)


def test_demo_surgeries_follow_the_reports_paragraphs(tmp_path: Path) -> None:
    """Friday sessions of 8 x 15 minutes, most slots taken, the first lost to the weather and
    moved, some at 14:30, virtual surgeries and casework meetings (report paras 12-14)."""
    from sqlmodel import col, select

    from casework.demo import demo_surgeries
    from store.db import make_engine, session_scope, upgrade
    from store.models import SurgeryBooking, SurgerySession
    from store.stats import surgeries_table

    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    upgrade(engine)
    today = date(2026, 11, 25)
    with session_scope(engine) as session:
        assert demo_surgeries(session, today) > 10
        assert demo_surgeries(session, today) == 0
    with session_scope(engine) as session:
        sessions = list(session.exec(select(SurgerySession).order_by(col(SurgerySession.starts_at))))
        first = sessions[0]
        assert first.status == "cancelled" and first.cancel_reason == "bad weather" and first.moved_to_id
        surgeries = [
            s for s in sessions if s.kind == "surgery" and not s.virtual_url and s.venue != "Lloyd House"
        ]
        assert all(s.held_on.weekday() == 4 and (s.slots, s.minutes) == (8, 15) for s in surgeries)
        assert {s.starts_at.astimezone(LONDON).time().hour for s in surgeries} == {14, 18}
        moved = len(
            session.exec(select(SurgeryBooking).where(SurgeryBooking.moved_from_id == first.id)).all()
        )
        assert moved > 0
        total = surgeries_table(session, start=date(2025, 12, 1), end=today)[-1]
    assert total["virtual_sessions"] >= 2 and total["meetings"] >= 2 and total["late_cancellations"] > 0
    assert total["booked"] / total["slots"] > 0.6  # most slots taken
