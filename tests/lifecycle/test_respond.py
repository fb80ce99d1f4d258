"""Dispatch: ``casework case respond`` delivers threaded replies to a real SMTP server (aiosmtpd).

Each reply's headers are parsed as the receiving server got them: From, To, the reference in
the subject, In-Reply-To/References to that person's latest message, the Message-ID the case
file records, the attached letter. A campaign case's every participant gets their own.
"""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select

from bot import queries
from casework.settings import Settings
from intake import smtp_sender
from store.cases import add_participant, get_or_create_correspondent, open_case
from store.db import session_scope
from store.models import Case, Message, OutboxItem
from tests.conftest import make_settings
from tests.support.cli import Result, run_cli
from tests.support.dovecot import Dovecot, dovecot_fixture, pipeline_for  # noqa: F401

RECEIVED = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


class Inbox:
    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.envelopes: list[list[str]] = []
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(list(envelope.rcpt_tos))
        self.raw.append(envelope.content)
        self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    from tests.intake.test_ack import free_port

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


ENV = {"CASEWORK_SMTP_HOST": "127.0.0.1", "CASEWORK_SMTP_FROM": "casework@opcc.example"}


def _env(port: int, **extra: str) -> dict[str, str]:
    return {**ENV, "CASEWORK_SMTP_PORT": str(port), **extra}


def _letter(session: Any, case: Case, person: Any, n: int, *, refs: list[str] | None = None) -> str:
    message_id = f"<letter-{n}@example.org>"
    session.add(
        Message(
            case_id=case.id,
            message_id=message_id,
            raw_sha256=f"{n:064d}",
            correspondent_id=person.id,
            from_addr=person.email,
            subject=case.subject,
            sent_at=RECEIVED + timedelta(minutes=n),
            received_at=RECEIVED + timedelta(minutes=n),
            references=refs or [],
            raw=b"x",
        )
    )
    return message_id


def _single_case(engine: Engine, settings: Settings) -> tuple[str, str]:
    with session_scope(engine) as session:
        ann = get_or_create_correspondent(session, email="ann@example.org", name="Ann Smith")
        case = open_case(
            session,
            settings=settings,
            category="complaint",
            received_at=RECEIVED,
            subject="Rude officer at the station",
            correspondent=ann,
        )
        _letter(session, case, ann, 1)
        latest = _letter(session, case, ann, 2, refs=["<letter-1@example.org>"])
        return case.reference, latest


def _cli(
    args: list[str],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
) -> Result:
    return run_cli(args, database_url=settings.database_url, monkeypatch=monkeypatch, capsys=capsys, env=env)


