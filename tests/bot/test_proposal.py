"""Re-categorisation proposed by later mail, end to end: a letter and then a reply delivered to a
real Dovecot and logged by the poller; the reply makes the correspondence case read as a
complaint; the prompt is posted in the case's triage thread; a signed Slack click makes it a
complaint through set_category, and the reply is stored as the label the classifier learns.
Never silently: until someone clicks, the case stays as it was."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import Engine, select

from bot.access import REFUSAL
from bot.proposal import prompt as proposal_prompt
from bot.sender import OutboxSender
from intake.pipeline import Pipeline
from intake.poller import poll_once
from store.cases import get_case, history
from store.db import session_scope
from store.models import ClassifierLabel, Message, OutboxItem
from tests.bot.conftest import CASEWORKER, OUTSIDER, RunningBot
from tests.conftest import SLACK_FIXTURES, shared_or_skip
from tests.support.dovecot import Dovecot, dovecot_fixture, pipeline_for  # noqa: F401

ORIGINAL_ID = "<orig-16@example.org>"
ORIGINAL = (
    "From: Simon Okoro <s.okoro@example.org>\r\nTo: casework@pcc.example.gov.uk\r\n"
    "Subject: Custody desk opening times\r\nDate: Mon, 01 Jul 2013 10:00:00 +0100\r\n"
    f"Message-ID: {ORIGINAL_ID}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "Dear Commissioner,\r\n\r\nWhat is your position on keeping the custody desk at Perry Barr open at "
    "weekends? Will you support it?\r\n\r\nSimon Okoro\r\n"
)
REPLY_TEXT = (
    "Thank you for your reply. While I have you: I still want my complaint about PC Lomax looked at. "
    "When I went to the custody desk in May he spoke to me like dirt and laughed when I asked for his "
    "name. Nobody has come back to me about it."
)


def reply(text: str = REPLY_TEXT, *, number: int = 1) -> bytes:
    return (
        "From: Simon Okoro <s.okoro@example.org>\r\nTo: casework@pcc.example.gov.uk\r\n"
        "Subject: Re: Custody desk opening times\r\nDate: Tue, 02 Jul 2013 10:00:00 +0100\r\n"
        f"Message-ID: <reply-16-{number}@example.org>\r\nIn-Reply-To: {ORIGINAL_ID}\r\n"
        f"References: {ORIGINAL_ID}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{text}\r\n\r\nOn 1 Jul 2013, Simon Okoro wrote:\r\n> What is your position on keeping the custody "
        "desk open?\r\n"
    )


def click(bot: RunningBot, posted: dict[str, Any], action_id: str, *, user: str) -> None:
    """Press the prompt's button ``action_id`` as ``user``, signed as Slack signs it."""
    blocks = posted["blocks"] if isinstance(posted["blocks"], list) else json.loads(posted["blocks"])
    actions = next(b for b in blocks if b["type"] == "actions")
    button = next(e for e in actions["elements"] if e["action_id"] == action_id)
    payload = json.loads(shared_or_skip(SLACK_FIXTURES / "block_actions_button.json").read_text())
    payload["user"]["id"] = user
    channel, ts = posted["channel"], posted["ts"]
    payload["container"] = {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False}
    payload["channel"] = {"id": channel, "name": "triage"}
    payload["message"] = {"ts": ts, "type": "message"}
    payload["response_url"] = bot.api.response_url("proposal")
    payload["actions"] = [{"block_id": actions["block_id"], "action_ts": "1.2", "type": "button", **button}]
    assert bot.interact(payload).status == 200


def validate(blocks: Any) -> list[dict[str, Any]]:
    blocks = blocks if isinstance(blocks, list) else json.loads(blocks)
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.validate_json()
    return blocks


