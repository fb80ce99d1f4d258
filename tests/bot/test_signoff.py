"""Drafting, sign-off and dispatch from signed Slack requests, end to end: the draft modal, Request
sign-off, the approvers' DMs (a user and a user group's member), Approve or Return for redraft
(with its reason), Send, and the reply delivered by the SMTP sender to a real SMTP server."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from slack_sdk import WebClient
from sqlalchemy import select

from bot import case_file, triage
from bot.sender import OutboxSender
from intake import smtp_sender
from store import lifecycle
from store.cases import get_case, history
from store.db import session_scope
from store.models import Draft, Message, OutboxItem
from store.types import utcnow
from tests.bot.case_file_support import (
    APPROVER,
    GROUP_APPROVER,
    action_ids,
    button,
    click,
    errors_of,
    post_blocks,
    posted_case,
    responses_to,
    running_bot,
    sender,
    submit,
    wait_view,
)
from tests.bot.conftest import CASEWORKER, OUTSIDER, RunningBot
from tests.support.slack_api import Call, FakeSlackAPI

FROM = "casework@pcc.example.gov.uk"


class Inbox:
    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.envelopes: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(list(envelope.rcpt_tos))
        self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def bot(database_url: str, api: FakeSlackAPI, smtp: tuple[Inbox, int]) -> Iterator[RunningBot]:
    with running_bot(database_url, api, smtp_host="127.0.0.1", smtp_port=smtp[1], smtp_from=FROM) as running:
        yield running


def _latest_post(bot: RunningBot, count: int) -> list[dict[str, Any]]:
    """The triage post as the ``count``-th redraw left it."""
    return post_blocks(bot.api.wait_for("chat.update", count)[count - 1])


def _dms(bot: RunningBot) -> dict[str, Call]:
    return {
        str(c.body["channel"]): c
        for c in bot.api.of("chat.postMessage")
        if str(c.body["channel"]).startswith("D")
    }


def _dm_updates(bot: RunningBot, count: int) -> list[Call]:
    """The rewrites of approvers' DMs, once ``count`` of them were made."""
    deadline = time.monotonic() + 10
    while True:
        found = [c for c in bot.api.of("chat.update") if str(c.body["channel"]).startswith("D")]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def _drafted(bot: RunningBot, text: str) -> tuple[str, str, str]:
    """A posted case whose reply was drafted through the modal: (reference, channel, ts)."""
    ref, channel, ts = posted_case(bot)
    click(bot, button(post_blocks(bot.api.of("chat.postMessage")[0]), "case_draft"), channel=channel, ts=ts)
    view = wait_view(bot)
    assert view["callback_id"] == "case_draft"
    prefilled = str(view["blocks"])
    assert "Jane Public" in prefilled and ref in prefilled  # the template's placeholders, filled
    assert errors_of(submit(bot, view, {"body_1": text})) == {}
    return ref, channel, ts


def _request(bot: RunningBot, channel: str, ts: str, redraw: int) -> None:
    post = _latest_post(bot, redraw)
    assert "case_request_signoff" in action_ids(post)
    click(bot, button(post, "case_request_signoff"), channel=channel, ts=ts)


def _case(bot: RunningBot, ref: str) -> Any:
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None
        session.expunge(case)
        return case


