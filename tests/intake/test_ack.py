"""Acknowledgements: queued with the case, sent over real SMTP (aiosmtpd), never to robots or ourselves."""

from __future__ import annotations

import email
import email.policy
import json
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select
from sqlmodel import Session

from casework.settings import Settings
from intake import smtp_sender
from store.cases import require_case
from store.models import OutboxItem
from tests.conftest import make_settings
from tests.support.cli import run_cli
from tests.support.intake_mail import CAMPAIGN_TEXT, TRUSTED_AUTHSERV_ID, later, make_pipeline
from tests.support.intake_mail import eml as unauthenticated_eml


def eml(**fields: Any) -> bytes:
    """Letters here come through the office's server, which authenticated the sender's domain."""
    return unauthenticated_eml(authenticated=True, **fields)


class Inbox:
    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.envelopes: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(list(envelope.rcpt_tos))
        self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def ack_settings(database_url: str, smtp_server: tuple[Inbox, int]) -> Settings:
    return make_settings(
        database_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server[1],
        smtp_from="casework@pcc.example.gov.uk",
        office_addresses=["opcc@pcc.example.gov.uk"],
        consultation_addresses=["consult@pcc.example.gov.uk"],
        office_name="Office of the West Midlands PCC",
        trusted_authserv_id=TRUSTED_AUTHSERV_ID,
    )


def acks(engine: Engine) -> list[OutboxItem]:
    with Session(engine) as session:
        return list(session.execute(select(OutboxItem).where(OutboxItem.kind == "email.ack")).scalars())  # type: ignore[arg-type]


def test_new_case_is_acknowledged_over_smtp_and_the_reply_threads_back(
    ack_settings: Settings, engine: Engine, smtp_server: tuple[Inbox, int]
) -> None:
    inbox = smtp_server[0]
    pipeline = make_pipeline(ack_settings, engine)
    opened = pipeline.process(eml(), source="a")
    reference = opened.case_reference
    assert reference
    [row] = acks(engine)
    assert row.key == f"ack:{reference}:alice@example.org" and row.target == "alice@example.org"
    assert smtp_sender.drain(ack_settings, engine) == 1
    assert smtp_sender.drain(ack_settings, engine) == 0  # sent once, recorded
    [sent] = inbox.received
    assert inbox.envelopes == [["alice@example.org"]]
    assert f"[{reference}]" in sent["Subject"]
    assert sent["Auto-Submitted"] == "auto-replied" and sent["In-Reply-To"] == "<m1@example.org>"
    with Session(engine) as session:
        case = require_case(session, reference)
        due = case.due_on.strftime("%-d %B %Y")
    body = sent.get_content()
    assert due in body and reference in body and "Alice Example" in body
    # the person replies to the acknowledgement: by its Message-ID or by the subject
    reply = eml(
        subject=f"Re: {sent['Subject']}",
        message_id="<r1@example.org>",
        in_reply_to=sent["Message-ID"],
        body="Thanks.\n",
        date=later(60),
    )
    assert pipeline.process(reply, source="a").case_reference == reference
    assert len(acks(engine)) == 1  # at most one per correspondent per case


@pytest.mark.parametrize(
    ("sender", "headers"),
    [
        ("Alice <alice@example.org>", {"Auto-Submitted": "auto-replied"}),  # automatic mail
        ("No Reply <noreply@campaigns.example.org>", {}),  # no-reply address
        ("Office <opcc@pcc.example.gov.uk>", {}),  # the office itself
        ("Consultation <consult@pcc.example.gov.uk>", {}),
        ("Casework <casework@pcc.example.gov.uk>", {}),  # CASEWORK_SMTP_FROM
    ],
)
def test_never_acknowledged(
    ack_settings: Settings, engine: Engine, sender: str, headers: dict[str, str]
) -> None:
    make_pipeline(ack_settings, engine).process(eml(sender=sender, headers=headers), source="a")
    assert acks(engine) == []


def test_off_without_smtp_settings(settings: Settings, engine: Engine) -> None:
    make_pipeline(settings, engine).process(eml(), source="a")
    assert acks(engine) == []


def test_each_campaign_sender_gets_one(ack_settings: Settings, engine: Engine) -> None:
    pipeline = make_pipeline(ack_settings, engine)
    for index, address in enumerate(["a@example.org", "b@example.org", "c@example.org", "d@example.org"]):
        pipeline.process(
            eml(
                sender=address,
                subject="Protect neighbourhood policing",
                body=CAMPAIGN_TEXT,
                message_id=f"<x{index}@example>",
                date=later(index),
            ),
            source="a",
        )
    assert sorted(row.target for row in acks(engine)) == [
        "a@example.org",
        "b@example.org",
        "c@example.org",
        "d@example.org",
    ]