def prompt_post(bot: RunningBot) -> dict[str, Any]:
    """The proposal the sender posted, with the ts Slack gave it."""
    sender = OutboxSender(bot.settings, bot.engine, bot.client)
    assert sender.drain_once() == 1
    call = bot.api.of("chat.postMessage")[-1]
    with session_scope(bot.engine) as session:
        row = session.execute(select(OutboxItem).where(OutboxItem.kind == "slack.proposal")).scalar_one()
        assert row.sent_at is not None
        ts = row.result["ts"]
    return {**call.body, "ts": ts}


@pytest.mark.dovecot
def test_reply_proposes_complaint_and_one_click_makes_it_one(dovecot: Dovecot, bot: RunningBot) -> None:
    cfg = dovecot.settings(bot.settings.database_url)
    pipeline = pipeline_for(cfg, bot.engine)
    sender = OutboxSender(bot.settings, bot.engine, bot.client)

    dovecot.deliver(ORIGINAL.encode())
    assert poll_once(cfg, bot.engine, pipeline=pipeline)["opened"] == 1
    assert sender.drain_once() == 1  # the triage post
    with session_scope(bot.engine) as session:
        (case_id,) = session.execute(select(Message.case_id)).one()
        reference = get_case_reference(session)
        case = get_case(session, reference)
        assert case is not None and case.category == "correspondence"
        triage_channel, triage_ts = case.slack_channel, case.slack_ts
    assert triage_ts

    dovecot.deliver(reply().encode())
    assert poll_once(cfg, bot.engine, pipeline=pipeline)["attached"] == 1
    with session_scope(bot.engine) as session:
        case = get_case(session, reference)
        assert case is not None and case.category == "correspondence"  # never changed silently
        notes = [e for e in history(session, case=case) if e.new_value == "proposed:complaint"]
        assert len(notes) == 1 and notes[0].actor == "intake"
        reply_pk = session.execute(
            select(Message.id).where(Message.message_id == "<reply-16-1@example.org>")
        ).scalar_one()

    posted = prompt_post(bot)
    assert posted["channel"] == triage_channel and posted["thread_ts"] == triage_ts  # in the case's thread
    blocks = validate(posted["blocks"])
    text = json.dumps(blocks)
    assert "Make this a complaint" in text and "Keep as Correspondence" in text
    # the triage channel has not passed its privacy check (CASEWORK_CHANNEL_DETAIL=minimal): the
    # reply's words and the reasons drawn from them stay out of the channel, one click away
    assert "PC Lomax" not in text and "/casework case" in text
    with session_scope(bot.engine) as session:
        case = get_case(session, reference)
        assert case is not None
        reasons = ["dissatisfied with the police (an officer named)"]
        payload = {"category": "complaint", "message_pk": reply_pk, "text": REPLY_TEXT,
                   "reasons": reasons, "confidence": 0.8}  # fmt: skip
        _t, full = proposal_prompt(case, payload, level="full")
    shown = json.dumps(full)
    assert "still want my complaint about PC Lomax" in shown  # what the reply said
    assert "dissatisfied with the police" in shown  # why, named

    # someone who is not a caseworker: refused, only to them, and nothing changes
    click(bot, posted, "proposal_accept", user=OUTSIDER)
    refusal = bot.api.wait_for("/response/")[0]
    assert refusal.body["response_type"] == "ephemeral" and REFUSAL[:30] in json.dumps(refusal.body)
    with session_scope(bot.engine) as session:
        case = get_case(session, reference)
        assert case is not None and case.category == "correspondence"
        assert session.execute(select(ClassifierLabel)).first() is None

    click(bot, posted, "proposal_accept", user=CASEWORKER)
    updates = bot.api.wait_for("chat.update", 2)
    with session_scope(bot.engine) as session:
        case = get_case(session, reference)
        assert case is not None and case.category == "complaint" and not case.needs_triage
        change = [e for e in history(session, case=case) if e.kind == "category"]
        assert [(e.old_value, e.new_value, e.actor) for e in change] == [
            ("correspondence", "complaint", CASEWORKER)
        ]
        label = session.execute(select(ClassifierLabel)).scalar_one()
        assert (label.category, label.predicted, label.actor) == ("complaint", "correspondence", CASEWORKER)
        assert label.message_pk == reply_pk and label.case_id == case_id
        assert "still want my complaint about PC Lomax" in label.text
        assert "What is your position" not in label.text  # the quoted original is not learnt
    by_ts = {call.body["ts"]: call.body for call in updates}
    assert "made a complaint by <@U_CW>" in json.dumps(by_ts[posted["ts"]]["blocks"])
    assert "*Complaint*" in json.dumps(by_ts[triage_ts]["blocks"])  # the triage post redrawn
    for body in by_ts.values():
        validate(body["blocks"])