def test_draft_signoff_send_end_to_end_delivers_a_threaded_reply(
    bot: RunningBot, smtp: tuple[Inbox, int]
) -> None:
    inbox = smtp[0]
    text = "Dear Ms Public,\n\nThank you for writing about Bristol Road. The force will run speed checks.\n"
    ref, channel, ts = _drafted(bot, text)
    assert _case(bot, ref).stage == "drafting"
    _request(bot, channel, ts, 1)
    _latest_post(bot, 2)
    assert _case(bot, ref).stage == "awaiting_signoff"

    # the sender DMs each approver: the user, and the user group's member
    assert sender(bot).drain_once() == 2
    dms = _dms(bot)
    assert set(dms) == {"D_APP", "D_APP2"}
    assert {c.body["users"] for c in bot.api.of("conversations.open")} == {APPROVER, GROUP_APPROVER}
    dm_blocks = post_blocks(dms["D_APP"])
    assert "The force will run speed checks." in str(dm_blocks)
    assert {"signoff_approve", "signoff_return"} <= set(action_ids(dm_blocks))

    # a caseworker who is not an approver cannot approve
    approve = button(dm_blocks, "signoff_approve")
    click(bot, approve, user=CASEWORKER, channel="D_APP", ts="5.5")
    bot.api.wait_for("/response/action")
    assert "only the approvers" in responses_to(bot)[0]["text"]
    assert _case(bot, ref).stage == "awaiting_signoff"

    click(bot, approve, user=APPROVER, channel="D_APP", ts="5.5")
    rewritten = _dm_updates(bot, 2)
    assert {c.body["channel"] for c in rewritten} == {"D_APP", "D_APP2"}  # every approver's copy
    assert all("approved" in str(c.body["blocks"]) for c in rewritten)
    bot.api.wait_for("chat.update", 5)  # then the triage post is redrawn
    assert _case(bot, ref).stage == "ready_to_send"

    # the office's signed letter, posted in the case's thread, goes with the reply
    letter_pdf = b"%PDF-1.4 signed letter from the Commissioner"
    shared = bot.api.add_file("F_SIGNED", "signed-letter.pdf", letter_pdf)
    bot.event(
        {
            "type": "message",
            "subtype": "file_share",
            "channel": channel,
            "user": CASEWORKER,
            "text": "",
            "ts": "1700000500.0",
            "thread_ts": ts,
            "files": [shared],
        }
    )
    assert "signed-letter.pdf is attached" in bot.api.wait_for("chat.postEphemeral")[0].body["text"]
    bot.api.wait_for("chat.update", 6)  # the post lists the file for the reply

    post = post_blocks([c for c in bot.api.of("chat.update") if c.body["channel"] == channel][-1])
    assert "case_send_final" in action_ids(post)
    with session_scope(bot.engine) as session:
        found = get_case(session, ref)
        assert found is not None
        rendered = triage.render(session, reference=ref, settings=bot.settings, today=found.received_on)
    assert rendered is not None and "With the next reply: 1 file" in str(rendered[1])
    click(bot, button(post, "case_send_final"), channel=channel, ts=ts)
    bot.api.wait_for("chat.update", 7)
    with session_scope(bot.engine) as session:
        row = session.execute(select(OutboxItem).where(OutboxItem.kind == "email.reply")).scalar_one()
        reply = session.execute(select(Message).where(Message.direction == "out")).scalar_one()
        letter = session.execute(select(Message).where(Message.direction == "in")).scalars().first()
        assert letter is not None
        draft = session.execute(select(Draft)).scalar_one()
        assert draft.state == "sent" and draft.decided_by == APPROVER
        case = get_case(session, ref)
        assert case is not None and case.status == "closed" and case.responded_at is not None
        kinds = [(e.kind, e.actor, e.new_value) for e in history(session, case=case)]
    assert row.payload["to"] == "jane@example.org"
    assert ("signoff", APPROVER, "approved") in kinds and ("signoff", CASEWORKER, "requested") in kinds

    # the last hop: the SMTP sender delivers it to a real SMTP server, threaded on the letter
    assert smtp_sender.drain(bot.settings, bot.engine) == 1
    (message,) = inbox.received
    assert inbox.envelopes == [["jane@example.org"]]
    assert message["From"].addresses[0].addr_spec == FROM
    assert message["To"].addresses[0].addr_spec == "jane@example.org"
    assert ref in message["Subject"]
    assert message["Message-ID"] == reply.message_id
    assert message["In-Reply-To"] == letter.message_id
    assert letter.message_id in str(message["References"])
    assert "The force will run speed checks." in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    (attached,) = list(message.iter_attachments())
    assert attached.get_filename() == "signed-letter.pdf" and attached.get_content() == letter_pdf
    assert smtp_sender.drain(bot.settings, bot.engine) == 0  # sent once