def test_templates_are_editable_files(
    database_url: str, engine: Engine, smtp_server: tuple[Inbox, int], tmp_path: Path
) -> None:
    (tmp_path / "ack_subject.txt").write_text("We have your letter, ref {reference}\n")
    (tmp_path / "ack_body.txt").write_text("Hello {name}, due {due_on}.\n")
    settings = make_settings(
        database_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server[1],
        ack_template_dir=str(tmp_path),
        trusted_authserv_id=TRUSTED_AUTHSERV_ID,
    )
    make_pipeline(settings, engine).process(eml(), source="a")
    smtp_sender.drain(settings, engine)
    [sent] = smtp_server[0].received
    assert sent["Subject"].startswith("We have your letter, ref WMOPC-2013-")
    assert sent.get_content().startswith("Hello Alice Example, due ")


def test_broken_template_still_logs_the_case(
    database_url: str, engine: Engine, smtp_server: tuple[Inbox, int], tmp_path: Path
) -> None:
    (tmp_path / "ack_subject.txt").write_text("ref {reference} {unknown}\n")
    (tmp_path / "ack_body.txt").write_text("x\n")
    settings = make_settings(
        database_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server[1],
        ack_template_dir=str(tmp_path),
        trusted_authserv_id=TRUSTED_AUTHSERV_ID,
    )
    assert make_pipeline(settings, engine).process(eml(), source="a").kind == "opened"
    assert acks(engine) == []


def test_smtp_down_keeps_the_row_for_later(database_url: str, engine: Engine) -> None:
    settings = make_settings(
        database_url, smtp_host="127.0.0.1", smtp_port=free_port(), trusted_authserv_id=TRUSTED_AUTHSERV_ID
    )
    make_pipeline(settings, engine).process(eml(), source="a")
    assert smtp_sender.drain(settings, engine) == 0
    [row] = acks(engine)
    assert row.sent_at is None and row.last_error.startswith("connect:") and row.attempts == 1


def test_acks_send_command(
    ack_settings: Settings,
    engine: Engine,
    smtp_server: tuple[Inbox, int],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from casework.cli import main
    from casework.settings import get_settings

    make_pipeline(ack_settings, engine).process(eml(), source="a")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CASEWORK_DATABASE_URL", ack_settings.database_url)
    monkeypatch.setenv("CASEWORK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CASEWORK_SMTP_PORT", str(smtp_server[1]))
    get_settings.cache_clear()
    try:
        main(["acks", "send"])
    finally:
        get_settings.cache_clear()
    assert "sent 1 email(s)" in capsys.readouterr().out
    assert len(smtp_server[0].received) == 1


def test_the_service_sends_acknowledgements_by_itself(
    ack_settings: Settings, engine: Engine, smtp_server: tuple[Inbox, int]
) -> None:
    """``casework serve`` runs an acknowledgement sender: nobody has to run ``acks send``."""
    import threading
    import time

    from casework.commands.serve import _send_acks

    opened = make_pipeline(ack_settings, engine).process(eml(), source="a")
    stop = threading.Event()
    worker = threading.Thread(target=_send_acks, args=(ack_settings, engine, stop), kwargs={"every": 0.1})
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not smtp_server[0].received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(5)
    [message] = smtp_server[0].received
    assert opened.case_reference and opened.case_reference in message["Subject"]
    assert all(row.sent_at is not None for row in acks(engine))


@pytest.mark.parametrize(("flag", "expected"), [(None, 0), ("--ack", 1)])
def test_a_back_fill_acknowledges_only_when_asked(
    flag: str | None,
    expected: int,
    ack_settings: Settings,
    engine: Engine,
    smtp_server: tuple[Inbox, int],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``casework ingest`` back-fills old mail: writing to people about letters they sent long ago
    would alarm them, so acknowledgements are opt-in there (live intake always acknowledges)."""
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "one.eml").write_bytes(eml())
    smtp = {
        "CASEWORK_SMTP_HOST": "127.0.0.1",
        "CASEWORK_SMTP_PORT": str(smtp_server[1]),
        "CASEWORK_TRUSTED_AUTHSERV_ID": TRUSTED_AUTHSERV_ID,
    }
    args = ["ingest", str(folder), "--json", *([flag] if flag else [])]
    result = run_cli(
        args, database_url=ack_settings.database_url, monkeypatch=monkeypatch, capsys=capsys, env=smtp
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["opened"] == 1
    assert len(acks(engine)) == expected
