"""Replies sent from elsewhere, captured from a real Dovecot's Sent folder and inbox copies.

The issue's Done-when items: a reply in Sent with In-Reply-To the letter (no reference in
its subject) gives responded_at = its Date and, with CASEWORK_CLOSE_ON_RESPONSE=always,
closes the case on that date; the correspondent's answer re-opens the same case; a Bcc copy
from an office address opens no case. Reading the folders twice records nothing twice.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select

from casework.settings import Settings
from intake.poller import poll_once
from store.cases import get_case
from store.db import session_scope
from store.models import Case, MailboxState, Message, OutboxItem, QuarantinedMessage
from tests.support.dovecot import Dovecot, dovecot_fixture, pipeline_for  # noqa: F401

pytestmark = pytest.mark.dovecot

OFFICE = "caseworker@opcc.example"
LETTER_ID = "<letter-77@example.org>"
REPLY_ID = "<outlook-reply-1@opcc.example>"
REPLY_DATE = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)


def letter(
    *,
    message_id: str = LETTER_ID,
    sender: str = "jo.bloggs@example.org",
    subject: str = "Potholes",
    in_reply_to: str | None = None,
    date: str = "Mon, 16 Nov 2026 09:00:00 +0000",
) -> bytes:
    threading = f"In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n" if in_reply_to else ""
    return (
        f"From: Jo Bloggs <{sender}>\r\nTo: casework@opcc.example\r\nSubject: {subject}\r\n"
        f"Date: {date}\r\nMessage-ID: {message_id}\r\n{threading}"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Dear Commissioner,\r\n\r\nThe potholes on Mill Lane are getting worse every week and a\r\n"
        "cyclist was hurt there on Friday. Please ask the council to act.\r\n\r\nJo Bloggs\r\n"
    ).encode()


def reply(
    *,
    to: str = "jo.bloggs@example.org",
    subject: str = "Re: Potholes",
    message_id: str = REPLY_ID,
    in_reply_to: str | None = LETTER_ID,
    sender: str = OFFICE,
    extra: str = "",
) -> bytes:
    threading = f"In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n" if in_reply_to else ""
    return (
        f"From: PCC Office <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        "Date: Fri, 20 Nov 2026 14:30:00 +0000\r\n"
        f"Message-ID: {message_id}\r\n{threading}{extra}"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Dear Jo,\r\n\r\nThe Commissioner has raised Mill Lane with the council, who will repair\r\n"
        "it this month.\r\n\r\nPCC Office\r\n"
    ).encode()


def _cfg(dovecot: Dovecot, settings: Settings, **extra: object) -> Settings:
    with dovecot.client() as client:
        if not client.folder_exists("Sent"):
            client.create_folder("Sent")
    values: dict[str, object] = {"imap_sent_folder": "Sent", "office_addresses": [OFFICE], "imap_idle": False}
    values.update(extra)
    return dovecot.settings(settings.database_url, **values)


def _poll(cfg: Settings, engine: Engine) -> dict[str, int]:
    pipeline = pipeline_for(cfg, engine)
    try:
        return poll_once(cfg, engine, pipeline=pipeline)
    finally:
        pipeline.close()


def _case_of(engine: Engine, message_id: str) -> Case:
    with session_scope(engine) as session:
        case_id = session.execute(
            select(Message.case_id).where(Message.message_id == message_id)
        ).scalar_one()
        case = session.get(Case, case_id)
        assert case is not None
        session.expunge(case)
        return case


def _count(engine: Engine, model: type, *where: object) -> int:
    with session_scope(engine) as session:
        return int(session.execute(select(func.count()).select_from(model).where(*where)).scalar_one())  # type: ignore[arg-type]


def test_reply_in_sent_sets_responded_at_closes_on_its_date_and_the_answer_reopens(
    dovecot: Dovecot,
    settings: Settings,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cfg = _cfg(dovecot, settings, close_on_response="always")
    dovecot.deliver(letter())
    assert _poll(cfg, engine)["opened"] == 1
    dovecot.append(reply(), folder="Sent")  # sent from Outlook: no reference in the subject

    summary = _poll(cfg, engine)
    assert summary["outgoing"] == 1 and summary["opened"] == 0
    case = _case_of(engine, LETTER_ID)
    assert case.responded_at == REPLY_DATE
    assert (case.status, case.stage, case.closed_at, str(case.closed_on)) == (
        "closed",
        "closed",
        REPLY_DATE,
        "2026-11-20",
    )
    with session_scope(engine) as session:
        out = session.execute(select(Message).where(Message.direction == "out")).scalar_one()
        assert (out.case_id, out.message_id, out.sent_at) == (case.id, REPLY_ID, REPLY_DATE)

    # the Sent folder read again from the start (flags gone, position lost): nothing doubles
    with dovecot.client() as client:
        client.select_folder("Sent")
        client.remove_flags(client.search(["ALL"]), [cfg.imap_processed_flag.encode()])
    with session_scope(engine) as session:
        session.execute(MailboxState.__table__.delete())  # type: ignore[attr-defined]
    again = _poll(cfg, engine)
    assert (again["read"], again["duplicates"], again["outgoing"]) == (1, 1, 0)
    assert _count(engine, Message, Message.direction == "out") == 1

    # the correspondent answers the captured reply: the same case, re-opened
    dovecot.deliver(
        letter(
            message_id="<answer-1@example.org>",
            subject="Re: Re: Potholes",
            in_reply_to=REPLY_ID,
            date="Mon, 23 Nov 2026 08:00:00 +0000",
        )
    )
    assert _poll(cfg, engine)["attached"] == 1
    assert _case_of(engine, "<answer-1@example.org>").id == case.id
    reopened = _case_of(engine, LETTER_ID)
    assert (reopened.status, reopened.stage, reopened.closed_at) == ("open", "new", None)
    assert reopened.responded_at == REPLY_DATE  # the first final reply's time stays
    assert _count(engine, Case) == 1

    # the case file: the letter, the captured reply (at its Date), the answer, in that order
    import json

    from tests.support.cli import run_cli

    shown = run_cli(
        ["case", "show", reopened.reference, "--json"],
        database_url=cfg.database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    record = json.loads(shown.stdout)
    assert [(m["direction"], m["message_id"]) for m in record["messages"]] == [
        ("in", LETTER_ID),
        ("out", REPLY_ID),
        ("in", "<answer-1@example.org>"),
    ]
    assert record["messages"][1]["at"] == REPLY_DATE.isoformat()
    assert record["responded_at"] == REPLY_DATE.isoformat() and record["closed_at"] is None


def test_a_bcc_copy_from_an_office_address_opens_no_case(
    dovecot: Dovecot, settings: Settings, engine: Engine
) -> None:
    cfg = _cfg(dovecot, settings, close_on_response="never")
    # a caseworker's Bcc to the casework mailbox, to someone with no case: no case, quarantined with why
    dovecot.deliver(
        reply(
            to="stranger@example.net",
            in_reply_to=None,
            message_id="<bcc-1@opcc.example>",
            subject="Your enquiry",
        )
    )
    summary = _poll(cfg, engine)
    assert (summary["opened"], summary["quarantined"]) == (0, 1)
    assert _count(engine, Case) == 0
    with session_scope(engine) as session:
        held = session.execute(select(QuarantinedMessage)).scalar_one()
        assert "matches no case" in held.reason and "office address" in held.reason

    # with a case for the recipient, the same kind of copy is recorded on it (only open case)
    dovecot.deliver(letter())
    _poll(cfg, engine)
    dovecot.deliver(reply(in_reply_to=None, message_id="<bcc-2@opcc.example>", subject="About your letter"))
    summary = _poll(cfg, engine)
    assert (summary["opened"], summary["outgoing"]) == (0, 1)
    case = _case_of(engine, "<bcc-2@opcc.example>")
    assert case.id == _case_of(engine, LETTER_ID).id
    assert (case.status, case.responded_at) == ("open", None)  # never: only recorded
    assert _count(engine, Case) == 1

    # the stranger writes in; retrying the quarantine now finds their only open case
    from intake import quarantine

    dovecot.deliver(letter(message_id="<stranger-1@example.net>", sender="stranger@example.net"))
    assert _poll(cfg, engine)["opened"] == 1
    pipeline = pipeline_for(cfg, engine)
    try:
        [(_pk, outcome)] = quarantine.retry(pipeline, engine)
    finally:
        pipeline.close()
    assert outcome.kind == "outgoing"
    assert _case_of(engine, "<bcc-1@opcc.example>").id == _case_of(engine, "<stranger-1@example.net>").id
    assert _count(engine, QuarantinedMessage, QuarantinedMessage.resolved_at.is_(None)) == 0  # type: ignore[union-attr]


def test_ask_puts_a_close_prompt_in_the_outbox_and_unmatched_sent_mail_is_quarantined(
    dovecot: Dovecot, settings: Settings, engine: Engine
) -> None:
    cfg = _cfg(dovecot, settings)  # close_on_response defaults to ask
    assert cfg.close_on_response == "ask"
    dovecot.deliver(letter())
    _poll(cfg, engine)
    with session_scope(engine) as session:
        reference = session.execute(select(Case.reference)).scalar_one()
    # matched by the reference in its subject, sent to someone else entirely
    dovecot.append(
        reply(to="council@example.gov.uk", in_reply_to=None, subject=f"Mill Lane [{reference}]"),
        folder="Sent",
    )
    dovecot.append(
        reply(
            to="nobody@example.com",
            in_reply_to=None,
            message_id="<other@opcc.example>",
            subject="Lunch on Friday?",
        ),
        folder="Sent",
    )
    summary = _poll(cfg, engine)
    assert (summary["outgoing"], summary["quarantined"], summary["opened"]) == (1, 1, 0)
    with session_scope(engine) as session:
        case = get_case(session, reference)
        assert case is not None and case.status == "open" and case.responded_at is None
        prompt = session.execute(
            select(OutboxItem).where(OutboxItem.kind == "slack.close_prompt")
        ).scalar_one()
        out = session.execute(select(Message).where(Message.direction == "out")).scalar_one()
        assert prompt.payload == {"reference": reference, "message_pk": out.id, "sent_on": "2026-11-20"}
        held = session.execute(select(QuarantinedMessage)).scalar_one()
        assert "Sent folder" in held.reason

        from store.lifecycle import close_on_response

        assert close_on_response(session, case=case, message_pk=out.id, actor="U1", settings=cfg)
        assert (case.closed_at, case.responded_at) == (REPLY_DATE, REPLY_DATE)
        assert not close_on_response(session, case=case, message_pk=out.id, actor="U1", settings=cfg)


def test_a_case_closed_by_hand_before_its_reply_was_seen_counts_the_replys_date(
    dovecot: Dovecot, settings: Settings, engine: Engine
) -> None:
    """The closure-time tables count the date the final reply went out, not the click."""
    from datetime import date

    from store.cases import set_status
    from store.stats import closure_table

    cfg = _cfg(dovecot, settings, close_on_response="always")
    dovecot.deliver(letter())
    _poll(cfg, engine)
    with session_scope(engine) as session:
        case = session.execute(select(Case)).scalar_one()
        # *Closed — response sent* clicked on 1 December; the reply itself went on 20 November
        set_status(
            session,
            case=case,
            status="closed",
            actor="U1",
            settings=cfg,
            at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        )
    dovecot.append(reply(), folder="Sent")
    assert _poll(cfg, engine)["outgoing"] == 1
    with session_scope(engine) as session:
        case = session.execute(select(Case)).scalar_one()
        assert (case.closed_at, case.responded_at, case.days_taken) == (REPLY_DATE, REPLY_DATE, 4)
        table = closure_table(
            session, start=date(2026, 11, 1), end=date(2026, 12, 31), as_of=date(2026, 12, 31), aged_days=28
        )
        by_month = {row["month"]: row["closed"] for row in table}
        assert (by_month["2026-11"], by_month["2026-12"]) == (1, 0)


def test_the_running_poller_reads_the_sent_folder_too(
    dovecot: Dovecot, settings: Settings, engine: Engine
) -> None:
    """``casework poll`` (the long-running loop, polling) records a reply placed in Sent meanwhile."""
    import threading
    import time

    from intake.poller import run

    cfg = _cfg(dovecot, settings, close_on_response="never", imap_poll_seconds=1)
    dovecot.deliver(letter())
    stop = threading.Event()
    pipeline = pipeline_for(cfg, engine)
    thread = threading.Thread(
        target=run, args=(cfg, engine, stop), kwargs={"pipeline": pipeline}, daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while _count(engine, Case) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        dovecot.append(reply(), folder="Sent")
        while _count(engine, Message, Message.direction == "out") == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=15)
        pipeline.close()
    assert _count(engine, Message, Message.direction == "out") == 1
    assert _case_of(engine, REPLY_ID).id == _case_of(engine, LETTER_ID).id
