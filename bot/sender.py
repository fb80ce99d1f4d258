"""The outbox sender: turns due ``slack.*`` outbox rows into Web API calls.

Rows are claimed in one short transaction, sent one by one, and each is marked sent in its own
transaction right after Slack accepted it, so a crash can at worst repeat the one request in
flight. A 429 puts the row back for Slack's ``Retry-After``; a 5xx, a timeout or a refused
connection puts it back with the outbox's back-off. Nothing is ever dropped.

Kinds:

* ``slack.triage`` ``{"reference"}`` — rendered from the store at send time (so it shows the
  case as it is now) and posted to ``CASEWORK_TRIAGE_CHANNEL``; the channel and ``ts`` are
  saved on the case so later actions update the same message.
* ``slack.warning`` ``{"reference", "threshold", "crossed_on", "due_on"}`` with ``"user"`` (a
  DM) or ``"channel"`` — a deadline warning, rendered from the store at send time against the
  recorded due date (:mod:`bot.deadlines`); skipped with a note when it became moot (the case
  was closed, merged, moved to monitoring, or its due date moved).
* ``slack.post`` ``{"channel", "text", "blocks"}`` — ready-made (overdue lists, digests).
* ``slack.dm`` ``{"user", "text", "blocks"}`` — ``conversations.open``, then a post.
* ``slack.proposal`` ``{"reference", "category", "message_pk", "text", "reasons", "confidence"}`` —
  a later message proposes re-categorising the case (:mod:`store.proposals`): rendered at send
  time with its buttons (:mod:`bot.proposal`) and posted in the thread of the case's triage
  message (in the triage channel when it has none); skipped when the case already changed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot import deadlines, triage
from casework.settings import Settings
from store.cases import get_case
from store.db import session_scope
from store.models import OutboxItem
from store.outbox import claim, mark_failed, mark_sent
from store.workdays import LONDON

log = logging.getLogger(__name__)

KINDS = ("slack.triage", "slack.warning", "slack.post", "slack.dm", "slack.update", "slack.proposal")


def london_today() -> date:
    return datetime.now(LONDON).date()


class _Skip(Exception):
    """Nothing to send any more (e.g. the case was merged); ``str`` is the note kept on the row."""


def _retry_after(err: SlackApiError) -> float | None:
    headers = getattr(err.response, "headers", None) or {}
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return float(value[0] if isinstance(value, list) else value)
            except (TypeError, ValueError):
                return None
    return None


class OutboxSender:
    """Drains ``slack.*`` outbox rows; one instance per process (several processes are safe)."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        client: WebClient,
        *,
        batch: int = 20,
        today: Callable[[], date] | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.client = client
        self.batch = batch
        #: the London date that messages rendered at send time count from (tests fix it)
        self.today = today or london_today

    def drain_once(self) -> int:
        """Send every due row once; returns how many Slack accepted."""
        with session_scope(self.engine) as session:
            items = claim(session, limit=self.batch, kinds=KINDS)
        sent = 0
        for item in items:
            sent += self._send_one(item)
        return sent

    def run(self, stop: threading.Event, *, idle_seconds: float = 0.25) -> None:
        log.info("outbox sender started")
        while not stop.is_set():
            try:
                sent = self.drain_once()
            except Exception:  # a database hiccup must not end the thread
                log.exception("outbox sender pass failed")
                sent = 0
            if not sent:
                stop.wait(idle_seconds)
        log.info("outbox sender stopped")

    def _send_one(self, item: OutboxItem) -> int:
        try:
            result = self._deliver(item)
        except _Skip as skip:
            self._finish(item, result={"skipped": str(skip)})
            log.info("outbox %s skipped: %s", item.key, skip)
            return 0
        except SlackApiError as err:
            status = getattr(err.response, "status_code", 0)
            error = (err.response.get("error") if hasattr(err.response, "get") else None) or str(status)
            retry = _retry_after(err) if status == 429 else None
            self._fail(item, f"slack answered {status}: {error}", retry)
            return 0
        except Exception as err:  # timeouts, refused connections: Slack did not accept it
            self._fail(item, f"{type(err).__name__}: {err}", None)
            return 0
        self._finish(item, result=result)
        return 1

    def _finish(self, item: OutboxItem, *, result: dict[str, Any]) -> None:
        with session_scope(self.engine) as session:
            row = session.get(OutboxItem, item.id)
            assert row is not None
            mark_sent(session, item=row, result=result)
            if item.kind == "slack.triage" and "ts" in result:
                case = get_case(session, item.payload["reference"])
                if case is not None:
                    case.slack_channel, case.slack_ts = result["channel"], result["ts"]
                    session.add(case)
        log.info("outbox %s sent", item.key)

    def _fail(self, item: OutboxItem, error: str, retry_after: float | None) -> None:
        with session_scope(self.engine) as session:
            row = session.get(OutboxItem, item.id)
            assert row is not None
            mark_failed(session, item=row, error=error, retry_after=retry_after)
        log.warning("outbox %s not sent (attempt %d): %s", item.key, item.attempts, error)

    def _deliver(self, item: OutboxItem) -> dict[str, Any]:
        payload = item.payload or {}
        if item.kind == "slack.triage":
            return self._triage(payload["reference"])
        if item.kind == "slack.warning":
            return self._warning(payload)
        if item.kind == "slack.post":
            return self._post(payload["channel"], payload.get("text", ""), payload.get("blocks"))
        if item.kind == "slack.update":  # rewrite a message posted before (e.g. a merged case's)
            response = self.client.chat_update(
                channel=payload["channel"],
                ts=payload["ts"],
                text=payload.get("text", ""),
                blocks=payload.get("blocks"),
            )
            return {"channel": response["channel"], "ts": response["ts"]}
        if item.kind == "slack.dm":
            return self._dm(payload["user"], payload.get("text", ""), payload.get("blocks"))
        if item.kind == "slack.proposal":
            return self._proposal(payload)
        raise _Skip(f"unknown kind {item.kind}")

    def _post(self, channel: str, text: str, blocks: list[dict[str, Any]] | None) -> dict[str, Any]:
        response = self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        return {"channel": response["channel"], "ts": response["ts"]}

    def _dm(self, user: str, text: str, blocks: list[dict[str, Any]] | None) -> dict[str, Any]:
        channel = self.client.conversations_open(users=user)["channel"]["id"]
        return self._post(channel, text, blocks)

    def _warning(self, payload: dict[str, Any]) -> dict[str, Any]:
        with session_scope(self.engine) as session:
            case = get_case(session, payload["reference"])
            reason = deadlines.moot(case, payload)
            if reason:
                raise _Skip(reason)
            assert case is not None
            text, blocks = deadlines.message(
                session, case, payload, settings=self.settings, today=self.today()
            )
        if "user" in payload:
            return self._dm(payload["user"], text, blocks)
        return self._post(payload["channel"], text, blocks)

    def _proposal(self, payload: dict[str, Any]) -> dict[str, Any]:
        from bot import proposal

        with session_scope(self.engine) as session:
            case = get_case(session, payload["reference"])
            if case is None:
                raise _Skip("case no longer exists (merged into a campaign)")
            if case.category == payload["category"]:
                raise _Skip(f"case is already {payload['category']}")
            text, blocks = proposal.prompt(case, payload)
            thread = case.slack_ts if case.slack_channel and case.slack_ts else None
            channel = case.slack_channel if thread else self.settings.triage_channel
        if not channel:
            raise RuntimeError("CASEWORK_TRIAGE_CHANNEL is not set")
        response = self.client.chat_postMessage(channel=channel, text=text, blocks=blocks, thread_ts=thread)
        return {"channel": response["channel"], "ts": response["ts"]}

    def _triage(self, reference: str) -> dict[str, Any]:
        with session_scope(self.engine) as session:
            rendered = triage.render(session, reference=reference, settings=self.settings, today=self.today())
            case = get_case(session, reference)
            where = (case.slack_channel, case.slack_ts) if case else (None, None)
        if rendered is None:
            raise _Skip("case no longer exists (merged into a campaign)")
        text, blocks = rendered
        if where[0] and where[1]:  # posted before (e.g. a re-queued row): update, never post twice
            response = self.client.chat_update(channel=where[0], ts=where[1], text=text, blocks=blocks)
        else:
            if not self.settings.triage_channel:
                raise RuntimeError("CASEWORK_TRIAGE_CHANNEL is not set")
            response = self.client.chat_postMessage(
                channel=self.settings.triage_channel, text=text, blocks=blocks
            )
        return {"channel": response["channel"], "ts": response["ts"]}
