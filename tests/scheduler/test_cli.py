"""``casework remind --once`` and ``casework jobs`` as a person runs them."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import Engine

from casework.settings import Settings
from tests.conftest import make_settings
from tests.scheduler.support import keys, make_case
from tests.support.cli import run_cli


def test_remind_once_as_of_records_warnings(
    engine: Engine,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: object,
) -> None:
    """On a store filled through open_case, --as-of 2013-04-10 warns the case due that day, once."""
    monkeypatch.chdir(str(tmp_path))  # no stray .env
    ref = make_case(engine, settings, due=date(2013, 4, 10))
    make_case(engine, settings, due=date(2013, 6, 10))
    late = make_case(engine, settings, due=date(2013, 4, 5))
    env = {"CASEWORK_ALERTS_CHANNEL": "C0ALERTS"}
    args = ["remind", "--once", "--as-of", "2013-04-10", "--json"]
    first = run_cli(args, database_url=settings.database_url, monkeypatch=monkeypatch, capsys=capsys, env=env)
    assert first.exit_code == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["as_of"] == "2013-04-10" and data["working_day"] is True
    assert [(w["reference"], w["threshold"], w["working_days_left"]) for w in data["warnings"]] == [
        (ref, 0, 0)
    ]
    # the keys of before are all there; the overdue list and the monitoring count are added
    assert data["overdue"] == {"total": 1, "unassigned": 0, "by_assignee": {"U0CASEWKR": 1}}
    assert data["monitoring"] == [] and data["monitoring_total"] == 0
    assert data["queued"] == 2 + 2  # the warning's DM and post, the overdue DM and post
    again = run_cli(args, database_url=settings.database_url, monkeypatch=monkeypatch, capsys=capsys, env=env)
    assert json.loads(again.stdout)["queued"] == 0
    assert len(keys(engine)) == 4

    text = run_cli(
        ["remind", "--once", "--as-of", "2013-04-10"],
        database_url=settings.database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
        env=env,
    )
    assert text.exit_code == 0 and ref in text.stdout and "due today" in text.stdout
    assert "1 overdue" in text.stdout and late not in text.stdout  # overdue cases are counted, not listed


def test_remind_on_a_bank_holiday_says_so(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    monkeypatch.chdir(str(tmp_path))
    result = run_cli(
        ["remind", "--once", "--as-of", "2013-12-25"],
        database_url=settings.database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert result.exit_code == 0 and "bank holiday" in result.stdout and "Christmas" in result.stdout


@pytest.mark.parametrize("bad", ["10/04/2013", "2013-02-30", "tomorrow"])
def test_bad_as_of_is_a_clear_error_and_changes_nothing(
    bad: str,
    engine: Engine,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: object,
) -> None:
    monkeypatch.chdir(str(tmp_path))
    make_case(engine, settings, due=date(2013, 4, 10))
    result = run_cli(
        ["remind", "--once", "--as-of", bad],
        database_url=settings.database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert result.exit_code == 2
    assert "is not a date" in result.stderr and "YYYY-MM-DD" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert keys(engine) == []


def test_remind_without_once_explains(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    monkeypatch.chdir(str(tmp_path))
    result = run_cli(["remind"], database_url=sqlite_url, monkeypatch=monkeypatch, capsys=capsys)
    assert result.exit_code == 2 and "--once" in result.stderr


def test_jobs_lists_jobs_with_next_run(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    monkeypatch.chdir(str(tmp_path))
    env = {"CASEWORK_IMAP_HOST": "127.0.0.1", "CASEWORK_IMAP_IDLE": "false", "CASEWORK_DIGEST_TIME": "08:30"}
    result = run_cli(
        ["jobs", "--json"], database_url=sqlite_url, monkeypatch=monkeypatch, capsys=capsys, env=env
    )
    assert result.exit_code == 0, result.stderr
    jobs = {job["id"]: job for job in json.loads(result.stdout)}
    assert set(jobs) == {"warnings", "digest", "weekly", "retrain", "retention", "surgeries", "poll"}
    assert all(job["next_run"] for job in jobs.values())
    assert jobs["digest"]["next_run"][11:16] == "08:30"
    idle = run_cli(
        ["jobs"],
        database_url=sqlite_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
        env={"CASEWORK_IMAP_IDLE": "true"},
    )
    assert "digest" in idle.stdout and "poll" not in idle.stdout  # IDLE on: no polling job
    assert make_settings(sqlite_url).imap_idle  # ...and IDLE is the default
