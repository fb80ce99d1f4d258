"""Exactly once across Slack timeouts: a post Slack carried out but answered too late is not repeated.

The review tried a stand-in that posts the message and answers after the client's timeout: the
triage post appeared twice, because the sender took a timeout for "not accepted". Here the fake
Web API does exactly that (``fail(..., "late")``), and each message must appear once.
"""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.sender import EVENT_TYPE, OutboxSender
from bot.uploads import share_file
from store.cases import get_case
from store.db import make_engine, session_scope
from store.models import OutboxItem
from store.outbox import enqueue
from store.types import utcnow
from tests.bot.conftest import bot_settings, make_case
from tests.support.slack_api import FakeSlackAPI


@pytest.fixture
def setup(database_url: str, api: FakeSlackAPI):
    settings = bot_settings(database_url, api)
    engine = make_engine(settings.database_url)
    client = WebClient(token="xoxb-test", base_url=api.base_url, timeout=1)
    api.hang_seconds = 2.0  # longer than the client's timeout
    yield settings, engine, OutboxSender(settings, engine, client)
    engine.dispose()


def _row(engine, key: str) -> OutboxItem:
    with session_scope(engine) as session:
        return session.execute(select(OutboxItem).where(OutboxItem.key == key)).scalar_one()


def _make_due(engine, key: str) -> None:
    with session_scope(engine) as session:
        row = session.execute(select(OutboxItem).where(OutboxItem.key == key)).scalar_one()
        row.next_attempt_at = utcnow() - timedelta(seconds=1)


def test_a_late_answer_to_a_triage_post_does_not_post_it_twice(setup, api: FakeSlackAPI) -> None:
    settings, engine, sender = setup
    ref = make_case(engine, settings)
    with session_scope(engine) as session:
        enqueue(session, key=f"triage:{ref}", kind="slack.triage", payload={"reference": ref})
    api.fail("chat.postMessage", "late")
    assert sender.drain_once() == 0  # timed out, though Slack posted it
    assert len(api.messages_in("C_TRIAGE")) == 1
    assert _row(engine, f"triage:{ref}").last_error.startswith("uncertain: ")
    _make_due(engine, f"triage:{ref}")
    assert sender.drain_once() == 1
    messages = api.messages_in("C_TRIAGE")
    assert len(messages) == 1  # found in the history, not posted again
    assert messages[0]["metadata"] == {"event_type": EVENT_TYPE, "event_payload": {"key": f"triage:{ref}"}}
    row = _row(engine, f"triage:{ref}")
    assert row.sent_at is not None and row.result["ts"] == messages[0]["ts"] and row.result["recovered"]
    with session_scope(engine) as session:
        case = get_case(session, ref)
        assert case is not None and case.slack_ts == messages[0]["ts"]  # later updates hit this one
    history = api.of("conversations.history")
    assert history and history[0].body["channel"] == "C_TRIAGE"
    assert float(history[0].body["oldest"]) > 0  # bounded to the time since the row was queued


def test_a_late_answer_to_a_dm_does_not_send_it_twice(setup, api: FakeSlackAPI) -> None:
    _settings, engine, sender = setup
    with session_scope(engine) as session:
        enqueue(session, key="dm:1", kind="slack.dm", payload={"user": "U_CW", "text": "You have 2 overdue"})
    api.fail("chat.postMessage", "late")
    assert sender.drain_once() == 0
    _make_due(engine, "dm:1")
    assert sender.drain_once() == 1
    assert len(api.messages_in("D_CW")) == 1


def test_a_5xx_after_the_post_is_checked_too(setup, api: FakeSlackAPI) -> None:
    """A proxy's 500 after Slack posted: the history is read before trying again."""
    _settings, engine, sender = setup
    with session_scope(engine) as session:
        enqueue(session, key="post:1", kind="slack.post", payload={"channel": "C_ALERTS", "text": "digest"})
    api.fail("chat.postMessage", "500")
    assert sender.drain_once() == 0
    _make_due(engine, "post:1")
    assert sender.drain_once() == 1
    assert len(api.of("conversations.history")) == 1
    assert len(api.messages_in("C_ALERTS")) == 1  # the 500 posted nothing here, so it was posted now


def test_the_crash_window_is_covered(setup, api: FakeSlackAPI) -> None:
    """Posted, then the process died before recording it: the claim runs out with no error."""
    _settings, engine, sender = setup
    with session_scope(engine) as session:
        enqueue(session, key="post:2", kind="slack.post", payload={"channel": "C_ALERTS", "text": "digest"})
    sender.client.chat_postMessage(
        channel="C_ALERTS",
        text="digest",
        metadata={"event_type": EVENT_TYPE, "event_payload": {"key": "post:2"}},
    )
    with session_scope(engine) as session:  # what the dead process left: claimed once, no answer
        row = session.execute(select(OutboxItem).where(OutboxItem.key == "post:2")).scalar_one()
        row.attempts, row.claimed_until = 1, utcnow() - timedelta(seconds=1)
    assert sender.drain_once() == 1
    assert len(api.messages_in("C_ALERTS")) == 1


