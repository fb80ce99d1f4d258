"""The channel check is a scheduled job (hourly, and at start-up), only when more than minimal
detail is asked for; it talks to Slack with the configured token and URL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from casework.scheduler.jobs import channel_check_job, job_table
from casework.settings import Settings
from store.channels import detail_for
from store.db import session_scope
from store.models import ChannelCheck
from tests.conftest import make_settings
from tests.support.slack_api import fake_slack_api


def test_the_check_is_scheduled_only_when_detail_is_asked_for(settings: Settings) -> None:
    assert "channel-check" not in {job.id for job in job_table(settings)}
    full = settings.model_copy(update={"channel_detail": "full"})
    [job] = [job for job in job_table(full) if job.id == "channel-check"]
    assert job.catch_up  # runs at start-up as well as hourly
    assert "retention" in {job.id for job in job_table(settings)}


def test_the_job_checks_through_the_web_api(engine: Engine, settings: Settings) -> None:
    with fake_slack_api() as api:
        api.channels["C_T"] = {"is_private": True}
        api.members["C_T"] = ["U_CW", "UBOT"]
        cfg = make_settings(
            settings.database_url,
            slack_bot_token="xoxb-test",
            slack_api_url=api.base_url,
            triage_channel="C_T",
            caseworkers=["U_CW"],
            channel_detail="subject",
        )
        now = datetime(2026, 12, 2, 10, tzinfo=UTC)
        [verdict] = channel_check_job(cfg, engine, now)  # type: ignore[misc]
    assert verdict.passed
    with session_scope(engine) as session:
        row = session.get(ChannelCheck, "C_T")
        assert row is not None and row.detail == "subject"
        assert detail_for(session, settings=cfg, channel="C_T", now=now) == "subject"
        # a check nobody repeated for three hours no longer counts
        later = datetime(2026, 12, 2, 13, 1, tzinfo=UTC)
        assert detail_for(session, settings=cfg, channel="C_T", now=later) == "minimal"
