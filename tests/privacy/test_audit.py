"""The audit trail: commands that show or export personal data write a row, ``casework audit``
reads them back filtered, and old rows go after ``CASEWORK_AUDIT_RETENTION_DAYS``."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import col

from casework.settings import Settings
from store import audit
from store.db import session_scope
from store.models import AuditEntry
from tests.bot.conftest import make_case
from tests.privacy.support import cli
from tests.privacy.test_deletion import cli_fail


def test_case_show_and_export_are_audited_and_read_back(
    engine: Engine,
    settings: Settings,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    first = make_case(engine, settings)
    second = make_case(engine, settings, email="kim@example.org", name="Kim")
    with session_scope(engine) as session:
        audit.record(
            session,
            actor="U_CW",
            action="viewed",
            case=second,
            detail="slack: /casework case",
            at=datetime(2013, 1, 2, tzinfo=UTC),
        )
    cli(["case", "show", first], database_url, monkeypatch, capsys)
    cli(
        ["export", "cases", "--format", "csv", "--out", str(tmp_path / "cases.csv")],
        database_url,
        monkeypatch,
        capsys,
    )
    cli(["quarantine", "list"], database_url, monkeypatch, capsys)

    me = f"cli:{getpass.getuser()}"
    rows = json.loads(cli(["audit", "--json"], database_url, monkeypatch, capsys).stdout)
    assert [(r["actor"], r["action"], r["case"], r["detail"]) for r in rows] == [
        ("U_CW", "viewed", second, "slack: /casework case"),
        (me, "viewed", first, "case show"),
        (me, "exported", first, "export cases"),
        (me, "exported", second, "export cases"),
        (me, "viewed", None, "quarantine list, 0 held"),
    ]
    only = json.loads(
        cli(["audit", "--case", first.lower(), "--json"], database_url, monkeypatch, capsys).stdout
    )
    assert [r["action"] for r in only] == ["viewed", "exported"]
    by_actor = json.loads(
        cli(["audit", "--actor", "U_CW", "--json"], database_url, monkeypatch, capsys).stdout
    )
    assert [r["case"] for r in by_actor] == [second]
    recent = json.loads(
        cli(["audit", "--since", "2020-01-01", "--json"], database_url, monkeypatch, capsys).stdout
    )
    assert len(recent) == 4
    text = cli(["audit", "--case", second], database_url, monkeypatch, capsys).stdout
    assert "U_CW" in text and "viewed" in text and "Kim" not in text and "kim@" not in text
    assert "--since" in cli_fail(["audit", "--since", "yesterday"], database_url, monkeypatch, capsys)


def test_only_known_actions_and_old_rows_are_purged(engine: Engine) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with session_scope(engine) as session:
        with pytest.raises(ValueError):
            audit.record(session, actor="U_CW", action="peeked")
        audit.record(
            session, actor="U_CW", action="viewed", case="WMOPC-2013-000001", at=now - timedelta(days=2191)
        )
        audit.record(
            session, actor="U_CW", action="viewed", case="WMOPC-2013-000002", at=now - timedelta(days=2189)
        )
    with session_scope(engine) as session:
        assert audit.purge(session, days=2190, now=now) == 1
        left = session.execute(select(col(AuditEntry.case_reference))).scalars().all()
    assert left == ["WMOPC-2013-000002"]


def test_case_assign_takes_caseworkers_only(
    engine: Engine,
    settings: Settings,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    reference = make_case(engine, settings)
    env = {
        "CASEWORK_CASEWORKERS": "U_CW",
        "CASEWORK_MANAGERS": "U_MGR",
        "CASEWORK_SLACK_API_URL": "http://127.0.0.1:9/api/",
    }
    from tests.support.cli import run_cli

    refused = run_cli(
        ["case", "assign", reference, "U_MGR"],
        database_url=database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
        env=env,
    )
    assert refused.exit_code == 2 and "not in the casework team" in refused.stderr
    done = run_cli(
        ["case", "assign", reference, "U_CW"],
        database_url=database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
        env=env,
    )
    assert done.exit_code == 0, done.stderr
    rows = json.loads(cli(["audit", "--case", reference, "--json"], database_url, monkeypatch, capsys).stdout)
    assert [(r["action"], r["detail"]) for r in rows] == [("changed", "assigned to U_CW")]
    with session_scope(engine) as session:
        from store.cases import get_case

        case = get_case(session, reference)
        assert case is not None and case.assignee == "U_CW"
