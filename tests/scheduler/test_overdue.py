"""The daily overdue list: one DM per assignee, one channel post, once a working day."""

from __future__ import annotations

import json
from datetime import date

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import Engine

from casework.scheduler.messages import MAX_LINES
from casework.scheduler.overdue import find_overdue
from casework.scheduler.warnings import run_pass
from casework.settings import Settings
from store.db import session_scope
from tests.conftest import make_settings
from tests.scheduler.support import SCHEDULER_CASEWORKERS, keys, make_case, outbox

WED = date(2013, 4, 10)


@pytest.fixture
def alert_settings(settings: Settings) -> Settings:
    return make_settings(settings.database_url, alerts_channel="C0ALERTS", caseworkers=SCHEDULER_CASEWORKERS)


def validated(blocks: list[dict[str, object]]) -> None:
    models = Block.parse_all(blocks)
    assert [model.to_dict() for model in models] == blocks  # type: ignore[union-attr]
    assert len(blocks) <= 50


def test_one_dm_per_assignee_with_all_their_overdue_cases(engine: Engine, alert_settings: Settings) -> None:
    """Two caseworkers with overdue cases, one unassigned, one in monitoring, one due in 2 days:
    each caseworker gets ONE DM listing theirs, most overdue first; the channel gets ONE post."""
    jane_old = make_case(
        engine,
        alert_settings,
        due=date(2013, 3, 20),
        assignee="U0JANE",
        subject="Officer <@U999> & <http://evil.example|click>",
        status="in_progress",
        note="referred to force",
    )
    jane_new = make_case(engine, alert_settings, due=date(2013, 4, 9), assignee="U0JANE")
    raj = make_case(engine, alert_settings, due=date(2013, 4, 5), assignee="U0RAJ")
    nobody = make_case(engine, alert_settings, due=date(2013, 4, 8), assignee=None)
    watched = make_case(engine, alert_settings, due=date(2013, 4, 3), status="monitoring", assignee="U0JANE")
    soon = make_case(engine, alert_settings, due=date(2013, 4, 12), assignee="U0JANE")

    result = run_pass(engine, alert_settings, today=WED)
    assert [w.line.reference for w in result.warnings] == [soon]  # the threshold part: not the overdue
    overdue = result.overdue
    assert overdue is not None
    assert (overdue.total, overdue.unassigned, overdue.counts) == (4, 1, {"U0JANE": 2, "U0RAJ": 1, "": 1})
    assert result.as_json()["overdue"] == {
        "total": 4,
        "unassigned": 1,
        "by_assignee": {"U0JANE": 2, "U0RAJ": 1},
    }
    items = {i.key: i for i in outbox(engine)}
    lists = sorted(k for k in items if k.startswith("overdue:"))
    assert lists == [
        "overdue:2013-04-10:channel:C0ALERTS",
        "overdue:2013-04-10:dm:U0JANE",
        "overdue:2013-04-10:dm:U0RAJ",
    ]
    jane = items["overdue:2013-04-10:dm:U0JANE"]
    assert jane.kind == "slack.dm" and set(jane.payload) == {"user", "text", "blocks", "case_details"}
    assert jane.payload["user"] == "U0JANE" and "2 overdue cases" in jane.payload["text"]
    validated(jane.payload["blocks"])
    body = json.dumps(jane.payload["blocks"])
    assert body.index(jane_old) < body.index(jane_new)  # most overdue first
    for wanted in ("overdue by 13 working days", "Wed 20 Mar 2013", "Waiting on the force", "overdue by 1"):
        assert wanted in body, wanted
    assert "&lt;@U999&gt; &amp; &lt;http:\\u200b//evil.example|click&gt;" in body  # bot.escape.mrkdwn
    assert "<@U999>" not in body and "<http://evil" not in body
    assert watched not in body and soon not in body and raj not in body
    assert raj in json.dumps(items["overdue:2013-04-10:dm:U0RAJ"].payload["blocks"])

    post = items["overdue:2013-04-10:channel:C0ALERTS"]
    assert post.kind == "slack.post" and post.payload["channel"] == "C0ALERTS"
    validated(post.payload["blocks"])
    channel = json.dumps(post.payload["blocks"])
    assert "4 overdue cases" in channel and "1 unassigned" in channel
    assert channel.index(nobody) < channel.index(jane_old)  # the unassigned list comes first
    assert watched not in channel and "<@U999>" not in channel
    # monitoring stays in its own post
    assert watched in json.dumps(items["warn-monitoring:2013-04-10:channel:C0ALERTS"].payload["blocks"])


