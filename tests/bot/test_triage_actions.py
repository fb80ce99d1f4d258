"""Triage controls: each click changes the case, is in its history with the Slack user, and
the triage message is redrawn in place. Also the link modal and App Home."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select

from bot.sender import OutboxSender
from store.cases import get_case, history
from store.db import session_scope
from store.models import Campaign, ClassifierLabel
from store.outbox import enqueue
from tests.bot.conftest import CASEWORKER, OUTSIDER, RunningBot, make_case
from tests.conftest import SLACK_FIXTURES, shared_or_skip


def _posted(bot: RunningBot) -> tuple[str, str, str]:
    """A case whose triage message was posted by the sender: (reference, channel, ts)."""
    ref = make_case(bot.engine, bot.settings)
    with session_scope(bot.engine) as session:
        enqueue(session, key=f"triage:{ref}", kind="slack.triage", payload={"reference": ref})
    assert OutboxSender(bot.settings, bot.engine, bot.client).drain_once() == 1
    call = bot.api.of("chat.postMessage")[-1]
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None
        return ref, str(case.slack_channel), str(case.slack_ts)
    raise AssertionError(call)


def _click(
    bot: RunningBot, ref: str, channel: str, ts: str, action: dict[str, Any], user: str = CASEWORKER
) -> None:
    """A block_actions payload shaped like Slack's (the shared fixture), for our control."""
    payload = json.loads(shared_or_skip(SLACK_FIXTURES / "block_actions_button.json").read_text())
    payload["user"]["id"] = user
    payload["container"] = {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False}
    payload["channel"] = {"id": channel, "name": "triage"}
    payload["message"] = {"ts": ts, "type": "message"}
    payload["response_url"] = bot.api.response_url("action")
    payload["actions"] = [{"block_id": f"triage:{ref}", "action_ts": "1.2", **action}]
    answer = bot.interact(payload)
    assert answer.status == 200


def _updated_blocks(bot: RunningBot, count: int) -> str:
    call = bot.api.wait_for("chat.update", count)[count - 1]
    return str(call.body["blocks"])


def test_category_change_updates_in_place_records_history_and_label(bot: RunningBot) -> None:
    ref, channel, ts = _posted(bot)
    _click(
        bot,
        ref,
        channel,
        ts,
        {
            "type": "static_select",
            "action_id": "triage_category",
            "selected_option": {"text": {"type": "plain_text", "text": "Complaint"}, "value": "complaint"},
        },
    )
    update = bot.api.wait_for("chat.update")[0]
    assert update.body["channel"] == channel and update.body["ts"] == ts
    assert "*Complaint*" in str(update.body["blocks"])
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None and case.category == "complaint"
        events = [e for e in history(session, case=case) if e.kind == "category"]
        assert events[0].actor == CASEWORKER and events[0].new_value == "complaint"
        label = session.execute(select(ClassifierLabel)).scalar_one()
        assert label.category == "complaint" and label.predicted == "correspondence"
        assert "Speeding on Bristol Road" in label.text and "Cars race past" in label.text
        assert label.actor == CASEWORKER


def test_assign_and_status_controls(bot: RunningBot) -> None:
    ref, channel, ts = _posted(bot)
    _click(
        bot, ref, channel, ts, {"type": "users_select", "action_id": "triage_assign", "selected_user": "U_CW"}
    )
    assert "<@U_CW>" in _updated_blocks(bot, 1)
    _click(
        bot,
        ref,
        channel,
        ts,
        {
            "type": "static_select",
            "action_id": "triage_status",
            "selected_option": {"text": {"type": "plain_text", "text": "Referred"}, "value": "referred"},
        },
    )
    assert "In progress" in _updated_blocks(bot, 2)
    _click(
        bot,
        ref,
        channel,
        ts,
        {
            "type": "static_select",
            "action_id": "triage_status",
            "selected_option": {"text": {"type": "plain_text", "text": "Closed"}, "value": "closed"},
        },
    )
    assert "Closed" in _updated_blocks(bot, 3)
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None and case.assignee == "U_CW" and case.status == "closed"
        events = history(session, case=case)
        kinds = [(e.kind, e.new_value, e.note, e.actor) for e in events[1:]]
        stage = case.stage
    assert kinds == [
        ("assign", "U_CW", "", CASEWORKER),
        # "Referred to force" is a stage inside in progress: the stage event, then the status
        ("stage", "with_force", "Referred to force", CASEWORKER),
        ("status", "in_progress", "Referred to force", CASEWORKER),
        ("status", "closed", "Closed — response sent", CASEWORKER),
        ("stage", "closed", "Closed — response sent", CASEWORKER),
    ]
    assert stage == "closed"


