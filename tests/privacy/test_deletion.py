"""Retention and erasure delete for real: the phrase and address are gone from the database
file (SQLite, with its WAL) or from a pg_dump, and ``casework stats --json`` is unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from store.cases import get_case, set_status
from store.db import make_engine, session_scope
from store.models import AnonymisedCase, AuditEntry, Case, CaseEvent, CaseParticipant, Correspondent, Message
from tests.conftest import make_settings
from tests.privacy.support import (
    OTHERS,
    QUENTIN,
    QUENTIN_SECRETS,
    ZARA,
    ZARA_SECRETS,
    cli,
    database_bytes,
    leftovers,
    mailbox,
    stats_json,
)


def _ingest(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    summary = json.loads(
        cli(["ingest", str(mailbox(tmp_path / "mail")), "--json"], database_url, monkeypatch, capsys).stdout
    )
    assert summary["opened"] >= 3 and summary["quarantined"] == 0, summary


def _case_of(database_url: str, email: str) -> str:
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        reference = session.execute(
            select(col(Case.reference))
            .join(Correspondent, col(Correspondent.id) == col(Case.correspondent_id))
            .where(col(Correspondent.email) == email)
        ).scalar_one()
    engine.dispose()
    return reference


def _close(database_url: str, reference: str, when: datetime) -> None:
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        case = get_case(session, reference)
        assert case is not None
        set_status(
            session,
            case=case,
            status="closed",
            actor="U_CW",
            at=when,
            note="Closed — response sent",
            settings=make_settings(database_url),
        )
    engine.dispose()


def _label_and_retrain(database_url: str, reference: str) -> None:
    """A person's correction becomes a label, and a model learns the letter's words from it."""
    from intake.classify.learning import retrain
    from store.cases import set_category
    from store.messages import label_text

    engine = make_engine(database_url)
    settings = make_settings(database_url)
    with session_scope(engine) as session:
        case = get_case(session, reference)
        assert case is not None
        target = "correspondence" if case.category == "complaint" else "complaint"
        set_category(
            session,
            case=case,
            category=target,
            actor="U_CW",
            settings=settings,
            label_text=label_text(session, case=case),
        )
        assert retrain(session, settings, force=True) is not None
    engine.dispose()


def test_retention_apply_removes_every_trace_and_keeps_the_figures(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _ingest(tmp_path, database_url, monkeypatch, capsys)
    zara = _case_of(database_url, ZARA)
    _label_and_retrain(database_url, zara)
    _close(database_url, zara, datetime(2013, 3, 20, 12, tzinfo=UTC))
    assert leftovers(database_bytes(database_url, tmp_path), ZARA_SECRETS) == ZARA_SECRETS  # it was all there
    before = stats_json(database_url, monkeypatch, capsys)

    review = json.loads(
        cli(
            ["retention", "review", "--as-of", "2019-03-20", "--json"], database_url, monkeypatch, capsys
        ).stdout
    )
    assert [d["reference"] for d in review["due"]] == [zara]
    assert review["due"][0]["expired_on"] == "2019-03-20" and review["due"][0]["period"] == "6y"
    assert (
        json.loads(
            cli(
                ["retention", "review", "--as-of", "2019-03-19", "--json"], database_url, monkeypatch, capsys
            ).stdout
        )["due"]
        == []
    )

    refused = cli_fail(["retention", "apply", "--as-of", "2019-03-20"], database_url, monkeypatch, capsys)
    assert "--yes" in refused
    done = json.loads(
        cli(
            ["retention", "apply", "--as-of", "2019-03-20", "--yes", "--json"],
            database_url,
            monkeypatch,
            capsys,
        ).stdout
    )
    assert done["anonymised"] == [zara]

    assert stats_json(database_url, monkeypatch, capsys) == before
    assert leftovers(database_bytes(database_url, tmp_path), ZARA_SECRETS) == []
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        case = get_case(session, zara)
        assert (
            case is not None
            and case.status == "closed"
            and case.subject == ""
            and case.working_days_taken is not None
        )
        kept = session.execute(
            select(AnonymisedCase).where(col(AnonymisedCase.case_id) == case.id)
        ).scalar_one()
        assert kept.participant_count == 1 and kept.reason == "retention"
        kinds = [
            e.kind
            for e in session.execute(select(CaseEvent).where(col(CaseEvent.case_id) == case.id)).scalars()
        ]
        assert kinds[0] == "created" and "status" in kinds and "category" in kinds  # the history stays
        assert (
            session.execute(
                select(func.count()).select_from(Message).where(col(Message.case_id) == case.id)
            ).scalar_one()
            == 0
        )
        trail = (
            session.execute(select(AuditEntry).where(col(AuditEntry.action) == "anonymised")).scalars().all()
        )
        assert [(a.case_reference, a.actor.startswith("cli:")) for a in trail] == [(zara, True)]
    engine.dispose()
    # a second run finds nothing more to do
    again = json.loads(
        cli(
            ["retention", "apply", "--as-of", "2030-01-01", "--yes", "--json"],
            database_url,
            monkeypatch,
            capsys,
        ).stdout
    )
    assert again["anonymised"] == []


def cli_fail(
    args: list[str], database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    from tests.support.cli import run_cli

    result = run_cli(args, database_url=database_url, monkeypatch=monkeypatch, capsys=capsys)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stderr


def test_a_held_case_is_listed_and_kept(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _ingest(tmp_path, database_url, monkeypatch, capsys)
    zara = _case_of(database_url, ZARA)
    _close(database_url, zara, datetime(2013, 3, 20, 12, tzinfo=UTC))
    assert "--reason" in cli_fail(["retention", "hold", zara], database_url, monkeypatch, capsys)
    cli(["retention", "hold", zara, "--reason", "civil claim pending"], database_url, monkeypatch, capsys)
    review = json.loads(
        cli(
            ["retention", "review", "--as-of", "2030-01-01", "--json"], database_url, monkeypatch, capsys
        ).stdout
    )
    assert [(d["reference"], d["on_hold"], d["hold_reason"]) for d in review["due"]] == [
        (zara, True, "civil claim pending")
    ]
    done = json.loads(
        cli(
            ["retention", "apply", "--as-of", "2030-01-01", "--yes", "--json"],
            database_url,
            monkeypatch,
            capsys,
        ).stdout
    )
    assert done["anonymised"] == [] and done["held"] == [zara]
    assert leftovers(database_bytes(database_url, tmp_path), ZARA_SECRETS[:1]) == ZARA_SECRETS[:1]
    cli(["retention", "release", zara], database_url, monkeypatch, capsys)
    done = json.loads(
        cli(
            ["retention", "apply", "--as-of", "2030-01-01", "--yes", "--json"],
            database_url,
            monkeypatch,
            capsys,
        ).stdout
    )
    assert done["anonymised"] == [zara]


def test_a_category_period_and_a_bad_period(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _ingest(tmp_path, database_url, monkeypatch, capsys)
    zara = _case_of(database_url, ZARA)
    _close(database_url, zara, datetime(2013, 3, 20, 12, tzinfo=UTC))
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        case = get_case(session, zara)
        assert case is not None
        category = case.category
    engine.dispose()
    env = {"CASEWORK_RETENTION": json.dumps({"default": "6y", category: "18m"})}
    from tests.support.cli import run_cli

    result = run_cli(
        ["retention", "review", "--as-of", "2014-09-20", "--json"],
        database_url=database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
        env=env,
    )
    assert result.exit_code == 0, result.stderr
    assert [(d["reference"], d["period"]) for d in json.loads(result.stdout)["due"]] == [(zara, "18m")]
    bad = run_cli(
        ["retention", "review"],
        database_url=database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
        env={"CASEWORK_RETENTION": '{"default": "six years"}'},
    )
    assert (
        bad.exit_code == 2 and "CASEWORK_RETENTION" in bad.stderr and "N followed by d, m or y" in bad.stderr
    )


def test_person_erase_in_a_campaign_removes_one_sender_and_keeps_the_others(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _ingest(tmp_path, database_url, monkeypatch, capsys)
    assert leftovers(database_bytes(database_url, tmp_path), QUENTIN_SECRETS) == QUENTIN_SECRETS
    before = stats_json(database_url, monkeypatch, capsys)
    assert "--yes" in cli_fail(["person", "erase", QUENTIN], database_url, monkeypatch, capsys)
    out = cli(["person", "erase", QUENTIN, "--yes"], database_url, monkeypatch, capsys).stdout
    assert "removed from 1 shared case" in out
    assert stats_json(database_url, monkeypatch, capsys) == before
    assert leftovers(database_bytes(database_url, tmp_path), QUENTIN_SECRETS) == []
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        senders = set(
            session.execute(
                select(col(Message.from_addr)).where(col(Message.from_addr).in_([*OTHERS, QUENTIN]))
            ).scalars()
        )
        assert senders == set(OTHERS)
        [campaign] = session.execute(select(Case).where(col(Case.category) == "campaign")).scalars().all()
        people = (
            session.execute(
                select(col(Correspondent.email))
                .join(CaseParticipant, col(CaseParticipant.correspondent_id) == col(Correspondent.id))
                .where(col(CaseParticipant.case_id) == campaign.id)
            )
            .scalars()
            .all()
        )
        assert sorted(people) == sorted(OTHERS) and campaign.subject == "Protect neighbourhood policing"
        assert session.execute(select(AnonymisedCase)).first() is None  # the campaign case was not anonymised
        assert (
            session.execute(select(Correspondent).where(col(Correspondent.email) == QUENTIN)).first() is None
        )
        trail = session.execute(select(AuditEntry).where(col(AuditEntry.action) == "erased")).scalars().all()
        assert [a.case_reference for a in trail] == [campaign.reference]
    engine.dispose()
    # asking again: nothing is held any more, said plainly
    assert "Nothing is held" in cli_fail(
        ["person", "erase", QUENTIN, "--yes"], database_url, monkeypatch, capsys
    )


def test_person_erase_of_a_sole_correspondent_anonymises_their_case(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _ingest(tmp_path, database_url, monkeypatch, capsys)
    zara = _case_of(database_url, ZARA)
    before = stats_json(database_url, monkeypatch, capsys)
    cli(["person", "erase", ZARA.upper(), "--yes"], database_url, monkeypatch, capsys)
    assert stats_json(database_url, monkeypatch, capsys) == before
    assert leftovers(database_bytes(database_url, tmp_path), ZARA_SECRETS) == []
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        case = get_case(session, zara)
        assert case is not None
        kept = session.execute(
            select(AnonymisedCase).where(col(AnonymisedCase.case_id) == case.id)
        ).scalar_one()
        assert kept.reason == "erasure" and kept.participant_count == 1
        assert (
            session.execute(
                select(func.count()).select_from(Message).where(col(Message.from_addr) == "bob@example.net")
            ).scalar_one()
            == 1
        )
    engine.dispose()
