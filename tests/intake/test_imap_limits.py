"""Oversized mail against a real Dovecot: its size is asked first and its body never fetched.

The review found every fetch pulled whole messages with no size check. A message over
``CASEWORK_MAX_MESSAGE_BYTES`` is now logged as a case from its header alone, with a note
saying to open it in the mailbox, and marked like any other.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from casework.settings import Settings
from intake.poller import poll_once
from intake.sources.imap import TOO_LARGE_NOTE
from store.db import session_scope
from store.models import Attachment, Message
from tests.support.dovecot import Dovecot, dovecot_fixture, make_message, pipeline_for  # noqa: F401

pytestmark = pytest.mark.dovecot


def test_mail_over_the_size_limit_is_logged_from_its_header_without_its_body(
    dovecot: Dovecot, settings: Settings, engine: Engine
) -> None:
    big = (
        b"From: Big Sender <big@example.org>\r\nTo: casework@opcc.example\r\nSubject: My photos\r\n"
        b"Date: Mon, 01 Jul 2013 10:00:00 +0100\r\nMessage-ID: <big-1@example.org>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed;\r\n boundary="B"\r\n\r\n--B\r\n'
        b"Content-Type: text/plain\r\n\r\nSECRET-BODY-WORDS\r\n--B\r\n"
        b"Content-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b"QUFB\r\n" * 40_000 + b"--B--\r\n"
    )
    dovecot.deliver(big)
    dovecot.deliver(make_message(1, tag="small"))
    cfg = dovecot.settings(settings.database_url, max_message_bytes=100_000)
    summary = poll_once(cfg, engine, pipeline=pipeline_for(cfg, engine))
    assert summary["read"] == 2
    with session_scope(engine) as session:
        rows = {m.message_id: m for m in session.scalars(select(Message))}
        attachments = list(session.scalars(select(Attachment)))
        big_row = rows["<big-1@example.org>"]
        assert big_row.case_id is not None  # a case, with the sender and subject from the header
        assert big_row.from_addr == "big@example.org" and big_row.subject == "My photos"
        assert TOO_LARGE_NOTE in big_row.body_text and "SECRET-BODY-WORDS" not in big_row.body_text
        assert len(big_row.raw) < 2_000  # the body was never downloaded
        assert not attachments
        assert "small-1" in " ".join(rows)
    # marked like any other: a second pass reads nothing
    assert poll_once(cfg, engine, pipeline=pipeline_for(cfg, engine))["read"] == 0