def test_outsider_click_is_refused_and_changes_nothing(bot: RunningBot) -> None:
    ref, channel, ts = _posted(bot)
    _click(
        bot,
        ref,
        channel,
        ts,
        {
            "type": "static_select",
            "action_id": "triage_category",
            "selected_option": {"text": {"type": "plain_text", "text": "FOI"}, "value": "foi"},
        },
        user=OUTSIDER,
    )
    reply = bot.api.wait_for("/response/")[0].body
    assert "Sorry" in reply["text"] and reply["replace_original"] is False
    assert bot.api.of("chat.update") == []
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None and case.category == "correspondence"


def _submit_link(bot: RunningBot, view: dict[str, Any], text: str, user: str = CASEWORKER):
    payload = json.loads(shared_or_skip(SLACK_FIXTURES / "view_submission.json").read_text())
    payload["user"]["id"] = user
    payload["view"].update(
        callback_id="link_case",
        private_metadata=view["private_metadata"],
        state={"values": {"target": {"value": {"type": "plain_text_input", "value": text}}}},
    )
    return bot.interact(payload)


def test_link_modal_links_to_a_case_or_campaign(bot: RunningBot) -> None:
    ref, channel, ts = _posted(bot)
    other = make_case(bot.engine, bot.settings, subject="Other", email="other@example.org")
    _click(bot, ref, channel, ts, {"type": "button", "action_id": "triage_link", "value": ref})
    opened = bot.api.wait_for("views.open")[0].body
    view = json.loads(opened["view"]) if isinstance(opened["view"], str) else opened["view"]
    assert opened["trigger_id"] and view["callback_id"] == "link_case"

    bad = _submit_link(bot, view, "WMOPC-1999-000001")
    assert bad.status == 200 and bad.json()["response_action"] == "errors"
    assert "No case or campaign" in bad.json()["errors"]["target"]

    assert _submit_link(bot, view, other).status == 200
    assert f"Linked to:* {other}" in _updated_blocks(bot, 1)

    with session_scope(bot.engine) as session:
        other_case = get_case(session, other)
        assert other_case is not None
        campaign = Campaign(title="Save the station", case_id=other_case.id)
        session.add(campaign)
        session.flush()
        number = campaign.id
    third = make_case(bot.engine, bot.settings, subject="Third", email="third@example.org")
    meta = json.loads(view["private_metadata"])
    meta["reference"] = third
    assert _submit_link(bot, {"private_metadata": json.dumps(meta)}, f"campaign {number}").status == 200
    bot.api.wait_for("chat.update", 2)
    with session_scope(bot.engine) as session:
        linked = get_case(session, third)
        assert linked is not None and linked.linked_case_id is not None
        event = next(e for e in history(session, case=linked) if e.kind == "link")
        assert event.actor == CASEWORKER and event.new_value == other

    refused = _submit_link(bot, view, other, user=OUTSIDER)
    assert refused.json()["response_action"] == "errors"


def test_app_home_lists_my_cases_and_team_overdue(bot: RunningBot) -> None:
    from datetime import UTC, datetime, timedelta

    late = make_case(
        bot.engine,
        bot.settings,
        subject="Late one",
        assignee=CASEWORKER,
        received=datetime.now(UTC) - timedelta(days=60),
    )
    mine = make_case(bot.engine, bot.settings, subject="Mine", assignee=CASEWORKER, email="m@example.org")
    someone_else = make_case(
        bot.engine, bot.settings, subject="Theirs", assignee="U_OTHER", email="t@example.org"
    )
    event = json.loads(shared_or_skip(SLACK_FIXTURES / "app_home_opened_org_install.json").read_text())[
        "event"
    ]
    event.update(user=CASEWORKER, tab="home")
    assert bot.event(event).status == 200
    published = bot.api.wait_for("views.publish")[0].body
    assert published["user_id"] == CASEWORKER
    text = json.dumps(published["view"])
    assert late in text and mine in text and someone_else not in text
    assert text.index(late) < text.index(mine)  # by due date
    assert "*1* case overdue" in text

    event.update(user=OUTSIDER)
    bot.event(event)
    refused = bot.api.wait_for("views.publish", 2)[1].body
    assert refused["user_id"] == OUTSIDER
    assert ":lock:" in json.dumps(refused["view"]) and late not in json.dumps(refused["view"])


def test_messages_tab_does_not_publish(bot: RunningBot) -> None:
    import time

    event = json.loads(shared_or_skip(SLACK_FIXTURES / "app_home_opened_org_install.json").read_text())[
        "event"
    ]
    event.update(user=CASEWORKER, tab="messages")
    assert bot.event(event).status == 200
    time.sleep(0.3)
    assert bot.api.of("views.publish") == []


def test_web_client_fixture_is_real(bot: RunningBot) -> None:
    assert isinstance(bot.client, WebClient)