def test_nothing_twice_and_a_new_list_next_working_day(engine: Engine, alert_settings: Settings) -> None:
    """Hourly re-runs record nothing; Friday gets Friday's list; the weekend is quiet; Monday lists again."""
    make_case(engine, alert_settings, due=date(2013, 4, 8))
    make_case(engine, alert_settings, due=date(2013, 4, 9))
    first = run_pass(engine, alert_settings, today=date(2013, 4, 11))
    assert sorted(first.queued) == ["overdue:2013-04-11:channel:C0ALERTS", "overdue:2013-04-11:dm:U0CASEWKR"]
    for _hour in range(3):
        assert run_pass(engine, alert_settings, today=date(2013, 4, 11)).queued == []
    assert len(run_pass(engine, alert_settings, today=date(2013, 4, 12)).queued) == 2
    for weekend in (date(2013, 4, 13), date(2013, 4, 14)):
        quiet = run_pass(engine, alert_settings, today=weekend)
        assert not quiet.working_day and quiet.queued == [] and quiet.overdue is None
    monday = run_pass(engine, alert_settings, today=date(2013, 4, 15))
    assert sorted(monday.queued) == ["overdue:2013-04-15:channel:C0ALERTS", "overdue:2013-04-15:dm:U0CASEWKR"]
    assert len(keys(engine)) == 6  # no missed-day replay: one DM and one post per working day


def test_a_long_list_is_cut_with_a_count(engine: Engine, alert_settings: Settings) -> None:
    """More overdue cases than a message shows: the first MAX_LINES, then "…and N more"; still one DM."""
    for _ in range(MAX_LINES + 3):
        make_case(engine, alert_settings, due=date(2013, 4, 2))
    make_case(engine, alert_settings, due=date(2013, 3, 1), assignee=None)
    run_pass(engine, alert_settings, today=WED)
    items = {i.key: i for i in outbox(engine)}
    dm = items["overdue:2013-04-10:dm:U0CASEWKR"]
    validated(dm.payload["blocks"])
    assert dm.payload["blocks"][-1]["elements"][0]["text"] == "…and 3 more."
    assert json.dumps(dm.payload["blocks"]).count("WMOPC-") == MAX_LINES
    post = items["overdue:2013-04-10:channel:C0ALERTS"]
    validated(post.payload["blocks"])
    assert f"{MAX_LINES + 4} overdue cases" in json.dumps(post.payload["blocks"])


def test_the_store_counts_and_returns_only_the_first_of_each(
    engine: Engine, alert_settings: Settings
) -> None:
    """``find_overdue`` reads only ``per_assignee`` rows of each assignee; the counts are the store's."""
    refs = [make_case(engine, alert_settings, due=date(2013, 4, d)) for d in (2, 3, 4, 5, 8)]
    make_case(engine, alert_settings, due=date(2013, 4, 9), assignee="U0RAJ")
    make_case(engine, alert_settings, due=date(2013, 4, 8), status="closed")
    with session_scope(engine) as session:
        found = find_overdue(session, today=WED, per_assignee=2)
    assert found.counts == {"U0CASEWKR": 5, "U0RAJ": 1}
    assert [r.reference for r in found.first["U0CASEWKR"]] == refs[:2]
    assert [r.reference for r in found.oldest(2)] == refs[:2]


def test_no_channel_means_dms_only(engine: Engine, settings: Settings) -> None:
    quiet = make_settings(settings.database_url, alerts_channel="")
    make_case(engine, quiet, due=date(2013, 4, 8))
    make_case(engine, quiet, due=date(2013, 4, 8), assignee=None)
    result = run_pass(engine, quiet, today=WED)
    assert result.queued == ["overdue:2013-04-10:dm:U0CASEWKR"]