def test_return_for_redraft_needs_a_reason_and_the_next_draft_shows_it(bot: RunningBot) -> None:
    ref, channel, ts = _drafted(bot, "Dear Ms Public,\nNo.\n")
    _request(bot, channel, ts, 1)
    bot.api.wait_for("chat.update", 2)
    assert sender(bot).drain_once() == 2
    dm_blocks = post_blocks(_dms(bot)["D_APP2"])
    # the group's member returns it: a reason modal opens
    click(bot, button(dm_blocks, "signoff_return"), user=GROUP_APPROVER, channel="D_APP2", ts="6.6")
    view = wait_view(bot, 2)
    assert view["callback_id"] == "signoff_return"
    assert "reason" in errors_of(submit(bot, view, {"reason": "  "}, user=GROUP_APPROVER))
    assert _case(bot, ref).stage == "awaiting_signoff"
    # someone who is not an approver cannot submit it either
    refused = errors_of(submit(bot, view, {"reason": "looks bad"}, user=CASEWORKER))
    assert "only the approvers" in refused["reason"]
    assert (
        errors_of(submit(bot, view, {"reason": "Apologise for the delay first."}, user=GROUP_APPROVER)) == {}
    )
    case = _case(bot, ref)
    assert case.stage == "drafting"
    with session_scope(bot.engine) as session:
        draft = session.execute(select(Draft)).scalar_one()
        assert (draft.state, draft.decided_by, draft.decision_note) == (
            "returned",
            GROUP_APPROVER,
            "Apologise for the delay first.",
        )
        found = get_case(session, ref)
        assert found is not None
        moves = [
            (e.old_value, e.new_value, e.note) for e in history(session, case=found) if e.kind == "stage"
        ]
    assert moves[-1] == ("awaiting_signoff", "drafting", "Apologise for the delay first.")
    rewritten = _dm_updates(bot, 2)
    assert {c.body["channel"] for c in rewritten} == {"D_APP", "D_APP2"}
    assert "returned for redraft" in str(rewritten[0].body["blocks"])
    bot.api.wait_for("chat.update", 5)  # and the triage post
    # the caseworker's Draft reply starts from the returned text and shows why
    post = post_blocks([c for c in bot.api.of("chat.update") if c.body["channel"] == channel][-1])
    click(bot, button(post, "case_draft"), channel=channel, ts=ts)
    again = wait_view(bot, 3)
    assert "Apologise for the delay first." in str(again) and "No." in str(again)
    assert errors_of(submit(bot, again, {"body_1": "Dear Ms Public,\nSorry for the delay. No.\n"})) == {}
    assert _case(bot, ref).drafts == 2


def test_a_signoff_dm_decided_before_it_was_sent_is_skipped(bot: RunningBot) -> None:
    ref, channel, ts = _drafted(bot, "Dear Ms Public,\nYes.\n")
    _request(bot, channel, ts, 1)
    bot.api.wait_for("chat.update", 2)
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None
        lifecycle.approve(session, case=case, actor=APPROVER, settings=bot.settings)
    assert sender(bot).drain_once() == 0
    assert _dms(bot) == {}
    with session_scope(bot.engine) as session:
        rows = session.execute(select(OutboxItem).where(OutboxItem.kind == "slack.signoff")).scalars().all()
        assert len(rows) == 2 and all(r.sent_at is not None and "skipped" in r.result for r in rows)


def test_a_draft_longer_than_one_input_is_edited_in_parts_and_saved_whole(bot: RunningBot) -> None:
    ref, channel, ts = posted_case(bot)
    long_text = "\n".join(f"Line {n}: " + "we have asked the force about it " * 4 for n in range(120))
    assert len(long_text) > 3 * 3000
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None
        lifecycle.save_draft(session, case=case, author=CASEWORKER, body=long_text, settings=bot.settings)
    click(bot, button(post_blocks(bot.api.of("chat.postMessage")[0]), "case_draft"), channel=channel, ts=ts)
    view = wait_view(bot)
    parts = [b for b in view["blocks"] if b["type"] == "input" and b["block_id"].startswith("body_")]
    assert len(parts) >= 4
    assert all(len(b["element"].get("initial_value", "")) <= 3000 for b in parts)
    joins = json.loads(view["private_metadata"])["joins"]
    assert case_file.join_parts([b["element"].get("initial_value", "") for b in parts], joins) == long_text
    edited = {"body_1": parts[0]["element"]["initial_value"].replace("Line 0:", "Line zero:")}
    assert errors_of(submit(bot, view, edited)) == {}
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None
        current = lifecycle.current_draft(session, case=case)
        assert current is not None and current.version == 2
        assert current.body == long_text.replace("Line 0:", "Line zero:")


