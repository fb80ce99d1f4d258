"""Personal data in Slack: minimal channel posts unless the channel passes the privacy check,
details one click away for caseworkers only, every case view audited, caseworkers-only
assignment and DMs, and the managers' retention buttons."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import select
from sqlmodel import col

from bot.access import Access
from bot.channels import run_checks
from bot.sender import OutboxSender
from casework.scheduler.retention import run_retention
from casework.scheduler.warnings import run_pass
from store.cases import get_case, set_status
from store.db import session_scope
from store.models import AnonymisedCase, AuditEntry, ChannelCheck, OutboxItem
from store.outbox import enqueue
from tests.bot.conftest import CASEWORKER, GROUP_MEMBER, MANAGER, OUTSIDER, RunningBot, make_case
from tests.bot.test_triage_actions import _click
from tests.support.slack_api import FakeSlackAPI

NAME, EMAIL, SUBJECT = "Jane Public", "jane@example.org", "Speeding on Bristol Road"
BODY = "Cars race past the school every morning."
TRIAGE = "C_TRIAGE"


def _private_team_channel(api: FakeSlackAPI, channel: str = TRIAGE, **flags: Any) -> None:
    api.channels[channel] = {"is_private": True, "is_ext_shared": False, **flags}
    api.members[channel] = [CASEWORKER, GROUP_MEMBER, "UBOT"]


def _check(bot: RunningBot, detail: str = "full") -> Any:
    settings = bot.settings.model_copy(update={"channel_detail": detail})
    return settings, run_checks(settings, bot.engine, bot.client, Access(settings, bot.client))


def _post_triage(bot: RunningBot, settings: Any) -> str:
    ref = make_case(bot.engine, settings)
    with session_scope(bot.engine) as session:
        enqueue(session, key=f"triage:{ref}", kind="slack.triage", payload={"reference": ref})
    assert OutboxSender(settings, bot.engine, bot.client).drain_once() >= 1  # a managers' DM may go too
    call = [c for c in bot.api.of("chat.postMessage") if c.body["channel"] == TRIAGE][-1]
    Block.parse_all(call.body["blocks"])
    return json.dumps(call.body["blocks"]) + str(call.body.get("text"))


def test_the_default_triage_post_holds_no_name_address_subject_or_body(bot: RunningBot) -> None:
    posted = _post_triage(bot, bot.settings)
    for secret in (NAME, EMAIL, SUBJECT, "Cars race past", "speeding"):
        assert secret.lower() not in posted.lower(), secret
    assert "Correspondence" in posted and "82% sure" in posted and "case_details" in posted


def test_full_detail_only_while_the_channel_passes_the_check(bot: RunningBot) -> None:
    settings, [verdict] = _check(bot)  # no such channel in the stand-in: Slack will not say
    assert not verdict.passed and "channel_not_found" in verdict.reason
    assert SUBJECT not in _post_triage(bot, settings)
    _private_team_channel(bot.api)
    settings, [verdict] = _check(bot)
    assert verdict.passed, verdict.reason
    posted = _post_triage(bot, settings)
    assert SUBJECT in posted and NAME in posted and EMAIL in posted
    settings, _ = _check(bot, "subject")
    posted = _post_triage(bot, settings)
    assert SUBJECT in posted and NAME not in posted and EMAIL not in posted and "Cars race" not in posted


@pytest.mark.parametrize(
    "change, why",
    [
        ({"is_private": False}, "public channel"),
        ({"is_ext_shared": True}, "shared outside the workspace"),
        ({"member": OUTSIDER}, f"not caseworkers are in it: <@{OUTSIDER}>"),
        ({"member": MANAGER}, f"not caseworkers are in it: <@{MANAGER}>"),
    ],
)
def test_a_failing_channel_falls_back_and_the_managers_hear_once(
    bot: RunningBot, change: dict[str, Any], why: str
) -> None:
    _private_team_channel(bot.api)
    bot.api.members_page = 2  # members come in pages: the check reads them all
    settings, [verdict] = _check(bot)
    assert verdict.passed
    change = dict(change)  # the parameter is shared by both databases' runs
    member = change.pop("member", None)
    bot.api.channels[TRIAGE].update(change)
    if member:
        bot.api.members[TRIAGE].append(member)
    for _ in range(2):  # the hourly check fails twice: one DM per manager, not two
        settings, [verdict] = _check(bot)
        assert not verdict.passed and why in verdict.reason
    with session_scope(bot.engine) as session:
        assert session.get(ChannelCheck, TRIAGE).detail == "minimal"  # type: ignore[union-attr]
        dms = session.execute(select(OutboxItem).where(col(OutboxItem.kind) == "slack.dm")).scalars().all()
    assert [d.target for d in dms] == [MANAGER] and why in dms[0].payload["text"]
    posted = _post_triage(bot, settings)
    assert SUBJECT not in posted and NAME not in posted
    # put right: the next check restores the detail
    _private_team_channel(bot.api)
    settings, [verdict] = _check(bot)
    assert verdict.passed and SUBJECT in _post_triage(bot, settings)


def test_details_are_one_click_away_for_caseworkers_only_and_audited(bot: RunningBot) -> None:
    from tests.bot.test_triage_actions import _posted

    ref, channel, ts = _posted(bot)
    button = {"type": "button", "action_id": "case_details", "value": ref}
    _click(bot, ref, channel, ts, button, user=OUTSIDER)
    refusal = bot.api.wait_for("/response/", 1)[0].body
    assert "don't have access" in refusal["text"] and SUBJECT not in json.dumps(refusal)
    _click(bot, ref, channel, ts, button, user=GROUP_MEMBER)
    answer = bot.api.wait_for("/response/", 2)[1].body
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert SUBJECT in json.dumps(answer["blocks"]) and NAME in json.dumps(answer["blocks"])
    with session_scope(bot.engine) as session:
        rows = session.execute(select(AuditEntry)).scalars().all()
    assert [(r.actor, r.action, r.case_reference, r.detail) for r in rows] == [
        (GROUP_MEMBER, "viewed", ref, "slack: show details")
    ]


def test_each_slack_read_path_writes_an_audit_row(bot: RunningBot) -> None:
    ref = make_case(
        bot.engine, bot.settings, assignee=CASEWORKER, received=datetime.now(UTC) - timedelta(days=60)
    )
    bot.command(f"case {ref}")
    bot.command("find Jane Public")
    bot.command("mine")
    bot.command("overdue")
    bot.command(f"case {ref}", user=OUTSIDER)  # refused: nothing was seen, nothing recorded
    with session_scope(bot.engine) as session:
        rows = session.execute(select(AuditEntry).order_by(col(AuditEntry.id))).scalars().all()
    assert [(r.actor, r.action, r.case_reference, r.detail) for r in rows] == [
        (CASEWORKER, "viewed", ref, "slack: /casework case"),
        (CASEWORKER, "searched", None, "slack: /casework find, 1 found"),
        (CASEWORKER, "viewed", ref, "slack: /casework find list"),
        (CASEWORKER, "viewed", ref, "slack: /casework mine list"),
        (CASEWORKER, "viewed", ref, "slack: /casework overdue list"),
    ]
    assert all("Jane" not in r.detail for r in rows)


def test_a_non_caseworker_cannot_be_assigned(bot: RunningBot) -> None:
    from tests.bot.test_triage_actions import _posted

    ref, channel, ts = _posted(bot)
    _click(
        bot,
        ref,
        channel,
        ts,
        {"type": "users_select", "action_id": "triage_assign", "selected_user": MANAGER},
    )
    refusal = bot.api.wait_for("/response/", 1)[0].body
    assert "not in the casework team" in refusal["text"]
    bot.api.wait_for("chat.update", 1)  # redrawn, so the refused choice is not left showing
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None and case.assignee is None
    _click(
        bot,
        ref,
        channel,
        ts,
        {"type": "users_select", "action_id": "triage_assign", "selected_user": GROUP_MEMBER},
    )
    bot.api.wait_for("chat.update", 2)
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None and case.assignee == GROUP_MEMBER


def test_case_details_go_by_dm_to_caseworkers_only(bot: RunningBot) -> None:
    ref = make_case(bot.engine, bot.settings, assignee=OUTSIDER)
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None
        payload = {
            "reference": ref,
            "threshold": 5,
            "crossed_on": "2026-01-01",
            "due_on": case.due_on.isoformat(),
        }
        enqueue(session, key="w:out", kind="slack.warning", payload={**payload, "user": OUTSIDER})
        enqueue(session, key="w:cw", kind="slack.warning", payload={**payload, "user": CASEWORKER})
        enqueue(
            session,
            key="o:out",
            kind="slack.dm",
            payload={"user": OUTSIDER, "text": "x", "case_details": True},
        )
    OutboxSender(bot.settings, bot.engine, bot.client).drain_once()
    assert [c.body["users"] for c in bot.api.of("conversations.open")] == [CASEWORKER]
    with session_scope(bot.engine) as session:
        skipped = {r.key: r.result for r in session.execute(select(OutboxItem)).scalars()}
    assert (
        "not a caseworker" in skipped["w:out"]["skipped"]
        and "not a caseworker" in skipped["o:out"]["skipped"]
    )


def test_the_alerts_channel_gets_no_subjects_unless_it_passes(bot: RunningBot) -> None:
    today = date(2026, 12, 2)  # a Wednesday
    make_case(bot.engine, bot.settings, received=datetime(2026, 10, 1, 10, tzinfo=UTC))
    settings = bot.settings.model_copy(update={"alerts_channel": "C_ALERTS", "channel_detail": "subject"})
    run_pass(bot.engine, settings, today=today)
    with session_scope(bot.engine) as session:
        [post] = (
            session.execute(select(OutboxItem).where(col(OutboxItem.target) == "C_ALERTS")).scalars().all()
        )
    assert "WMOPC-2026-" in json.dumps(post.payload) and SUBJECT not in json.dumps(post.payload)
    _private_team_channel(bot.api, "C_ALERTS")
    bot.api.channels[TRIAGE] = bot.api.channels["C_ALERTS"]
    bot.api.members[TRIAGE] = bot.api.members["C_ALERTS"]
    run_checks(settings, bot.engine, bot.client, Access(settings, bot.client))
    run_pass(bot.engine, settings, today=today + timedelta(days=1))
    with session_scope(bot.engine) as session:
        posts = (
            session.execute(select(OutboxItem).where(col(OutboxItem.target) == "C_ALERTS")).scalars().all()
        )
    assert SUBJECT in json.dumps(posts[-1].payload)


def test_hold_from_slack(bot: RunningBot) -> None:
    ref = make_case(bot.engine, bot.settings)
    answer = bot.command(f"hold {ref} civil claim pending")
    assert "on hold" in answer["text"]
    assert "Give the case and why" in bot.command(f"hold {ref}")["text"]
    assert "only the casework team" in bot.command(f"hold {ref} x", user=MANAGER)["text"]


def _retention_click(bot: RunningBot, action_id: str, as_of: str, user: str) -> dict[str, Any]:
    before = len(bot.api.responses())
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "api_app_id": "A1",
        "token": "t",
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "D1"},
        "trigger_id": "1.2.3",
        "team": {"id": "T111"},
        "channel": {"id": "D1"},
        "response_url": bot.api.response_url("retention"),
        "actions": [
            {
                "action_id": action_id,
                "block_id": f"retention:{as_of}",
                "value": as_of,
                "type": "button",
                "action_ts": "1.3",
            }
        ],
    }
    assert bot.interact(payload).status == 200
    bot.api.wait_for("/response/", before + 1, timeout=30)
    return bot.api.responses()[before].body


def test_the_monthly_retention_dm_and_its_buttons(bot: RunningBot) -> None:
    ref = make_case(bot.engine, bot.settings, received=datetime(2013, 3, 4, 10, tzinfo=UTC))
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None
        set_status(
            session, case=case, status="closed", actor=CASEWORKER, at=datetime(2013, 3, 20, tzinfo=UTC)
        )
        case.slack_channel, case.slack_ts = TRIAGE, "1700000000.000001"  # its triage post
    now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    for _ in range(2):  # once a month, however often it runs
        run_retention(bot.engine, bot.settings, now=now, managers=[MANAGER])
    with session_scope(bot.engine) as session:
        [dm] = session.execute(select(OutboxItem).where(col(OutboxItem.kind) == "slack.dm")).scalars().all()
    assert dm.target == MANAGER and "1 closed case" in dm.payload["text"]
    Block.parse_all(dm.payload["blocks"])
    ids = [e["action_id"] for e in dm.payload["blocks"][1]["elements"]]
    assert ids == ["retention_review", "retention_confirm"]

    assert "don't have access" in _retention_click(bot, "retention_review", "2026-12-02", CASEWORKER)["text"]
    review = _retention_click(bot, "retention_review", "2026-12-02", MANAGER)
    assert ref in json.dumps(review["blocks"]) and SUBJECT not in json.dumps(review)
    done = _retention_click(bot, "retention_confirm", "2026-12-02", MANAGER)
    assert "Anonymised 1 case" in done["text"]
    with session_scope(bot.engine) as session:
        assert session.execute(select(AnonymisedCase)).scalar_one().reason == "retention"
        case = get_case(session, ref)
        assert case is not None and case.subject == ""
        trail = (
            session.execute(select(AuditEntry).where(col(AuditEntry.action) == "anonymised")).scalars().all()
        )
    assert [(a.actor, a.case_reference) for a in trail] == [(MANAGER, ref)]
    # the triage post in Slack is redrawn from the anonymised case
    OutboxSender(bot.settings, bot.engine, bot.client).drain_once()
    [update] = [c for c in bot.api.of("chat.update") if c.body["ts"] == "1700000000.000001"]
    assert SUBJECT not in json.dumps(update.body) and ref in update.body["text"]
