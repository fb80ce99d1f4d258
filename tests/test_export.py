"""``casework export cases``: each case with its Message-IDs and participants."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from casework.settings import Settings
from store.cases import add_participant, get_or_create_correspondent, open_case
from store.db import session_scope
from store.models import Message
from tests.support.cli import run_cli


def test_export_lists_message_ids_and_participants(
    engine: Engine,
    settings: Settings,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with session_scope(engine) as session:
        alice = get_or_create_correspondent(session, email="Alice@Example.org", name="Alice")
        bob = get_or_create_correspondent(session, email="bob@example.org")
        case = open_case(
            session,
            settings=settings,
            category="campaign",
            correspondent=alice,
            received_at=datetime(2013, 5, 2, 9, tzinfo=UTC),
            subject="Protect neighbourhood policing",
        )
        add_participant(session, case=case, correspondent=bob)
        for n, person in enumerate((alice, bob)):
            session.add(
                Message(
                    case_id=case.id,
                    message_id=f"<m{n}@example.org>",
                    raw_sha256=f"{n:064d}",
                    correspondent_id=person.id,
                    raw=b"x",
                )
            )
    result = run_cli(
        ["export", "cases", "--format", "json"],
        database_url=database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert result.exit_code == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert (
        row["reference"] == "WMOPC-2013-000001" and row["due_on"] == "2013-06-03"
    )  # 6 and 27 May were bank holidays
    assert row["message_ids"] == ["<m0@example.org>", "<m1@example.org>"]
    assert row["participants"] == ["alice@example.org", "bob@example.org"]
    assert (row["stage"], row["responded_at"]) == ("new", None)  # the lifecycle's keys, added
    result = run_cli(
        ["export", "cases", "--format", "csv"],
        database_url=database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    [csv_row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(csv_row) == [
        "reference",
        "category",
        "status",
        "received_at",
        "due_on",
        "closed_at",
        "message_ids",
        "participants",
    ]
    assert csv_row["message_ids"] == "<m0@example.org> <m1@example.org>"


def test_csv_cells_that_a_spreadsheet_would_run_are_prefixed(
    engine: Engine,
    settings: Settings,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Formula injection: an address or Message-ID from the public starting ``= + - @`` opens as text."""
    with session_scope(engine) as session:
        evil = get_or_create_correspondent(session, email="=2+5@evil.example", name="x")
        case = open_case(
            session,
            settings=settings,
            category="correspondence",
            correspondent=evil,
            received_at=datetime(2013, 5, 2, 9, tzinfo=UTC),
            subject="s",
        )
        session.add(
            Message(
                case_id=case.id,
                message_id="@SUM(1+1)",
                raw_sha256="e" * 64,
                correspondent_id=evil.id,
                raw=b"x",
            )
        )
    result = run_cli(
        ["export", "cases", "--format", "csv"],
        database_url=database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["participants"] == "'=2+5@evil.example"
    assert row["message_ids"] == "'@SUM(1+1)"
    result = run_cli(
        ["export", "cases", "--format", "json"],
        database_url=database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert json.loads(result.stdout)[0]["participants"] == ["=2+5@evil.example"]  # JSON is data, not cells


def test_report_csv_cells_are_prefixed_and_numbers_left_alone() -> None:
    from casework.report.csv import table_csv

    text = table_csv(
        [{"name": '=HYPERLINK("http://evil")', "n": -5}, {"name": "\tx", "n": 3}, {"name": "+1", "n": 0}]
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["name"] for r in rows] == ['\'=HYPERLINK("http://evil")', "'\tx", "'+1"]
    assert [r["n"] for r in rows] == ["-5", "3", "0"]


def test_days_late_counts_to_the_final_reply_even_when_a_later_letter_reopened_the_case(
    engine: Engine, settings: Settings
) -> None:
    """Answered on its due date, then re-opened by the correspondent's answer weeks later: the
    request was answered in time, so ``days_late`` is 0, not the weeks the case has been open since."""
    from datetime import date

    from store.cases import set_status
    from store.export import export_cases

    with session_scope(engine) as session:
        case = open_case(session, settings=settings, category="foi",
                         received_at=datetime(2026, 1, 5, 10, tzinfo=UTC), subject="request")  # fmt: skip
        assert case.due_on == date(2026, 2, 2)
        answered = datetime(2026, 2, 2, 15, tzinfo=UTC)
        set_status(session, case=case, status="closed", actor="t", at=answered, settings=settings)
        case.responded_at = answered
        set_status(session, case=case, status="open", actor="intake", settings=settings)  # a reply came
    with session_scope(engine) as session:
        [row] = list(export_cases(session, settings=settings, today=date(2026, 3, 16)))
    assert row["status"] == "open" and row["responded_at"].startswith("2026-02-02")
    assert row["days_late"] == 0