def test_a_failed_lookup_waits_rather_than_posting_blind(setup, api: FakeSlackAPI) -> None:
    _settings, engine, sender = setup
    with session_scope(engine) as session:
        enqueue(session, key="post:3", kind="slack.post", payload={"channel": "C_ALERTS", "text": "digest"})
    api.fail("chat.postMessage", "late")
    sender.drain_once()
    api.fail("conversations.history", "500")
    _make_due(engine, "post:3")
    assert sender.drain_once() == 0
    assert _row(engine, "post:3").last_error.startswith("uncertain: ")
    _make_due(engine, "post:3")
    assert sender.drain_once() == 1
    assert len(api.messages_in("C_ALERTS")) == 1


def _file_row(engine, key: str) -> None:
    payload = {
        "user": "U_PCC",
        "filename": "brief-2026-12-04-session-1.pdf",
        "title": "Surgery brief",
        "text": "Surgery brief: 3 appointment(s).",
        "content_b64": base64.b64encode(b"%PDF-1.4 pack").decode("ascii"),
    }
    with session_scope(engine) as session:
        enqueue(session, key=key, kind="slack.file", target="U_PCC", payload=payload)


def _shared_files(api: FakeSlackAPI, channel: str) -> list[str]:
    return [f["id"] for m in api.messages_in(channel) for f in m.get("files") or []]


def test_a_late_answer_to_a_file_upload_does_not_share_it_twice(setup, api: FakeSlackAPI) -> None:
    """A briefing pack whose share Slack carried out but answered too late is not sent again."""
    _settings, engine, sender = setup
    _file_row(engine, "brief:1")
    api.fail("files.completeUploadExternal", "late")
    assert sender.drain_once() == 0
    shared = _shared_files(api, "D_PCC")
    assert len(shared) == 1 and _row(engine, "brief:1").result == {"uploading": shared}
    _make_due(engine, "brief:1")
    assert sender.drain_once() == 1
    assert _shared_files(api, "D_PCC") == shared  # found in the DM's history, not uploaded again
    assert len(api.of("files.getUploadURLExternal")) == 1
    row = _row(engine, "brief:1")
    assert row.sent_at is not None and row.result["file"] == shared[0] and row.result["recovered"]


def test_an_upload_that_stopped_before_the_share_is_uploaded_again(setup, api: FakeSlackAPI) -> None:
    """Nothing shared yet (no file id recorded): the retry uploads without reading history."""
    _settings, engine, sender = setup
    _file_row(engine, "brief:2")
    api.fail("files.getUploadURLExternal", "hang")
    assert sender.drain_once() == 0
    assert _row(engine, "brief:2").last_error.startswith("uncertain: ")
    _make_due(engine, "brief:2")
    assert sender.drain_once() == 1
    assert len(_shared_files(api, "D_PCC")) == 1 and not api.of("conversations.history")
    assert b"%PDF-1.4 pack" in api.uploads()[-1].raw


def test_a_share_that_failed_is_shared_again(setup, api: FakeSlackAPI) -> None:
    """The last step answered 500 without sharing: history has no such file, so it is uploaded anew."""
    _settings, engine, sender = setup
    _file_row(engine, "brief:3")
    api.fail("files.completeUploadExternal", "500")
    assert sender.drain_once() == 0 and _shared_files(api, "D_PCC") == []
    _make_due(engine, "brief:3")
    assert sender.drain_once() == 1
    assert len(api.of("conversations.history")) == 1
    shared = _shared_files(api, "D_PCC")
    assert len(shared) == 1 and _row(engine, "brief:3").result["file"] == shared[0]


def test_the_crash_window_is_covered_for_files(setup, api: FakeSlackAPI) -> None:
    """Shared, then the process died before recording it: the recorded file id is looked for."""
    _settings, engine, sender = setup
    _file_row(engine, "brief:4")
    row = _row(engine, "brief:4")
    share_file(
        sender.client,
        channel="D_PCC",
        content=b"%PDF-1.4 pack",
        filename="brief.pdf",
        title="Surgery brief",
        comment=None,
        before_share=lambda file_id: sender._note_upload(row, [file_id]),
    )
    with session_scope(engine) as session:  # what the dead process left: claimed once, no answer
        dead = session.execute(select(OutboxItem).where(OutboxItem.key == "brief:4")).scalar_one()
        dead.attempts, dead.claimed_until = 1, utcnow() - timedelta(seconds=1)
    assert sender.drain_once() == 1
    assert len(_shared_files(api, "D_PCC")) == 1 and len(api.of("files.getUploadURLExternal")) == 1
