"""The service's Prometheus counters, kept where intake, the bot and the scheduler can all
reach them without importing each other (or the web server).

These count what happens in this process; what the store already knows (messages logged and
quarantined, the outbox backlog) is read from the store at scrape time by
:mod:`casework.web.metrics`, so it is right whichever process did the work.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

REGISTRY = CollectorRegistry(auto_describe=True)

SLACK_API_ERRORS = Counter(
    "casework_slack_api_errors",
    "Slack Web API calls from the outbox sender that failed, by what went wrong",
    ["reason"],
    registry=REGISTRY,
)
IMAP_LAST_SUCCESS = Gauge(
    "casework_imap_last_success_timestamp_seconds",
    "When an IMAP pass in this process last finished without error (Unix time)",
    registry=REGISTRY,
)
SCHEDULER_RUNS = Counter(
    "casework_scheduler_job_runs",
    "Scheduled job runs in this process, by job and outcome",
    ["job", "outcome"],
    registry=REGISTRY,
)
