"""Imported phone-system calls in the Board's weekly table and the hour-of-day profile."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.calls.test_import_formats import ring_group_day
from tests.calls.writers import AsteriskLeg, asterisk_csv
from tests.support.cli import run_cli


def test_weekly_table_and_calls_by_hour_from_an_asterisk_file(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    legs = ring_group_day()  # Monday 4 March 2024, 09:00–09:20 GMT: answered in 6 s, abandoned, busy
    summer = datetime(2024, 7, 1, 14, 0)  # 14:00 BST is 13:00 UTC: the profile is by UK hour
    legs.append(AsteriskLeg("07700900009", "600", summer, summer + timedelta(seconds=15),
                            summer + timedelta(minutes=2), "ANSWERED", "1719838800.1"))  # fmt: skip
    path = tmp_path / "Master.csv"
    path.write_text(asterisk_csv(legs))
    args = {"database_url": database_url, "monkeypatch": monkeypatch, "capsys": capsys}
    assert run_cli(["import", "calls", str(path)], **args).exit_code == 0
    result = run_cli(["stats", "--from", "2024-03-04", "--to", "2024-07-07", "--json"], **args)
    assert result.exit_code == 0, result.stderr
    tables = json.loads(result.stdout)
    week = next(row for row in tables["calls"] if row["week_commencing"] == "2024-03-04")
    assert {k: week[k] for k in ("received", "within_target", "over_target", "unanswered", "busy")} == {
        "received": 3,
        "within_target": 1,
        "over_target": 0,
        "unanswered": 1,
        "busy": 1,
    }
    assert (week["avg_response_s"], week["avg_unanswered_s"], week["avg_talk_s"]) == (6.0, 30.0, 174.0)
    july = next(row for row in tables["calls"] if row["week_commencing"] == "2024-07-01")
    assert (july["received"], july["over_target"]) == (1, 1)
    hours = tables["calls_by_hour"]
    assert [row["hour"] for row in hours] == list(range(24))
    assert hours[9] == {"hour": 9, "received": 3, "within_target": 1, "unanswered": 1}
    assert hours[14] == {"hour": 14, "received": 1, "within_target": 0, "unanswered": 0}
    assert sum(row["received"] for row in hours) == tables["calls"][-1]["received"] == 4
    printed = run_cli(["stats", "--from", "2024-03-04", "--to", "2024-07-07"], **args)
    assert "by hour of day" in printed.stdout
