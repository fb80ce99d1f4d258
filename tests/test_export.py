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