def test_respond_delivers_a_threaded_holding_reply_with_the_letter_attached(
    engine: Engine,
    settings: Settings,
    smtp: tuple[Inbox, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inbox, port = smtp
    reference, latest = _single_case(engine, settings)
    body = tmp_path / "reply.txt"
    body.write_text("Dear Ms Smith,\n\nWe are looking into your complaint.\n", encoding="utf-8")
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(b"%PDF-1.4 the office's letter")
    result = _cli(
        ["case", "respond", reference, "--body-file", str(body), "--attach", str(letter)],
        settings,
        monkeypatch,
        capsys,
        _env(port),
    )
    assert result.exit_code == 0, result.stderr
    assert "1 email(s) sent now" in result.stdout
    [sent] = inbox.received
    assert inbox.envelopes == [["ann@example.org"]]
    assert sent["From"] == "casework@opcc.example" and sent["To"] == "ann@example.org"
    assert reference in sent["Subject"] and sent["Subject"].startswith("Re:")
    assert sent["In-Reply-To"] == latest
    assert sent["References"].split() == ["<letter-1@example.org>", latest]
    assert "Auto-Submitted" not in sent  # a person's reply, not an automatic one
    assert "looking into your complaint" in sent.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    [part] = list(sent.iter_attachments())
    assert (part.get_filename(), part.get_content()) == ("letter.pdf", b"%PDF-1.4 the office's letter")
    with session_scope(engine) as session:  # the case file holds the very bytes that went out
        stored = session.execute(select(Message).where(Message.direction == "out")).scalar_one()
        assert inbox.raw == [stored.raw]
        row = session.execute(select(OutboxItem).where(OutboxItem.kind == "email.reply")).scalar_one()
        assert row.payload["message_pk"] == stored.id
        assert row.payload["attachments"] == [
            {"filename": "letter.pdf", "content_type": "application/pdf", "size": 28}
        ]

    shown = _cli(["case", "show", reference, "--json"], settings, monkeypatch, capsys, _env(port))
    record = json.loads(shown.stdout)
    assert list(record) == [
        "reference",
        "category",
        "status",
        "stage",
        "due_on",
        "received_at",
        "closed_at",
        "responded_at",
        "drafts",
        "messages",
        "events",
    ]
    assert (record["status"], record["responded_at"]) == ("open", None)  # a holding reply closes nothing
    out = [m for m in record["messages"] if m["direction"] == "out"]
    assert [(m["message_id"], m["to"]) for m in out] == [(sent["Message-ID"], ["ann@example.org"])]
    assert set(out[0]) == {"direction", "message_id", "at", "from", "to", "subject"}
    assert set(record["events"][0]) == {"at", "actor", "action", "from", "to", "note"}
    assert any(e["action"] == "outgoing" and e["note"] == "holding reply" for e in record["events"])


def test_a_final_reply_needs_signoff_then_closes_the_case(
    engine: Engine,
    settings: Settings,
    smtp: tuple[Inbox, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inbox, port = smtp
    reference, _latest = _single_case(engine, settings)
    env = _env(port, CASEWORK_APPROVERS="U0PCC")
    body = tmp_path / "reply.txt"
    body.write_text("Dear Ms Smith,\n\nYour complaint is upheld.\n", encoding="utf-8")
    refused = _cli(
        ["case", "respond", reference, "--body-file", str(body), "--final"],
        settings,
        monkeypatch,
        capsys,
        env,
    )
    assert refused.exit_code == 2 and "need sign-off" in refused.stderr
    assert inbox.received == []
    for args in (
        ["case", "draft", reference, "--body-file", str(body)],
        ["case", "request-signoff", reference],
        ["case", "approve", reference, "--as", "U0PCC"],
    ):
        step = _cli(args, settings, monkeypatch, capsys, env)
        assert step.exit_code == 0, step.stderr
    done = _cli(
        ["case", "respond", reference, "--body-file", str(body), "--final"],
        settings,
        monkeypatch,
        capsys,
        env,
    )
    assert done.exit_code == 0, done.stderr
    [sent] = inbox.received
    record = json.loads(
        _cli(["case", "show", reference, "--json"], settings, monkeypatch, capsys, env).stdout
    )
    assert (record["status"], record["stage"], record["drafts"]) == ("closed", "closed", 1)
    assert record["responded_at"] == record["closed_at"] is not None
    assert email.utils.parsedate_to_datetime(sent["Date"]) == datetime.fromisoformat(
        record["responded_at"]
    ).replace(microsecond=0)
    moves = [(e["from"], e["to"]) for e in record["events"] if e["action"] == "stage"]
    assert moves == [
        ("new", "drafting"),
        ("drafting", "awaiting_signoff"),
        ("awaiting_signoff", "ready_to_send"),
        ("ready_to_send", "closed"),
    ]


def test_a_campaign_case_answers_each_participant_individually(
    engine: Engine,
    settings: Settings,
    smtp: tuple[Inbox, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inbox, port = smtp
    with session_scope(engine) as session:
        people = [get_or_create_correspondent(session, email=f"p{i}@example.org") for i in range(3)]
        case = open_case(
            session,
            settings=settings,
            category="campaign",
            received_at=RECEIVED,
            subject="Save our police station",
            correspondent=people[0],
        )
        letters = {}
        for i, person in enumerate(people):
            add_participant(session, case=case, correspondent=person)
            letters[person.email] = _letter(session, case, person, 10 + i)
        reference = case.reference
    body = tmp_path / "reply.txt"
    body.write_text("Thank you for writing about the station.\n", encoding="utf-8")
    leaflet = tmp_path / "leaflet.pdf"
    leaflet.write_bytes(b"%PDF-1.4 " + bytes(range(256)) * 400)  # 100 KB
    env = _env(port, CASEWORK_SIGNOFF_CATEGORIES="complaint")
    result = _cli(
        ["case", "respond", reference, "--body-file", str(body), "--final", "--attach", str(leaflet)],
        settings,
        monkeypatch,
        capsys,
        env,
    )
    assert result.exit_code == 0, result.stderr
    assert sorted(inbox.envelopes) == [["p0@example.org"], ["p1@example.org"], ["p2@example.org"]]
    for sent in inbox.received:
        assert sent["In-Reply-To"] == letters[sent["To"]]  # each threaded on their own letter
        assert reference in sent["Subject"]
        [part] = list(sent.iter_attachments())
        assert part.get_content() == leaflet.read_bytes()
    assert len({sent["Message-ID"] for sent in inbox.received}) == 3
    with session_scope(engine) as session:
        outs = session.execute(select(Message.message_id).where(Message.direction == "out")).scalars().all()
        assert sorted(outs) == sorted(sent["Message-ID"] for sent in inbox.received)
        # the leaflet is in each recorded message, not a third time in each outbox row
        rows = session.execute(select(OutboxItem).where(OutboxItem.kind == "email.reply")).scalars().all()
        assert len(rows) == 3 and all(len(json.dumps(row.payload)) < 2000 for row in rows)
        # the Attachments modal offers the leaflet once, not once per participant
        campaign = session.execute(select(Case).where(Case.reference == reference)).scalar_one()
        sent_files = [c for c in queries.file_choices(session, case=campaign) if c.where.startswith("sent")]
        assert [(c.filename, c.where) for c in sent_files] == [("leaflet.pdf", "sent to 3 people")]


def test_a_reply_whose_record_was_deleted_is_not_sent(
    engine: Engine, settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    """Its case deleted before the SMTP server came back: nothing to send, said so on the row."""
    inbox, port = smtp
    cfg = make_settings(
        settings.database_url, smtp_host="127.0.0.1", smtp_port=port, smtp_from="casework@opcc.example"
    )
    reference, _latest = _single_case(engine, cfg)
    from store.lifecycle import queue_reply

    with session_scope(engine) as session:
        case = session.execute(select(Case).where(Case.reference == reference)).scalar_one()
        [message] = queue_reply(
            session, case=case, actor="U1", body="Holding reply", settings=cfg, final=False
        )
        session.delete(message)
    assert smtp_sender.drain(cfg, engine) == 0
    assert inbox.received == []
    with session_scope(engine) as session:
        row = session.execute(select(OutboxItem).where(OutboxItem.kind == "email.reply")).scalar_one()
        assert row.sent_at is not None and "no longer stored" in row.result["skipped"]


def test_a_crash_between_send_and_record_never_sends_twice(
    engine: Engine, settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    """A claim left in flight is sent again only when the reply is not in the Sent folder."""
    inbox, port = smtp
    cfg = make_settings(
        settings.database_url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="casework@opcc.example",
        signoff_categories="none",
    )
    reference, _latest = _single_case(engine, cfg)
    from store.lifecycle import queue_reply

    with session_scope(engine) as session:
        case = session.execute(select(Case).where(Case.reference == reference)).scalar_one()
        [message] = queue_reply(
            session, case=case, actor="U1", body="Holding reply", settings=cfg, final=False
        )
        message_id = message.message_id

    def crash_mid_send() -> None:  # the state a crash after SMTP accepted the message leaves
        with session_scope(engine) as session:
            row = session.execute(select(OutboxItem).where(OutboxItem.kind == "email.reply")).scalar_one()
            row.result = {"in_flight": "2026-11-20T10:00:00+00:00"}
            row.claimed_until = None
            row.sent_at = None

    # no Sent folder to ask: sent again, with the same Message-ID (receivers see one message)
    crash_mid_send()
    assert smtp_sender.drain(cfg, engine) == 1
    assert [m["Message-ID"] for m in inbox.received] == [message_id]


def test_a_reply_found_in_the_sent_folder_is_never_sent_again(
    engine: Engine, settings: Settings, smtp: tuple[Inbox, int], dovecot: Dovecot
) -> None:
    """The in-flight claim is checked against a real Sent folder; a poll of Sent confirms the send."""
    inbox, port = smtp
    with dovecot.client() as client:
        client.create_folder("Sent")
    cfg = dovecot.settings(
        settings.database_url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        imap_idle=False,
        smtp_from="casework@opcc.example",
        signoff_categories="none",
        imap_sent_folder="Sent",
    )
    reference, _latest = _single_case(engine, cfg)
    from store.lifecycle import queue_reply
    from store.mail import render

    with session_scope(engine) as session:
        case = session.execute(select(Case).where(Case.reference == reference)).scalar_one()
        first, second = (
            queue_reply(session, case=case, actor="U1", body=text, settings=cfg, final=False)[0].message_id
            for text in ("First holding reply", "Second holding reply")
        )
        rows = {r.payload["message_id"]: r for r in session.execute(select(OutboxItem)).scalars()}
        # the server filed both in Sent (as Exchange does), then casework died before recording either
        for message_id in (first, second):
            dovecot.append(render(cfg, rows[message_id].payload), folder="Sent")
        rows[first].result = {"in_flight": "2026-11-20T10:00:00+00:00"}
        rows[first].attempts = 1

    def due(message_id: str, when: datetime) -> None:
        with session_scope(engine) as session:
            table = OutboxItem.__table__  # type: ignore[attr-defined]
            session.execute(
                table.update().where(table.c.key == f"reply:{message_id}").values(next_attempt_at=when)
            )

    # the first, left in flight: the sender asks the Sent folder, finds it, records it unsent
    due(second, datetime(2100, 1, 1, tzinfo=UTC))
    assert smtp_sender.drain(cfg, engine) == 0
    # the second: the poller reads Sent and recognises casework's own reply, recording it sent
    from intake.poller import poll_once

    pipeline = pipeline_for(cfg, engine)
    try:
        summary = poll_once(cfg, engine, pipeline=pipeline)
    finally:
        pipeline.close()
    assert (summary["duplicates"], summary["outgoing"], summary["opened"]) == (2, 0, 0)
    due(second, datetime(2000, 1, 1, tzinfo=UTC))
    assert smtp_sender.drain(cfg, engine) == 0
    assert inbox.received == []
    with session_scope(engine) as session:
        results = {r.payload["message_id"]: r.result for r in session.execute(select(OutboxItem)).scalars()}
        assert results[first]["confirmed_by"] == "Sent folder"
        assert results[second]["confirmed_by"] == "Sent folder"
        assert len(session.execute(select(Message.id).where(Message.direction == "out")).all()) == 2


def test_case_move_and_note_from_the_cli_and_a_refused_move_changes_nothing(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reference, _latest = _single_case(engine, settings)
    env: dict[str, str] = {}
    moved = _cli(
        ["case", "move", reference, "with_force", "--note", "asked the force"],
        settings,
        monkeypatch,
        capsys,
        env,
    )
    assert moved.exit_code == 0 and "with the force for comment (in_progress)" in moved.stdout
    refused = _cli(["case", "move", reference, "ready_to_send"], settings, monkeypatch, capsys, env)
    assert refused.exit_code == 2 and "Traceback" not in refused.stderr
    assert "cannot move" in refused.stderr and "drafting" in refused.stderr  # says where it can go
    noted = _cli(
        ["case", "note", reference, "Rang Ms Smith", "--actor", "cli:jo"], settings, monkeypatch, capsys, env
    )
    assert noted.exit_code == 0
    record = json.loads(
        _cli(["case", "show", reference, "--json"], settings, monkeypatch, capsys, env).stdout
    )
    assert record["stage"] == "with_force" and record["status"] == "in_progress"
    assert [
        (e["action"], e["actor"], e["note"]) for e in record["events"] if e["action"] in ("stage", "note")
    ] == [
        ("stage", "cli:" + __import__("getpass").getuser(), "asked the force"),
        ("note", "cli:jo", "Rang Ms Smith"),
    ]
