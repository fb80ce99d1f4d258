"""The smaller Slack findings of the security review, one test each: one escape everywhere,
``verbatim`` on every mrkdwn object, and refusals and errors only ever shown to the asker."""

from __future__ import annotations

import json
from datetime import date

from slack_sdk.models.blocks import Block

from bot import triage
from bot.escape import ZWSP, mrkdwn
from casework.scheduler import messages
from store.db import session_scope
from tests.bot.conftest import MANAGER, OUTSIDER, RunningBot, make_case

HOSTILE = "*URGENT* `rm -rf` ~gone~ _x_ @channel @here www.evil.example https://evil.example <@U1>"


def _mrkdwn_objects(value: object) -> list[dict]:
    found = []
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn":
            found.append(value)
        for item in value.values():
            found += _mrkdwn_objects(item)
    elif isinstance(value, list):
        for item in value:
            found += _mrkdwn_objects(item)
    return found


def test_the_scheduler_uses_the_bots_one_escape() -> None:
    """Its own escape let ``*bold*``, backticks and ``@channel`` through into alerts."""
    assert messages.escape(HOSTILE) == mrkdwn(HOSTILE)
    out = messages.escape(HOSTILE)
    for raw in ("*URGENT*", "`rm", "~gone~", "_x_", "@channel", "@here", "www.evil", "https://", "<@U1>"):
        assert raw not in out, raw
    assert f"www{ZWSP}.evil.example" in out  # bare www. names are defused too


def test_every_mrkdwn_object_is_verbatim(bot: RunningBot) -> None:
    ref = make_case(bot.engine, bot.settings, subject=HOSTILE, body=HOSTILE)
    with session_scope(bot.engine) as session:
        rendered = triage.render(session, reference=ref, settings=bot.settings, today=date.today())
    assert rendered is not None
    line = messages.CaseLine(ref, "Complaint", HOSTILE, "Open", None, date(2013, 4, 9), 2, 3)
    digest = [messages.section(line.mrkdwn()), messages.context(messages.escape(HOSTILE))]
    for built in (rendered[1], digest):
        objects = _mrkdwn_objects(built)
        assert objects and all(obj.get("verbatim") is True for obj in objects)
        Block.parse_all(built)  # still what Slack's models accept
        assert "@channel" not in json.dumps(built) and "*URGENT*" not in json.dumps(built)


def test_summary_share_refused_is_only_shown_to_the_asker(bot: RunningBot) -> None:
    reply = bot.command("summary share", user=OUTSIDER)
    assert reply["response_type"] == "ephemeral"


def test_summary_share_with_bad_input_is_only_shown_to_the_asker(bot: RunningBot) -> None:
    reply = bot.command("summary 2013-13 share", user=MANAGER)
    assert reply["response_type"] == "ephemeral"
    reply = bot.command("calls nonsense-period share", user=MANAGER)
    assert reply["response_type"] == "ephemeral"
