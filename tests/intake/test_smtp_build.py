"""The email sender builds any queued message from its payload alone (replies, invitations, acks)."""

from __future__ import annotations

import base64
from email import message_from_bytes, policy

from intake.smtp_sender import _with_kind, build
from tests.conftest import make_settings


def test_payload_with_thread_headers_and_attachments_builds_one_message() -> None:
    settings = make_settings("sqlite://", smtp_host="127.0.0.1", smtp_from="casework@office.example")
    payload = {
        "to": "jo@example.org",
        "cc": ["rep@example.org"],
        "subject": "Your letter [WMOPC-2026-000001]",
        "body": "Dear Jo,\n\nThank you.",
        "message_id": "<reply-1@office.example>",
        "in_reply_to": "<latest@example.org>",
        "references": ["<first@example.org>", "<latest@example.org>"],
        "headers": {"X-Casework-Reference": "WMOPC-2026-000001"},
        "attachments": [
            {"filename": "letter.pdf", "content_type": "application/pdf",
             "data_b64": base64.b64encode(b"%PDF-1.4 x").decode()},
            {"filename": "invite.ics", "content_type": "text/calendar; method=REQUEST",
             "data_b64": base64.b64encode(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n").decode()},
        ],
    }  # fmt: skip
    parsed = message_from_bytes(build(settings, payload).as_bytes(), policy=policy.default)
    assert parsed["From"] == "casework@office.example"
    assert parsed["Cc"] == "rep@example.org"
    assert parsed["In-Reply-To"] == "<latest@example.org>"
    assert parsed["References"] == "<first@example.org> <latest@example.org>"
    assert parsed["X-Casework-Reference"] == "WMOPC-2026-000001"
    assert parsed["Auto-Submitted"] is None  # a person's reply is not an automatic one
    parts = {part.get_filename(): part for part in parsed.iter_attachments()}
    assert parts["letter.pdf"].get_content() == b"%PDF-1.4 x"
    assert parts["invite.ics"].get_content_type() == "text/calendar"
    assert parts["invite.ics"].get_param("method") == "REQUEST"


def test_acknowledgements_are_marked_automatic_even_when_queued_without_the_flag() -> None:
    settings = make_settings("sqlite://", smtp_host="127.0.0.1")
    payload = {"to": "a@example.org", "subject": "s", "body": "b", "message_id": "<m@x>"}
    parsed = build(settings, _with_kind("email.ack", payload))
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert build(settings, _with_kind("email.reply", payload))["Auto-Submitted"] is None