def get_case_reference(session: Any) -> str:
    from store.models import Case

    return str(session.execute(select(Case.reference)).scalar_one())


def logged_case(engine: Engine, settings: Any, *replies: bytes) -> tuple[str, Pipeline]:
    pipeline = Pipeline(settings, engine)
    opened = pipeline.process(ORIGINAL.encode(), source="test")
    assert opened.kind == "opened" and opened.case_reference
    for raw in replies:
        assert pipeline.process(raw, source="test").kind == "attached"
    return opened.case_reference, pipeline


def proposals(engine: Engine) -> list[OutboxItem]:
    with session_scope(engine) as session:
        return list(session.execute(select(OutboxItem).where(OutboxItem.kind == "slack.proposal")).scalars())


def test_declining_keeps_the_category_and_learns_the_reply_as_it(bot: RunningBot) -> None:
    reference, _pipeline = logged_case(bot.engine, bot.settings)
    assert OutboxSender(bot.settings, bot.engine, bot.client).drain_once() == 1
    _pipeline.process(reply(number=2).encode(), source="test")
    posted = prompt_post(bot)
    click(bot, posted, "proposal_decline", user=CASEWORKER)
    update = bot.api.wait_for("chat.update", 1)
    with session_scope(bot.engine) as session:
        case = get_case(session, reference)
        assert case is not None and case.category == "correspondence"
        label = session.execute(select(ClassifierLabel)).scalar_one()
        assert (label.category, label.predicted) == ("correspondence", "complaint")
        assert any(
            "declined the proposal" in e.note and e.actor == CASEWORKER for e in history(session, case=case)
        )
    assert any("kept as Correspondence" in json.dumps(call.body["blocks"]) for call in update)


def test_no_proposal_for_an_ordinary_reply_or_one_quoting_a_complaint(engine: Engine, settings: Any) -> None:
    """A thank-you proposes nothing, even when it quotes complaint-like text below it."""
    quoting = reply("Thanks, that answers my question about the desk.", number=3).replace(
        "> What is your position", "> I want to complain about PC Lomax, he was rude and aggressive. What is"
    )
    logged_case(
        engine, settings, reply("Thanks very much, that is helpful.", number=4).encode(), quoting.encode()
    )
    assert proposals(engine) == []


def test_a_case_is_proposed_once_and_never_for_a_complaint(engine: Engine, settings: Any) -> None:
    logged_case(engine, settings, reply(number=5).encode(), reply(number=6).encode())
    assert len(proposals(engine)) == 1
    pipeline = Pipeline(settings, engine)
    complaint = ORIGINAL.replace(ORIGINAL_ID, "<c-16@example.org>").replace(
        "What is your position on keeping the custody desk at Perry Barr open at weekends? "
        "Will you support it?",
        "I want to make a complaint about PC Lomax, who was rude to me at the custody desk.",
    )
    assert pipeline.process(complaint.encode(), source="test").kind == "opened"
    again = reply(number=7).replace(ORIGINAL_ID, "<c-16@example.org>")
    assert pipeline.process(again.encode(), source="test").kind == "attached"
    assert len(proposals(engine)) == 1  # the complaint case is not asked to become one
