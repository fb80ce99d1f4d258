"""The README's first command: ``casework demo`` runs on embedded defaults and shows the tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

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
