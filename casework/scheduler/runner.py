"""Running the job table with APScheduler 3 in the service process.

A ``BackgroundScheduler`` in Europe/London, every job with ``coalesce=True`` (runs missed
while the process was asleep or busy collapse into ONE), ``max_instances=1`` (a slow run is
never overlapped by the next) and a misfire grace time, so a run that is late but within the
grace still happens, once. Jobs live in memory: what survives a restart is the store, not the
schedule. At start-up every catch-up job runs once straight away (the warning pass, and the
digest or weekly summary when their time today has passed), and since each job's sends are
keyed in the outbox, a run the previous process already made records nothing new.

Several instances against one database may all run the jobs; the outbox keys make each
message exist once, and the IMAP poll takes a single-holder lease.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from casework.scheduler.jobs import JobSpec, job_table
from casework.settings import Settings
from store.workdays import LONDON

log = logging.getLogger(__name__)

#: a run up to this late still happens (once); a later one is covered by the next run or the start-up catch-up
MISFIRE_GRACE = timedelta(hours=3)

Clock = Callable[[], datetime]


def london_now() -> datetime:
    return datetime.now(LONDON)


def run_job(spec: JobSpec, settings: Settings, engine: Engine, clock: Clock) -> object:
    """One run of one job; a failure is logged and the scheduler goes on."""
    from casework.metrics import SCHEDULER_RUNS

    try:
        result = spec.func(settings, engine, clock())
    except Exception:
        SCHEDULER_RUNS.labels(job=spec.id, outcome="failed").inc()
        log.exception("scheduled job %s failed; it runs again at its next time", spec.id)
        return None
    SCHEDULER_RUNS.labels(job=spec.id, outcome="ok").inc()
    return result


def build(settings: Settings, engine: Engine, *, clock: Clock = london_now) -> BackgroundScheduler:
    """A scheduler with the job table added, not started."""
    scheduler = BackgroundScheduler(
        timezone=LONDON,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(MISFIRE_GRACE.total_seconds()),
        },
    )
    for spec in job_table(settings):
        scheduler.add_job(
            run_job,
            trigger=spec.trigger,
            args=(spec, settings, engine, clock),
            id=spec.id,
            name=spec.description,
            replace_existing=True,
        )
    return scheduler


def catch_up(
    settings: Settings, engine: Engine, *, clock: Clock = london_now, done: threading.Event | None = None
) -> None:
    """Run every catch-up job once now (in order); what was already recorded is not recorded again."""
    try:
        for spec in job_table(settings):
            if spec.catch_up:
                run_job(spec, settings, engine, clock)
    finally:
        if done is not None:
            done.set()


def start(
    settings: Settings,
    engine: Engine,
    *,
    clock: Clock = london_now,
    run_catch_up: bool = True,
    caught_up: threading.Event | None = None,
) -> BackgroundScheduler:
    """Start the scheduler; the catch-up runs as a one-off job on the scheduler's own thread
    and sets ``caught_up`` (when given) once it has finished."""
    scheduler = build(settings, engine, clock=clock)
    if run_catch_up:
        scheduler.add_job(
            catch_up,
            trigger="date",
            run_date=datetime.now(LONDON),
            kwargs={"settings": settings, "engine": engine, "clock": clock, "done": caught_up},
            id="catch-up",
            name="Catch up after start-up",
        )
    scheduler.start()
    log.info("scheduler started with jobs: %s", ", ".join(job.id for job in scheduler.get_jobs()))
    return scheduler
