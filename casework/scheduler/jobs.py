"""The job table: every job the service schedules, its trigger and what it runs.

Each job is a plain function of ``(settings, engine, now)`` that recomputes from the store and
records what it sends in the outbox under an idempotency key, so running it twice, late, or
on two instances at once is harmless. The table is data, so ``casework jobs`` can list it and
:mod:`casework.scheduler.runner` can schedule it, from one place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, func, select

from casework.scheduler.digest import run_digest
from casework.scheduler.drafts import run_draft_pass
from casework.scheduler.surgeries import run_surgeries
from casework.scheduler.warnings import run_pass
from casework.scheduler.weekly import run_weekly
from casework.settings import Settings
from store.db import session_scope
from store.leases import default_holder, hold
from store.models import ClassifierLabel, ClassifierModel
from store.workdays import LONDON

log = logging.getLogger(__name__)

JobFunc = Callable[[Settings, Engine, datetime], object]

#: the last hour of the working day in which the warning pass runs again (new or re-dated cases)
LAST_WARNING_HOUR = 17
#: how often the surgeries pass runs (reminders, offers, briefs)
SURGERY_MINUTES = 10


@dataclass(frozen=True)
class JobSpec:
    id: str
    description: str
    schedule: str
    func: JobFunc
    trigger: BaseTrigger
    #: run once at start-up as well, to catch up what a stopped service missed
    catch_up: bool = False


def warnings_job(settings: Settings, engine: Engine, now: datetime) -> object:
    today = now.astimezone(LONDON).date()
    result = run_pass(engine, settings, today=today)
    run_draft_pass(engine, settings, today=today)  # replies still in draft past the office's own deadline
    return result


def digest_job(settings: Settings, engine: Engine, now: datetime) -> object:
    return run_digest(engine, settings, now=now)


def weekly_job(settings: Settings, engine: Engine, now: datetime) -> object:
    return run_weekly(engine, settings, now=now)


def _slack(settings: Settings) -> tuple[Any, Any]:
    from bot.access import Access
    from bot.app import web_client

    client = web_client(settings)
    return client, Access(settings, client)


def channel_check_job(settings: Settings, engine: Engine, now: datetime) -> object:
    from bot.channels import run_checks

    client, access = _slack(settings)
    return run_checks(settings, engine, client, access, now=now)


def retention_job(settings: Settings, engine: Engine, now: datetime) -> object:
    from casework.scheduler.retention import run_retention

    _client, access = _slack(settings)
    return run_retention(engine, settings, now=now, managers=access.managers())


def surgeries_job(settings: Settings, engine: Engine, now: datetime) -> object:
    return run_surgeries(engine, settings, now=now)


def new_labels(engine: Engine) -> int:
    """Labels recorded since the newest model was trained (all of them when there is none)."""
    with session_scope(engine) as session:
        labels = int(session.execute(select(func.count()).select_from(ClassifierLabel)).scalar_one())
        trained = session.execute(
            select(ClassifierModel.label_count).order_by(ClassifierModel.id.desc()).limit(1)  # type: ignore[call-overload,union-attr]
        ).scalar_one_or_none()
    return labels - (trained or 0)


def retrain_job(settings: Settings, engine: Engine, now: datetime) -> object:
    fresh = new_labels(engine)
    if fresh <= 0:
        log.info("retrain: no new labels since the last model")
        return None
    try:
        from intake.classify import retrain  # engineer A's module: absent until it lands
    except ImportError:
        log.warning("retrain: intake.classify.retrain is not available; %d new label(s) wait", fresh)
        return None
    with hold(engine, "classifier-retrain", holder=default_holder(), ttl_seconds=600) as held:
        if not held:
            log.info("retrain: another instance is retraining")
            return None
        with session_scope(engine) as session:
            return retrain(session, settings)


def poll_job(settings: Settings, engine: Engine, now: datetime) -> object:
    try:
        from intake.poller import poll_once  # engineer B1's module: absent until it lands
    except ImportError:
        log.warning("poll: intake.poller is not available")
        return None
    # poll_once takes the single-holder IMAP lease itself: only one instance reads the folder.
    return poll_once(settings, engine)


def _cron_days(at: time, days: str = "mon-fri") -> CronTrigger:
    return CronTrigger(day_of_week=days, hour=at.hour, minute=at.minute, timezone=LONDON)


def job_table(settings: Settings) -> list[JobSpec]:
    """Every job for these settings, in the order ``casework jobs`` lists them."""
    at = settings.digest_time
    hours = f"{at.hour}-{LAST_WARNING_HOUR}" if at.hour < LAST_WARNING_HOUR else str(at.hour)
    table = [
        JobSpec(
            "warnings",
            "Deadline warnings, draft deadlines and the daily overdue list",
            f"working days, hourly {at:%H:%M}–{LAST_WARNING_HOUR}:{at:%M}",
            warnings_job,
            CronTrigger(day_of_week="mon-fri", hour=hours, minute=at.minute, timezone=LONDON),
            catch_up=True,
        ),
        JobSpec(
            "digest",
            "Daily digest to the alerts channel",
            f"working days at {at:%H:%M}",
            digest_job,
            _cron_days(at),
            catch_up=True,
        ),
        JobSpec(
            "weekly",
            "Weekly summary to managers",
            f"{settings.weekly_summary_day} at {settings.weekly_summary_time:%H:%M}"
            " (next working day if a holiday)",
            weekly_job,
            _cron_days(settings.weekly_summary_time),
            catch_up=True,
        ),
        JobSpec(
            "retrain",
            "Retrain the classifier when there are new labels",
            f"daily at {settings.retrain_time:%H:%M}",
            retrain_job,
            _cron_days(settings.retrain_time, "*"),
        ),
    ]
    table.append(
        JobSpec(
            "retention",
            "Delete old automatic, quarantined mail and audit rows; monthly, tell managers what is due",
            f"working days at {at:%H:%M}; the managers' DM once a month",
            retention_job,
            _cron_days(at),
            catch_up=True,
        )
    )
    table.append(
        JobSpec(
            "surgeries",
            "Surgery reminders, waiting-list offers and briefing packs",
            f"every {SURGERY_MINUTES} minutes",
            surgeries_job,
            IntervalTrigger(minutes=SURGERY_MINUTES, timezone=LONDON),
            catch_up=True,
        )
    )
    if settings.channel_detail != "minimal":
        table.append(
            JobSpec(
                "channel-check",
                "Check the triage and alerts channels are private and caseworkers only",
                "hourly, and at start-up",
                channel_check_job,
                IntervalTrigger(hours=1, timezone=LONDON),
                catch_up=True,
            )
        )
    if settings.imap_enabled and not settings.imap_idle:
        table.append(
            JobSpec(
                "poll",
                "Poll the IMAP folder for new mail (IDLE is off)",
                f"every {settings.imap_poll_seconds}s",
                poll_job,
                IntervalTrigger(seconds=settings.imap_poll_seconds, timezone=LONDON),
                catch_up=True,
            )
        )
    return table


def next_runs(table: list[JobSpec], *, now: datetime) -> list[tuple[JobSpec, datetime | None]]:
    """When each job fires next after ``now`` (without starting a scheduler)."""
    return [(spec, spec.trigger.get_next_fire_time(None, now)) for spec in table]
