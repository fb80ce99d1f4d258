"""When a campaign is recognised, Slack is put right: the campaign case's triage post is redrawn
as a campaign, and the merged-away cases' posts say where their case went."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block
from sqlalchemy import Engine

from bot.sender import OutboxSender
from casework.settings import Settings
from tests.conftest import make_settings
from tests.support.intake_mail import CAMPAIGN_TEXT, eml, later, make_pipeline
from tests.support.slack_api import FakeSlackAPI, fake_slack_api

SUBJECT = "Protect neighbourhood policing"


@pytest.fixture
def api() -> Iterator[FakeSlackAPI]:
    with fake_slack_api() as fake:
        yield fake


def letter(n: int, person: str) -> bytes:
    name = person.split()[0]
    return eml(sender=person, body=f"{CAMPAIGN_TEXT}{name}\n", subject=SUBJECT,
               message_id=f"<c{n}@example.org>", date=later(n))  # fmt: skip


def test_campaign_recognised_after_posting_rewrites_the_earlier_posts(
    database_url: str, engine: Engine, api: FakeSlackAPI
) -> None:
    settings: Settings = make_settings(database_url, triage_channel="C0TRIAGE", slack_api_url=api.base_url)
    pipeline = make_pipeline(settings, engine)
    sender = OutboxSender(settings, engine, WebClient(token="xoxb-test", base_url=api.base_url))
    people = ["Ann <ann@example.org>", "Bob <bob@example.net>", "Cat <cat@example.com>"]
    outcomes = []
    for n, person in enumerate(people[:2]):
        outcomes.append(pipeline.process(letter(n, person), source="t"))
        sender.drain_once()
    assert [o.kind for o in outcomes] == ["opened", "opened"]
    assert len(api.of("chat.postMessage")) == 2

    third = pipeline.process(letter(5, people[2]), source="t")
    assert third.kind == "attached" and third.case_reference == outcomes[0].case_reference
    while sender.drain_once():
        pass
    assert len(api.of("chat.postMessage")) == 2  # nothing posted twice
    texts = [json.dumps(call.body) for call in api.of("chat.update")]
    merged = [t for t in texts if "was merged into campaign case" in t]
    assert len(merged) == 1
    assert str(outcomes[1].case_reference) in merged[0] and str(outcomes[0].case_reference) in merged[0]
    redrawn = [t for t in texts if "was merged" not in t]
    assert redrawn and any("ampaign" in t for t in redrawn)
    for call in api.of("chat.update"):
        blocks = call.body.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        for block in blocks or []:
            parsed = Block.parse(block)
            assert parsed is not None
            parsed.validate_json()
