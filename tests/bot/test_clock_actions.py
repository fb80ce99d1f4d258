"""The clock's controls in Slack, through signed requests: modals, refusals, reviews, lapses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.blocks import validated_view
from bot.sender import OutboxSender
from store.cases import get_case, history, set_status
from store.db import session_scope
from store.outbox import enqueue
from store.workdays import LONDON, calendar
from tests.bot.conftest import CASEWORKER, OUTSIDER, RunningBot, make_case
from tests.bot.test_triage_actions import _click
from tests.conftest import SLACK_FIXTURES, shared_or_skip


def _posted(bot: RunningBot, category: str = "foi") -> tuple[str, str, str]:
    received = datetime.now(UTC) - timedelta(days=14)
    ref = make_case(bot.engine, bot.settings, category=category, received=received)
    with session_scope(bot.engine) as session:
        enqueue(session, key=f"triage:{ref}", kind="slack.triage", payload={"reference": ref})
    assert OutboxSender(bot.settings, bot.engine, bot.client).drain_once() >= 1
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None
        return ref, str(case.slack_channel), str(case.slack_ts)


def _button(
    bot: RunningBot,
    ref: str,
    channel: str,
    ts: str,
    action_id: str,
    user: str = CASEWORKER,
    value: str | None = None,
    block: str | None = None,
) -> None:
    _click(
        bot,
        ref,
        channel,
        ts,
        {
            "type": "button",
            "action_id": action_id,
            "value": value or ref,
            "block_id": block or f"clock:{ref}",
        },
        user=user,
    )


def _opened(bot: RunningBot, count: int = 1) -> dict[str, Any]:
    body = bot.api.wait_for("views.open", count)[count - 1].body
    view = json.loads(body["view"]) if isinstance(body["view"], str) else body["view"]
    validated_view(view)
    return view


def _submit(bot: RunningBot, view: dict[str, Any], values: dict[str, Any], user: str = CASEWORKER) -> Any:
    payload = json.loads(shared_or_skip(SLACK_FIXTURES / "view_submission.json").read_text())
    payload["user"]["id"] = user
    payload["view"].update(
        callback_id=view["callback_id"],
        private_metadata=view["private_metadata"],
        state={"values": {k: {"value": v} for k, v in values.items()}},
    )
    return bot.interact(payload)


def _case(bot: RunningBot, ref: str) -> Any:
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None
        session.expunge(case)
        return case


def test_stop_and_restart_from_slack(bot: RunningBot) -> None:
    ref, channel, ts = _posted(bot)
    today = datetime.now(LONDON).date()
    received = _case(bot, ref).received_on
    _button(bot, ref, channel, ts, "clock_stop")
    view = _opened(bot)
    assert view["callback_id"] == "clock_stop"
    reason = {"type": "static_select", "selected_option": {"value": "clarification"}}
    future = {"type": "datepicker", "selected_date": (today + timedelta(days=5)).isoformat()}
    bad = _submit(bot, view, {"reason": reason, "on": future})
    assert bad.json()["response_action"] == "errors" and "in the future" in bad.json()["errors"]["on"]
    assert _case(bot, ref).clock_stopped_on is None
    stop_on = received + timedelta(days=2)
    ok = _submit(
        bot,
        view,
        {
            "reason": reason,
            "on": {"type": "datepicker", "selected_date": stop_on.isoformat()},
            "note": {"type": "plain_text_input", "value": "which station?"},
        },
    )
    assert ok.status == 200
    update = bot.api.wait_for("chat.update")[0].body
    assert "clock stopped since" in str(update["blocks"]) and "Restart clock" in str(update["blocks"])
    assert _case(bot, ref).clock_stopped_on == stop_on
    _button(bot, ref, channel, ts, "clock_start")
    view = _opened(bot, 2)
    restart = received + timedelta(days=7)
    assert (
        _submit(bot, view, {"on": {"type": "datepicker", "selected_date": restart.isoformat()}}).status == 200
    )
    bot.api.wait_for("chat.update", 2)
    case = _case(bot, ref)
    assert case.clock_stopped_on is None
    assert case.due_on == calendar().add_working_days(restart, 20)  # clarification: a fresh period
    with session_scope(bot.engine) as session:
        found = get_case(session, ref)
        assert found is not None
        clock = [(e.actor, e.new_value, e.note) for e in history(session, case=found) if e.kind == "clock"]
    assert clock == [
        (CASEWORKER, f"stopped {stop_on} (clarification)", "which station?"),
        (CASEWORKER, f"restarted {restart}", ""),
    ]


def test_extend_is_capped_and_outsiders_are_refused(bot: RunningBot) -> None:
    ref, channel, ts = _posted(bot, category="correspondence")
    _button(bot, ref, channel, ts, "clock_stop", user=OUTSIDER)
    reply = bot.api.wait_for("/response/")[0].body
    assert "Sorry" in reply["text"] and bot.api.of("views.open") == []
    _button(bot, ref, channel, ts, "clock_extend")
    view = _opened(bot)
    due = _case(bot, ref).due_on
    days = {"type": "plain_text_input", "value": "5"}
    why = {"type": "plain_text_input", "value": "public interest test"}
    refused = _submit(bot, view, {"days": days, "note": why})
    assert "at most 0 working days" in refused.json()["errors"]["days"]
    assert (
        _submit(bot, view, {"days": days, "note": why}, user=OUTSIDER).json()["response_action"] == "errors"
    )
    assert _case(bot, ref).due_on == due
    foi, channel, ts = _posted(bot, category="foi")
    _button(bot, foi, channel, ts, "clock_extend")
    assert _submit(bot, _opened(bot, 2), {"days": days, "note": why}).status == 200
    assert _case(bot, foi).due_on == calendar().add_working_days(_case(bot, foi).received_on, 25)


def test_review_and_lapse_buttons(bot: RunningBot) -> None:
    ref, channel, ts = _posted(bot)
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None
        set_status(session, case=case, status="closed", actor="t")
    asked = datetime.now(UTC).date().isoformat()
    _button(bot, ref, channel, ts, "clock_review", value=f"{ref}|{asked}", block=f"review:{ref}")
    posted = bot.api.wait_for("/response/")[0].body
    assert f"{ref}-R1" in posted["text"]
    review = _case(bot, f"{ref}-R1")
    assert review.review_of_id == _case(bot, ref).id and review.category == "foi"
    other, channel, ts = _posted(bot)
    _button(bot, other, channel, ts, "clock_lapse", block=f"lapse:{other}")
    bot.api.wait_for("/response/", 2)
    closed = _case(bot, other)
    assert closed.status == "closed"
    with session_scope(bot.engine) as session:
        found = get_case(session, other)
        assert found is not None
        assert history(session, case=found)[-1].note == "Closed as lapsed: no clarification received"
