"""The outbox sender: Slack outages delay notifications but never lose or duplicate them; deadline
warnings are rendered when sent, and a moot one is not sent."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.sender import OutboxSender
from casework.scheduler.warnings import run_pass
from casework.settings import Settings
from store.cases import get_case, set_status
from store.db import make_engine, session_scope
from store.models import OutboxItem
from store.outbox import enqueue
from store.types import utcnow
from tests.bot.conftest import bot_settings, make_case
from tests.scheduler.support import make_case as make_due_case
from tests.support.slack_api import FakeSlackAPI

MON_8_APR = date(2013, 4, 8)


@pytest.fixture
def setup(database_url: str, api: FakeSlackAPI):
    settings = bot_settings(database_url, api)
    engine = make_engine(settings.database_url)
    client = WebClient(token="xoxb-test", base_url=api.base_url, timeout=1)
    yield settings, engine, OutboxSender(settings, engine, client)
    engine.dispose()


def _enqueue_triage(engine, reference: str) -> None:
    with session_scope(engine) as session:
        enqueue(session, key=f"triage:{reference}", kind="slack.triage", payload={"reference": reference})


def _row(engine, key: str) -> OutboxItem:
    with session_scope(engine) as session:
        return session.execute(select(OutboxItem).where(OutboxItem.key == key)).scalar_one()


def _make_due(engine, key: str) -> None:
    """Let time pass for a backed-off row (instead of sleeping through the back-off)."""
    with session_scope(engine) as session:
        row = session.execute(select(OutboxItem).where(OutboxItem.key == key)).scalar_one()
        row.next_attempt_at = utcnow() - timedelta(seconds=1)


def test_triage_post_renders_from_store_and_saves_channel_and_ts(setup, api: FakeSlackAPI) -> None:
    settings, engine, sender = setup
    ref = make_case(engine, settings)
    _enqueue_triage(engine, ref)
    assert sender.drain_once() == 1
    (call,) = api.of("chat.postMessage")
    assert call.body["channel"] == "C_TRIAGE"
    # minimal by default (CASEWORK_CHANNEL_DETAIL): no subject until the channel passes its check
    assert ref in call.body["text"] and "Speeding on Bristol Road" not in str(call.body["blocks"])
    with session_scope(engine) as session:
        case = get_case(session, ref)
        assert case is not None and case.slack_channel == "C_TRIAGE" and case.slack_ts
    assert _row(engine, f"triage:{ref}").sent_at is not None
    assert sender.drain_once() == 0 and len(api.of("chat.postMessage")) == 1


def test_429_honours_retry_after_then_sends_exactly_once(setup, api: FakeSlackAPI) -> None:
    settings, engine, sender = setup
    ref = make_case(engine, settings)
    _enqueue_triage(engine, ref)
    api.fail("chat.postMessage", "429", times=1, retry_after=7)
    assert sender.drain_once() == 0
    row = _row(engine, f"triage:{ref}")
    assert row.sent_at is None and "429" in row.last_error
    wait = (row.next_attempt_at - utcnow()).total_seconds()
    assert 5 < wait <= 7.5, wait
    assert sender.drain_once() == 0  # not due yet: no second request
    assert len(api.of("chat.postMessage")) == 1
    _make_due(engine, f"triage:{ref}")
    assert sender.drain_once() == 1
    assert len(api.of("chat.postMessage")) == 2  # the refused one and the accepted one
    assert sender.drain_once() == 0 and len(api.of("chat.postMessage")) == 2


def test_500_backs_off_and_is_retried(setup, api: FakeSlackAPI) -> None:
    _settings, engine, sender = setup
    with session_scope(engine) as session:
        enqueue(
            session,
            key="alert:1",
            kind="slack.post",
            payload={"channel": "C_ALERTS", "text": "Two cases due today", "blocks": None},
        )
    api.fail("chat.postMessage", "500", times=2)
    assert sender.drain_once() == 0
    first = _row(engine, "alert:1")
    assert first.sent_at is None and "500" in first.last_error
    assert (first.next_attempt_at - utcnow()).total_seconds() > 4
    _make_due(engine, "alert:1")
    assert sender.drain_once() == 0
    second = _row(engine, "alert:1")
    assert second.attempts == 2 and (second.next_attempt_at - utcnow()) > (first.next_attempt_at - utcnow())
    _make_due(engine, "alert:1")
    assert sender.drain_once() == 1
    posted = api.of("chat.postMessage")
    assert len(posted) == 3 and posted[-1].body["channel"] == "C_ALERTS"


def test_hanging_api_times_out_and_the_row_waits(setup, api: FakeSlackAPI) -> None:
    _settings, engine, sender = setup
    api.hang_seconds = 2.0
    with session_scope(engine) as session:
        enqueue(session, key="dm:1", kind="slack.dm", payload={"user": "U_CW", "text": "You have a case"})
    api.fail("conversations.open", "hang", times=1)
    assert sender.drain_once() == 0
    row = _row(engine, "dm:1")
    assert row.sent_at is None and "imeout" in row.last_error
    assert api.of("chat.postMessage") == []
    _make_due(engine, "dm:1")
    assert sender.drain_once() == 1
    (post,) = api.of("chat.postMessage")
    assert post.body["channel"] == "D_CW" and post.body["text"] == "You have a case"


def test_merged_case_is_marked_sent_with_a_note(setup, api: FakeSlackAPI) -> None:
    _settings, engine, sender = setup
    _enqueue_triage(engine, "WMOPC-2013-999999")
    assert sender.drain_once() == 0
    row = _row(engine, "triage:WMOPC-2013-999999")
    assert row.sent_at is not None and "merged" in row.result["skipped"]
    assert api.of("chat.postMessage") == []


def test_a_case_already_posted_is_updated_not_posted_twice(setup, api: FakeSlackAPI) -> None:
    settings, engine, sender = setup
    ref = make_case(engine, settings)
    with session_scope(engine) as session:
        case = get_case(session, ref)
        assert case is not None
        case.slack_channel, case.slack_ts = "C_TRIAGE", "1700000000.000042"
    _enqueue_triage(engine, ref)
    assert sender.drain_once() == 1
    assert api.of("chat.postMessage") == []
    assert api.of("chat.update")[0].body["ts"] == "1700000000.000042"


def test_run_loop_sends_and_stops(setup, api: FakeSlackAPI) -> None:
    settings, engine, sender = setup
    stop = threading.Event()
    thread = threading.Thread(target=sender.run, args=(stop,), kwargs={"idle_seconds": 0.05})
    thread.start()
    try:
        ref = make_case(engine, settings)
        _enqueue_triage(engine, ref)
        api.wait_for("chat.postMessage", timeout=5)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert len(api.of("chat.postMessage")) == 1


def test_missing_triage_channel_keeps_the_row(database_url: str, api: FakeSlackAPI) -> None:
    settings: Settings = bot_settings(database_url, api, triage_channel="")
    engine = make_engine(settings.database_url)
    try:
        sender = OutboxSender(settings, engine, WebClient(token="x", base_url=api.base_url, timeout=1))
        ref = make_case(engine, settings)
        _enqueue_triage(engine, ref)
        assert sender.drain_once() == 0
        row = _row(engine, f"triage:{ref}")
        assert row.sent_at is None and "CASEWORK_TRIAGE_CHANNEL" in row.last_error
    finally:
        engine.dispose()


@pytest.fixture
def warned(database_url: str, api: FakeSlackAPI):
    """A case due Wed 10 Apr 2013 whose 2-days-left warning the pass of Mon 8 Apr recorded
    (a DM to the assignee and a post to the alerts channel), not sent yet."""
    settings = bot_settings(database_url, api, alerts_channel="C0ALERTS", caseworkers=["U_CW", "U0CASEWKR"])
    engine = make_engine(settings.database_url)
    ref = make_due_case(engine, settings, due=MON_8_APR + timedelta(days=2))
    assert len(run_pass(engine, settings, today=MON_8_APR).queued) == 2
    yield settings, engine, ref
    engine.dispose()


def _sender(settings: Settings, engine, api: FakeSlackAPI, today: date) -> OutboxSender:
    client = WebClient(token="xoxb-test", base_url=api.base_url, timeout=1)
    return OutboxSender(settings, engine, client, today=lambda: today)


def test_deadline_warning_shows_the_case_as_it_is_when_sent(warned, api: FakeSlackAPI) -> None:
    """Sent a day late (Slack was down): the status is the one set since the pass, the working
    days are counted to the day of sending, the due date is the one the warning was recorded for."""
    settings, engine, ref = warned
    with session_scope(engine) as session:
        case = get_case(session, ref)
        assert case is not None
        set_status(session, case=case, status="in_progress", actor="U0CASEWKR", note="Referred to force")
    assert _sender(settings, engine, api, MON_8_APR + timedelta(days=1)).drain_once() == 2
    (opened,) = api.of("conversations.open")
    assert opened.body["users"] == "U0CASEWKR"
    posts = {call.body["channel"]: call.body for call in api.of("chat.postMessage")}
    assert set(posts) == {"D0CASEWKR", "C0ALERTS"}
    for post in posts.values():
        assert post["text"] == f"{ref}: 1 working day left (due Wed 10 Apr 2013)"
        body = json.dumps(post["blocks"])
        assert "Waiting on the force (Referred to force)" in body and "waited 19 working days" in body


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("closed", "case closed since the warning was recorded"),
        ("monitoring", "case moved to monitoring"),
        ("due_on", "due date moved from 2013-04-10 to 2013-04-24"),
        ("merged", "case no longer exists"),
    ],
)
def test_a_moot_warning_is_not_sent_and_says_why(warned, api: FakeSlackAPI, change: str, reason: str) -> None:
    """Closed, in monitoring, re-dated or merged away between the pass and the send: the warning
    is moot; both rows are marked done with the reason, and Slack hears nothing."""
    settings, engine, ref = warned
    with session_scope(engine) as session:
        case = get_case(session, ref)
        assert case is not None
        if change == "due_on":
            case.due_on = date(2013, 4, 24)
        elif change == "merged":  # a campaign merge deletes the merged case: its reference finds none
            for item in session.execute(select(OutboxItem)).scalars():
                item.payload = {**item.payload, "reference": "WMOPC-2013-999999"}
        else:
            set_status(session, case=case, status=change, actor="U0CASEWKR")
    assert _sender(settings, engine, api, MON_8_APR).drain_once() == 0
    assert api.calls == []
    with session_scope(engine) as session:
        items = list(session.execute(select(OutboxItem)).scalars())
    assert len(items) == 2
    for item in items:
        assert item.sent_at is not None and item.result["skipped"].startswith(reason), item.result
