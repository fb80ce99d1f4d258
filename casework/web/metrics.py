"""``GET /metrics``: Prometheus text format, behind ``Authorization: Bearer CASEWORK_METRICS_TOKEN``.

Off (404) while the token is empty, so a fresh install exposes nothing. Counts the store
already holds are read from it at scrape time (one small query each), so they are right
whichever process did the work: messages logged by outcome, the outbox backlog and the age of
its oldest row. Counters only this process knows (Slack API errors, scheduler runs, the last
good IMAP pass) come from :mod:`casework.metrics`.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from casework.metrics import REGISTRY
from casework.settings import Settings
from store.db import session_scope
from store.models import Message, OutboxItem, QuarantinedMessage


class StoreCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        intake = GaugeMetricFamily(
            "casework_intake_messages",
            "Messages read by intake, by outcome (from the store)",
            labels=["outcome"],
        )
        pending = GaugeMetricFamily("casework_outbox_pending", "Outbox rows not yet sent", labels=["kind"])
        oldest = GaugeMetricFamily(
            "casework_outbox_oldest_pending_age_seconds", "Age of the oldest outbox row not yet sent"
        )
        with session_scope(self.engine) as session:
            count = select(func.count()).select_from(Message)
            on_case = session.execute(
                count.where(col(Message.case_id).is_not(None), col(Message.automatic).is_(None))
            ).scalar()
            automatic = session.execute(count.where(col(Message.automatic).is_not(None))).scalar()
            quarantined = session.execute(select(func.count()).select_from(QuarantinedMessage)).scalar()
            for outcome, found in (("case", on_case), ("automatic", automatic), ("quarantined", quarantined)):
                intake.add_metric([outcome], float(found or 0))
            unsent = col(OutboxItem.sent_at).is_(None)
            kinds = select(col(OutboxItem.kind), func.count()).where(unsent).group_by(col(OutboxItem.kind))
            for kind, rows in session.execute(kinds):
                pending.add_metric([kind], float(rows))
            first = session.execute(select(func.min(col(OutboxItem.created_at))).where(unsent)).scalar()
        if first is not None and first.tzinfo is None:
            first = first.replace(tzinfo=UTC)
        oldest.add_metric([], (datetime.now(UTC) - first).total_seconds() if first else 0.0)
        yield from (intake, pending, oldest)


def route(settings: Settings, engine: Engine | None) -> Route:
    token = settings.metrics_token.get_secret_value()
    collector = StoreCollector(engine) if engine is not None else None

    def metrics(request: Request) -> Response:
        if not token:
            return JSONResponse({"ok": False, "error": "not_found"}, status_code=404)
        offered = request.headers.get("authorization", "")
        if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
            return JSONResponse(
                {"ok": False, "error": "unauthorized"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        body = generate_latest(REGISTRY)
        if collector is not None:
            from prometheus_client import CollectorRegistry

            store = CollectorRegistry(auto_describe=False)
            store.register(collector)
            body += generate_latest(store)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", metrics, methods=["GET"])
