"""The deadline warning pass: thresholds, quiet days, catch-up, exactly-once keys, content.

The daily overdue list has its own tests in ``test_overdue.py``."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from casework.scheduler.jobs import warnings_job
from casework.scheduler.warnings import run_pass
from casework.settings import Settings
from tests.conftest import make_settings
from tests.scheduler.support import SCHEDULER_CASEWORKERS, delivered, keys, make_case, outbox


@pytest.fixture
def alert_settings(settings: Settings) -> Settings:
    return make_settings(settings.database_url, alerts_channel="C0ALERTS", caseworkers=SCHEDULER_CASEWORKERS)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def test_thresholds_across_easter_2013_each_sent_once(engine: Engine, alert_settings: Settings) -> None:
    """Due Wed 3 Apr 2013: 5 left on Mon 25 Mar, 2 on Thu 28 Mar (Good Friday and Easter Monday
    are not working days), due today on 3 Apr, each warned on its own; then overdue, in the daily
    list on 4 and 5 Apr; quiet over Easter."""
    ref = make_case(engine, alert_settings, due=date(2013, 4, 3))
    sent_on: dict[date, list[int]] = {}
    listed_on: list[date] = []
    for day in days(date(2013, 3, 18), date(2013, 4, 5)):
        result = run_pass(engine, alert_settings, today=day)
        new = [w.level for w in result.warnings if any(k.startswith(w.key) for k in result.queued)]
        if new:
            sent_on[day] = new
        if f"overdue:{day.isoformat()}:dm:U0CASEWKR" in result.queued:
            listed_on.append(day)
        if day in (date(2013, 3, 29), date(2013, 3, 30), date(2013, 3, 31), date(2013, 4, 1)):
            assert not result.working_day and result.queued == []
    assert sent_on == {date(2013, 3, 25): [5], date(2013, 3, 28): [2], date(2013, 4, 3): [0]}
    assert listed_on == [date(2013, 4, 4), date(2013, 4, 5)]
    # one DM and one channel post per warning and per daily list, and not one more when
    # everything runs again
    before = keys(engine)
    assert len(before) == 2 * 3 + 2 * 2
    assert [k for k in before if k.startswith("warn:")] == sorted(
        f"warn:{ref}:{level}:{day}:{to}"
        for level, day in ((5, "2013-03-25"), (2, "2013-03-28"), (0, "2013-04-03"))
        for to in ("channel:C0ALERTS", "dm:U0CASEWKR")
    )
    assert [k for k in before if k.startswith("overdue:")] == [
        f"overdue:{day}:{to}"
        for day in ("2013-04-04", "2013-04-05")
        for to in ("channel:C0ALERTS", "dm:U0CASEWKR")
    ]
    for day in days(date(2013, 3, 18), date(2013, 4, 5)):
        assert run_pass(engine, alert_settings, today=day).queued == []
    assert keys(engine) == before


def test_missed_friday_is_sent_on_monday_once(engine: Engine, alert_settings: Settings) -> None:
    """The service was down on the Friday a case reached 5 days left: Monday sends that warning
    (keyed by Friday) once, the weekend stays quiet, and Tuesday sends nothing stale."""
    ref = make_case(engine, alert_settings, due=date(2013, 5, 17))  # Fri 10 May is 5 days left
    assert run_pass(engine, alert_settings, today=date(2013, 5, 9)).queued == []
    for weekend in (date(2013, 5, 11), date(2013, 5, 12)):
        result = run_pass(engine, alert_settings, today=weekend)
        assert not result.working_day and "weekend" in result.reason
    monday = run_pass(engine, alert_settings, today=date(2013, 5, 13))
    assert [w.key for w in monday.warnings] == [f"warn:{ref}:5:2013-05-10"]
    assert monday.warnings[0].line.working_days_left == 4
    assert len(monday.queued) == 2
    assert run_pass(engine, alert_settings, today=date(2013, 5, 14)).queued == []
    # Wed 15 May is 2 days left: the next level goes out on its own day
    assert len(run_pass(engine, alert_settings, today=date(2013, 5, 15)).queued) == 2


def test_christmas_and_scottish_new_year_are_quiet(engine: Engine, alert_settings: Settings) -> None:
    """25, 26 Dec 2013 and 1, 2 Jan 2014 (2 Jan is a bank holiday in Scotland) send nothing; the
    overdue list counts working days only."""
    ref = make_case(engine, alert_settings, due=date(2013, 12, 24))  # overdue from 27 Dec
    quiet = [date(2013, 12, 25), date(2013, 12, 26), date(2014, 1, 1), date(2014, 1, 2)]
    for day in quiet:
        result = run_pass(engine, alert_settings, today=day)
        assert not result.working_day and "bank holiday" in result.reason and result.queued == []
    friday = run_pass(engine, alert_settings, today=date(2013, 12, 27))
    assert friday.warnings == [] and friday.overdue is not None and friday.overdue.total == 1
    after = run_pass(engine, alert_settings, today=date(2014, 1, 3))
    assert sorted(after.queued) == ["overdue:2014-01-03:channel:C0ALERTS", "overdue:2014-01-03:dm:U0CASEWKR"]
    # 27, 30, 31 Dec and 3 Jan are working days after the due date
    dm = {i.key: i for i in outbox(engine)}["overdue:2014-01-03:dm:U0CASEWKR"]
    body = json.dumps(dm.payload["blocks"])
    assert ref in body and "overdue by 4 working days" in body and "Tue 24 Dec 2013" in body


def test_the_day_is_the_london_date_across_bst(engine: Engine, alert_settings: Settings) -> None:
    """23:30 UTC on Easter Monday 2013 is already Tuesday 00:30 BST: a working day; 23:30 UTC on
    Sun 27 Oct 2013 (clocks went back that morning) is still Sunday in London: quiet."""
    ref = make_case(engine, alert_settings, due=date(2013, 4, 2))
    tuesday = warnings_job(alert_settings, engine, datetime(2013, 4, 1, 23, 30, tzinfo=UTC))
    assert tuesday.as_of == date(2013, 4, 2)  # type: ignore[attr-defined]
    assert [w.key for w in tuesday.warnings] == [f"warn:{ref}:0:2013-04-02"]  # type: ignore[attr-defined]
    sunday = warnings_job(alert_settings, engine, datetime(2013, 10, 27, 23, 30, tzinfo=UTC))
    assert sunday.as_of == date(2013, 10, 27) and not sunday.working_day  # type: ignore[attr-defined]


def test_warning_says_what_the_case_is_escaped(engine: Engine, alert_settings: Settings) -> None:
    """The rows carry what the warning is about; the sender renders reference, category, subject
    (escaped: no mention, no link), waiting time, status and due date from the case."""
    ref = make_case(
        engine,
        alert_settings,
        due=date(2013, 4, 10),
        category="complaint",
        subject="Officer <@U999> & <http://evil.example|click> rude",
        status="in_progress",
        note="referred to force",
    )
    result = run_pass(engine, alert_settings, today=date(2013, 4, 8))
    [warning] = result.warnings
    assert warning.line.status_text.startswith("Waiting on the force")
    about = {"reference": ref, "threshold": 2, "crossed_on": "2013-04-08", "due_on": "2013-04-10"}
    assert {(i.key, i.kind, i.target): i.payload for i in outbox(engine)} == {
        (f"warn:{ref}:2:2013-04-08:dm:U0CASEWKR", "slack.warning", "U0CASEWKR"): {
            "user": "U0CASEWKR",
            **about,
        },
        (f"warn:{ref}:2:2013-04-08:channel:C0ALERTS", "slack.warning", "C0ALERTS"): {
            "channel": "C0ALERTS",
            **about,
        },
    }
    posts = {
        call.body["channel"]: call.body for call in delivered(engine, alert_settings, today=date(2013, 4, 8))
    }
    assert set(posts) == {"D0CASEWKR", "C0ALERTS"}
    # the alerts channel has not passed its privacy check: the same warning without the subject
    assert "Officer" not in json.dumps(posts["C0ALERTS"]) and ref in json.dumps(posts["C0ALERTS"])
    assert posts["D0CASEWKR"]["text"] == posts["C0ALERTS"]["text"]
    body = json.dumps(posts["D0CASEWKR"]["blocks"])
    for wanted in (
        ref,
        "Complaint",
        "2 working days left",
        "Wed 10 Apr 2013",
        "waited 18 working days",
        "Waiting on the force",
    ):
        assert wanted in body, wanted
    assert "&lt;@U999&gt; &amp; &lt;http:\\u200b//evil.example|click&gt;" in body  # bot.escape.mrkdwn
    assert "<@U999>" not in body and "<http://evil" not in body
    assert "<@U0CASEWKR>" in body  # the assignee is mentioned on purpose
    assert posts["C0ALERTS"]["text"] == f"{ref}: 2 working days left (due Wed 10 Apr 2013)"


def test_monitoring_listed_apart_without_dm(engine: Engine, alert_settings: Settings) -> None:
    """A case waiting on the IOPC gets no DM: it is listed in one monitoring post."""
    acting = make_case(engine, alert_settings, due=date(2013, 4, 10))
    waiting = make_case(engine, alert_settings, due=date(2013, 4, 9), status="monitoring", assignee="U0OTHER")
    result = run_pass(engine, alert_settings, today=date(2013, 4, 8))
    assert [w.line.reference for w in result.warnings] == [acting]
    assert [w.line.reference for w in result.monitoring] == [waiting]
    items = outbox(engine)
    assert not [i for i in items if waiting in i.key]
    [listing] = [i for i in items if i.key.startswith("warn-monitoring:")]
    assert listing.key == "warn-monitoring:2013-04-08:channel:C0ALERTS"
    listed = json.dumps(listing.payload["blocks"])
    assert waiting in listed and acting not in listed
    assert run_pass(engine, alert_settings, today=date(2013, 4, 8)).queued == []


def test_closed_and_far_cases_are_left_alone(engine: Engine, alert_settings: Settings) -> None:
    make_case(engine, alert_settings, due=date(2013, 4, 8), status="closed")
    make_case(engine, alert_settings, due=date(2013, 5, 8))
    result = run_pass(engine, alert_settings, today=date(2013, 4, 8))
    assert result.warnings == [] and result.monitoring == [] and keys(engine) == []
    assert result.overdue is not None and result.overdue.total == 0


def test_crash_mid_run_then_restart_sends_each_once(engine: Engine, alert_settings: Settings) -> None:
    """A pass that dies after its first batch leaves that batch recorded; the rerun adds the rest."""
    refs = [make_case(engine, alert_settings, due=date(2013, 4, 10)) for _ in range(5)]

    def crash(batch: int) -> None:
        raise RuntimeError("killed mid-run")

    with pytest.raises(RuntimeError):
        run_pass(engine, alert_settings, today=date(2013, 4, 8), batch=2, on_batch=crash)
    assert len(keys(engine)) == 2 * 2  # the first batch of two cases, DM and channel each
    run_pass(engine, alert_settings, today=date(2013, 4, 8), batch=2)
    per_case = Counter(key.split(":")[1] for key in keys(engine))
    assert per_case == {ref: 2 for ref in refs}


def test_thresholds_come_from_settings(engine: Engine, settings: Settings) -> None:
    custom = make_settings(settings.database_url, warning_thresholds="3", alerts_channel="")
    make_case(engine, custom, due=date(2013, 4, 10), assignee=None)
    make_case(engine, custom, due=date(2013, 4, 11))
    result = run_pass(engine, custom, today=date(2013, 4, 8))  # 2 and 3 days left: both at level 3
    assert sorted(w.level for w in result.warnings) == [3, 3]
    # no alerts channel and one case unassigned: only the assignee's DM is recorded
    assert [(item.kind, item.target, set(item.payload)) for item in outbox(engine)] == [
        ("slack.warning", "U0CASEWKR", {"user", "reference", "threshold", "crossed_on", "due_on"})
    ]
