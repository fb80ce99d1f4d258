"""The README's first command: ``casework demo`` runs on embedded defaults and shows the tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from casework import demo as casework_demo
from casework.demo import demo_calls, demo_cases
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
    again = run_cli(args, database_url="sqlite:///ignored.db", monkeypatch=monkeypatch, capsys=capsys)
    assert "0 new cases" in again.stdout  # the demo is idempotent


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