def test_signoff_buttons_are_refused_to_people_outside_casework(bot: RunningBot) -> None:
    ref, channel, ts = _drafted(bot, "Dear Ms Public,\nYes.\n")
    _request(bot, channel, ts, 1)
    bot.api.wait_for("chat.update", 2)
    sender(bot).drain_once()
    dm_blocks = post_blocks(_dms(bot)["D_APP"])
    for number, action in enumerate(("signoff_approve", "signoff_return"), start=1):
        click(bot, button(dm_blocks, action), user=OUTSIDER, channel="D_APP", ts="7.7")
        bot.api.wait_for("/response/action", number)
    for answer in responses_to(bot):
        assert answer["response_type"] == "ephemeral" and "only the approvers" in answer["text"]
    assert len(bot.api.of("views.open")) == 1  # only the caseworker's draft modal
    assert _case(bot, ref).stage == "awaiting_signoff"


def test_sign_off_by_an_approver_of_an_older_draft_is_refused(bot: RunningBot) -> None:
    ref, channel, ts = _drafted(bot, "Dear Ms Public,\nYes.\n")
    _request(bot, channel, ts, 1)
    bot.api.wait_for("chat.update", 2)
    sender(bot).drain_once()
    stale = button(post_blocks(_dms(bot)["D_APP"]), "signoff_approve")
    stale["value"] = json.dumps({"reference": ref, "draft_id": 999})
    click(bot, stale, user=APPROVER, channel="D_APP", ts="8.8")
    bot.api.wait_for("/response/action")
    assert "older draft" in responses_to(bot)[0]["text"]
    assert _case(bot, ref).stage == "awaiting_signoff"


def test_a_groups_signoff_dms_each_arrive_once_across_a_late_answer(bot: RunningBot) -> None:
    """One row, one DM per member: the DM Slack posted but answered late is found, not repeated."""
    members = ["U_APP2", "U_APP3", "U_APP4"]
    bot.api.usergroups["S_APPROVERS"] = members
    _ref, channel, ts = _drafted(bot, "Dear Ms Public,\nYes.\n")
    _request(bot, channel, ts, 1)
    bot.api.wait_for("chat.update", 2)
    with session_scope(bot.engine) as session:
        rows = session.execute(select(OutboxItem).where(OutboxItem.kind == "slack.signoff")).scalars().all()
        for row in rows:  # only the group's row is sent here
            if row.payload["approver"] != "S_APPROVERS":
                row.sent_at = utcnow()
    bot.api.hang_seconds = 2.0
    quick = OutboxSender(
        bot.settings, bot.engine, WebClient(token="xoxb-test", base_url=bot.api.base_url, timeout=1)
    )
    bot.api.fail("chat.postMessage", "late")
    assert quick.drain_once() == 0  # the first member's DM was posted, its answer came too late
    with session_scope(bot.engine) as session:
        row = session.execute(
            select(OutboxItem).where(OutboxItem.kind == "slack.signoff", OutboxItem.sent_at.is_(None))  # type: ignore[union-attr]
        ).scalar_one()
        row.next_attempt_at = utcnow() - timedelta(seconds=1)
    assert quick.drain_once() == 1
    dms = {f"D{m[1:]}": len(bot.api.messages_in(f"D{m[1:]}")) for m in members}
    assert dms == {"D_APP2": 1, "D_APP3": 1, "D_APP4": 1}
