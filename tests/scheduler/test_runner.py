"""The running scheduler: job options, misfires caught up once, restart, and two instances."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.sender import OutboxSender
from casework.scheduler import start
from casework.scheduler.jobs import job_table, next_runs
from casework.scheduler.runner import MISFIRE_GRACE, build
from casework.settings import Settings
from store.workdays import LONDON
from tests.conftest import make_settings
from tests.scheduler.support import SCHEDULER_CASEWORKERS, keys, make_case, outbox
from tests.support.slack_api import fake_slack_api

ROOT = Path(__file__).resolve().parents[2]


def test_every_job_coalesces_and_never_overlaps(sqlite_url: str) -> None:
    cfg = make_settings(sqlite_url, imap_host="127.0.0.1", imap_idle=False)
    scheduler = build(cfg, engine=None, clock=lambda: datetime.now(UTC))  # type: ignore[arg-type]
    scheduler.start(paused=True)
    try:
        jobs = scheduler.get_jobs()
        assert {job.id for job in jobs} == {
            "warnings", "digest", "weekly", "retrain", "retention", "surgeries", "poll"
        }  # fmt: skip
        for job in jobs:
            assert job.coalesce is True and job.max_instances == 1
            assert job.misfire_grace_time == MISFIRE_GRACE.total_seconds()
    finally:
        scheduler.shutdown(wait=False)


def test_missed_runs_catch_up_once_within_grace(sqlite_url: str) -> None:
    """Five missed runs of a job (the process slept) run ONCE; runs missed beyond the grace are
    left to the start-up catch-up and the next run."""
    scheduler = build(make_settings(sqlite_url), engine=None)  # type: ignore[arg-type]
    ran: Counter[str] = Counter()
    scheduler.start(paused=True)
    try:
        # a job that missed five runs (the process slept): coalesced into one run
        scheduler.add_job(ran.update, IntervalTrigger(minutes=1), args=(["late"],), id="late")
        scheduler.modify_job("late", next_run_time=datetime.now(LONDON) - timedelta(minutes=5))
        # a one-off run missed by more than the grace: not run late
        too_late = datetime.now(LONDON) - MISFIRE_GRACE - timedelta(minutes=5)
        scheduler.add_job(ran.update, DateTrigger(too_late), args=(["too-late"],), id="too-late")
        scheduler.resume()
        deadline = time.monotonic() + 5
        while not ran and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)
    finally:
        scheduler.shutdown(wait=True)
    assert ran == Counter({"late": 1})


def test_triggers_keep_london_time_across_bst(sqlite_url: str) -> None:
    """The 09:00 digest stays 09:00 in London when the clocks change (08:00 UTC in summer)."""
    table = {
        spec.id: when
        for spec, when in next_runs(
            job_table(make_settings(sqlite_url)), now=datetime(2013, 10, 25, 10, 0, tzinfo=LONDON)
        )
    }
    assert table["digest"] == datetime(2013, 10, 28, 9, 0, tzinfo=LONDON)
    assert table["digest"].astimezone(UTC).hour == 9  # GMT after 27 Oct
    spring = dict(
        (spec.id, when)
        for spec, when in next_runs(
            job_table(make_settings(sqlite_url)), now=datetime(2013, 3, 29, 10, 0, tzinfo=LONDON)
        )
    )
    assert spring["digest"] is not None
    assert spring["digest"].astimezone(UTC) == datetime(2013, 4, 1, 8, 0, tzinfo=UTC)  # BST from 31 Mar


def test_start_catches_up_and_a_restart_sends_nothing_twice(engine: Engine, settings: Settings) -> None:
    """Service started at 10:00 on Wed 10 Apr 2013: the catch-up records the warnings and the
    digest, the sender posts them to Slack; a restart the same day posts nothing new."""
    refs = [make_case(engine, settings, due=date(2013, 4, 10)) for _ in range(3)]
    now = datetime(2013, 4, 10, 10, 0, tzinfo=LONDON)
    with fake_slack_api() as api:
        cfg = make_settings(
            settings.database_url,
            alerts_channel="C0ALERTS",
            slack_api_url=api.base_url,
            caseworkers=SCHEDULER_CASEWORKERS,
        )
        client = WebClient(token="xoxb-test", base_url=api.base_url)
        sender = OutboxSender(cfg, engine, client, today=now.date)
        for _restart in range(2):
            done = threading.Event()
            scheduler = start(cfg, engine, clock=lambda: now, caught_up=done)
            try:
                assert done.wait(30)
            finally:
                scheduler.shutdown(wait=True)
            while sender.drain_once():
                pass
        posts = api.of("chat.postMessage")
    items = outbox(engine)
    assert all(item.sent_at is not None for item in items)
    # 3 cases x (DM + channel) + the digest, each posted exactly once
    assert len(items) == 7 and len(posts) == 7
    texts = Counter(call.body.get("text") for call in posts)
    for ref in refs:
        assert sum(n for text, n in texts.items() if text and ref in text) == 2


@pytest.mark.slow
def test_two_service_processes_send_each_warning_once(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    """Two instances of the service against one database, started together: every warning, each
    daily overdue list and the digest exist once in the outbox and reach Slack once."""
    for n in range(12):
        make_case(engine, settings, due=date(2013, 4, 10) + timedelta(days=n % 3), assignee=f"U0CW{n % 4}")
    for n in range(5):  # overdue: two caseworkers' lists and one unassigned case
        make_case(engine, settings, due=date(2013, 4, 8 + n % 2), assignee=(None, "U0CW0", "U0CW1")[n % 3])
    go = tmp_path / "go"
    now = "2013-04-10T10:00:00+01:00"
    with fake_slack_api() as api:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.scheduler.service_proc",
                    settings.database_url,
                    now,
                    api.base_url,
                    str(go),
                ],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        time.sleep(0.5)
        go.touch()
        results = [proc.communicate(timeout=120) for proc in procs]
        for proc, (_out, err) in zip(procs, results, strict=True):
            assert proc.returncode == 0, err[-3000:]
        posts = api.of("chat.postMessage")
    items = outbox(engine)
    sent_by = [int(out.strip().splitlines()[-1]) for out, _ in results]
    assert sum(sent_by) == len(items) == len(posts)
    assert all(item.sent_at is not None for item in items)
    assert len(set(keys(engine))) == len(items)
    # 12 cases at a threshold (0, 1 or 2 days left): a DM and a channel post each; the overdue
    # lists (two DMs, one post); the digest; and Monday's weekly summary, caught up on Wednesday
    assert len(items) == 12 * 2 + 3 + 2
    assert {i.key for i in items if not i.key.startswith("warn:")} == {
        "overdue:2013-04-10:dm:U0CW0",
        "overdue:2013-04-10:dm:U0CW1",
        "overdue:2013-04-10:channel:C0ALERTS",
        "digest:2013-04-10:channel:C0ALERTS",
        "weekly:2013-04-01:dm:U0BOSS1",
    }
    posted = Counter((call.body.get("channel"), call.body.get("text")) for call in posts)
    assert max(posted.values()) == 1
