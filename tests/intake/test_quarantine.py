"""The quarantine: held with a reason, listed, retried, resolved — never dropped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from casework.cli import main
from casework.settings import Settings, get_settings
from intake import quarantine
from intake.steps import classify as classify_step
from store.models import Message, QuarantinedMessage
from tests.support.intake_mail import eml, make_pipeline


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CASEWORK_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_held_message_is_listed_then_resolved_by_retry(
    settings: Settings,
    engine: Engine,
    cli_env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    original = classify_step.run

    def broken(ctx: object) -> None:
        raise ValueError("classifier crashed")

    monkeypatch.setattr(classify_step, "run", broken)
    pipeline = make_pipeline(settings, engine)
    assert pipeline.process(eml(), source="imap:INBOX/42").kind == "quarantined"
    assert pipeline.process(eml(), source="imap:INBOX/42").kind == "quarantined"  # still one row

    main(["quarantine", "list", "--json"])
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 1
    assert listed[0]["source"] == "imap:INBOX/42" and "classifier crashed" in listed[0]["reason"]
    assert listed[0]["resolved_at"] is None

    main(["quarantine", "retry"])  # the bug is still there: stays held, retry counted
    assert "quarantined" in capsys.readouterr().out

    monkeypatch.setattr(classify_step, "run", original)  # the fix is deployed
    main(["quarantine", "retry", "--json"])
    retried = json.loads(capsys.readouterr().out)
    assert [r["kind"] for r in retried] == ["opened"]
    with Session(engine) as session:
        held = session.execute(select(QuarantinedMessage)).scalar_one()
        assert held.resolved_at is not None and held.retries == 2
        assert session.execute(select(Message)).scalar_one().source == "imap:INBOX/42"
    main(["quarantine", "list", "--json"])
    assert json.loads(capsys.readouterr().out) == []
    main(["quarantine", "list"])
    assert "empty" in capsys.readouterr().out


def test_hold_keeps_the_whole_raw_message(engine: Engine) -> None:
    raw = b"From: x@example.org\r\n\r\n" + bytes(range(256)) * 10
    pk = quarantine.hold(engine, raw=raw, reason="testing", source="s")
    with Session(engine) as session:
        assert session.get(QuarantinedMessage, pk).raw == raw  # type: ignore[union-attr]
