"""The outbox sender: turns due ``slack.*`` outbox rows into Web API calls.

Rows are claimed in one short transaction, sent one by one, and each is marked sent in its own
transaction right after Slack accepted it. A 429 puts the row back for Slack's ``Retry-After``;
a 5xx, a timeout or a refused connection puts it back with the outbox's back-off. Nothing is
ever dropped.

Exactly once across timeouts: Slack often carries out a request whose answer arrives too late
(or never: a 5xx from a proxy, a crash of this process between Slack's answer and the commit).
So every post carries its outbox key in Slack message metadata (``event_type``
:data:`EVENT_TYPE`, ``event_payload`` ``{"key": …}``). Before a row whose last attempt may have
been carried out (a timeout, a 5xx, a dropped connection, or a claim that expired with no answer
recorded) is posted again, the channel's history since the row was queued
(``conversations.history`` with ``include_all_metadata``; ``channels:history``,
``groups:history`` and ``im:history`` scopes) is searched for the key; when it is there, that
message is recorded as the result and nothing is posted. A lookup that fails leaves the row
for later rather than risk a second post.

Kinds:

* ``slack.triage`` ``{"reference"}`` — rendered from the store at send time (so it shows the
  case as it is now) and posted to ``CASEWORK_TRIAGE_CHANNEL``; the channel and ``ts`` are
  saved on the case so later actions update the same message.
* ``slack.warning`` ``{"reference", "threshold", "crossed_on", "due_on"}`` with ``"user"`` (a
  DM) or ``"channel"`` — a deadline warning, rendered from the store at send time against the
  recorded due date (:mod:`bot.deadlines`); skipped with a note when it became moot (the case
  was closed, merged, moved to monitoring, or its due date moved).
* ``slack.post`` ``{"channel", "text", "blocks"}`` — ready-made (overdue lists, digests); with
  ``thread_ts``, a reply in that message's thread (a case's clock restarted).
* ``slack.dm`` ``{"user", "text", "blocks"}`` — ``conversations.open``, then a post. With
  ``"case_details": true`` (overdue lists) it is skipped unless the user is a caseworker, as
  is a ``slack.warning`` DM.
* ``slack.signoff`` ``{"reference", "draft_id", "approver"}`` — the approver's DM with the
  draft and *Approve* / *Return for redraft*, rendered from the store at send time; an ``S…``
  approver is a user group, expanded with ``usergroups.users.list`` into one DM per member.
  Skipped when the draft is no longer awaiting sign-off. The DMs' channels and ``ts`` are kept
  in the row's result so a decision can rewrite every approver's copy.
* ``slack.close_prompt`` ``{"reference", "message_pk", "sent_on"}`` — a reply the office sent
  from its own mail: a reply in the case's triage thread with a one-click *Close — response
  sent on DATE* (``close_on_response``). Skipped when the case is closed already.
* ``slack.file`` ``{"user", "filename", "title", "text", "content_b64"}`` — a file (a
  surgery's briefing pack) uploaded to the user's DM with ``text`` as its comment. A file
  carries no metadata, so its id is recorded on the row (``result["uploading"]``) before the
  step that shares it (:mod:`bot.uploads`); a retry looks in the DM's history for a message
  with that file and records it instead of uploading a second copy.
* ``slack.proposal`` ``{"reference", "category", "message_pk", "text", "reasons", "confidence"}`` —
  a later message proposes re-categorising the case (:mod:`store.proposals`): rendered at send
  time with its buttons (:mod:`bot.proposal`) and posted in the thread of the case's triage
  message (in the triage channel when it has none); skipped when the case already changed.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable, Collection
from datetime import UTC, date, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot import case_file, deadlines, triage
from bot.access import Access
from bot.escape import mrkdwn
from bot.uploads import share_file
from casework.metrics import SLACK_API_ERRORS
from casework.settings import Settings
from store.cases import get_case
from store.channels import detail_for
from store.db import session_scope
from store.enums import DraftState, EventKind, Status
from store.models import Draft, Message, OutboxItem
from store.outbox import claim, mark_failed, mark_sent
from store.workdays import LONDON

log = logging.getLogger(__name__)

KINDS = (
    "slack.triage",
    "slack.warning",
    "slack.post",
    "slack.dm",
    "slack.update",
    "slack.signoff",
    "slack.close_prompt",
    "slack.file",
    "slack.proposal",
)
#: the Slack message metadata ``event_type`` that carries an outbox key
EVENT_TYPE = "casework_outbox"
#: a last_error starting with this: the attempt may have been carried out by Slack
UNCERTAIN = "uncertain: "
#: history pages read when looking for an earlier post (200 messages each)
HISTORY_PAGES = 5


def london_today() -> date:
    return datetime.now(LONDON).date()


def _may_have_been_posted(item: OutboxItem) -> bool:
    """Could an earlier attempt at ``item`` have reached Slack? (``attempts`` counts this one.)"""
    if item.attempts <= 1:
        return False
    # no error recorded: the claim ran out with no answer (this process died mid-request)
    return not item.last_error or item.last_error.startswith(UNCERTAIN)


class _LookupFailed(Exception):
    """Looking for an earlier post failed: try again later rather than risk posting twice."""


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
        access: Access | None = None,
    ) -> None:
        self.settings = settings
        #: case details go by DM to caseworkers only: checked at send time, as people leave teams
        self.access = access or Access(settings, client)
        self.engine = engine
        self.client = client
        self.batch = batch
        #: the London date that messages rendered at send time count from (tests fix it)
        self.today = today or london_today
        self._item: OutboxItem = OutboxItem(key="", kind="")

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
        self._item = item
        # once an attempt may have reached Slack, every later failure keeps saying so, until a
        # history lookup has settled it (a refused lookup must not make the next try post blind)
        sticky = _may_have_been_posted(item)
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
            SLACK_API_ERRORS.labels(reason=str(status)).inc()
            maybe = UNCERTAIN if status >= 500 or sticky else ""
            self._fail(item, f"{maybe}slack answered {status}: {error}", retry)
            return 0
        except Exception as err:  # timeouts, refused connections
            SLACK_API_ERRORS.labels(reason=type(err).__name__).inc()
            # a refused connection reached nobody; anything else may have been carried out
            maybe = "" if isinstance(err, ConnectionRefusedError) and not sticky else UNCERTAIN
            self._fail(item, f"{maybe}{type(err).__name__}: {err}", None)
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
            return self._post(
                payload["channel"], payload.get("text", ""), payload.get("blocks"), payload.get("thread_ts")
            )
        if item.kind == "slack.update":  # rewrite a message posted before (e.g. a merged case's)
            response = self.client.chat_update(
                channel=payload["channel"],
                ts=payload["ts"],
                text=payload.get("text", ""),
                blocks=payload.get("blocks"),
            )
            return {"channel": response["channel"], "ts": response["ts"]}
        if item.kind == "slack.dm":
            if payload.get("case_details"):
                self._need_caseworker(payload["user"])
            return self._dm(payload["user"], payload.get("text", ""), payload.get("blocks"))
        if item.kind == "slack.signoff":
            return self._signoff(payload)
        if item.kind == "slack.close_prompt":
            return self._close_prompt(payload)
        if item.kind == "slack.file":
            return self._file(payload)
        if item.kind == "slack.proposal":
            return self._proposal(payload)
        raise _Skip(f"unknown kind {item.kind}")

    def _file(self, payload: dict[str, Any]) -> dict[str, Any]:
        item = self._item
        channel = self.client.conversations_open(users=payload["user"])["channel"]["id"]
        # no id recorded: no attempt reached the step that shares, whatever its error said
        tried = (item.result or {}).get("uploading") or []
        if tried and _may_have_been_posted(item):
            found = self._find_posted(channel, item, file_ids=set(tried))
            if found is not None:
                log.info("outbox %s was uploaded by an earlier attempt; recorded, not sent again", item.key)
                return found
        file_id = share_file(
            self.client,
            channel=channel,
            content=base64.b64decode(payload["content_b64"]),
            filename=payload["filename"],
            title=payload.get("title") or payload["filename"],
            comment=payload.get("text") or None,
            before_share=lambda file_id: self._note_upload(item, [*tried, file_id]),
        )
        return {"channel": channel, "file": file_id}

    def _note_upload(self, item: OutboxItem, file_ids: list[str]) -> None:
        """Commit the file ids tried so far, before the share, where the next attempt reads them."""
        with session_scope(self.engine) as session:
            row = session.get(OutboxItem, item.id)
            assert row is not None
            row.result = {"uploading": file_ids}
            session.add(row)

    def _post(
        self, channel: str, text: str, blocks: list[dict[str, Any]] | None, thread_ts: str | None = None
    ) -> dict[str, Any]:
        item = self._item
        if _may_have_been_posted(item):
            found = self._find_posted(channel, item, thread_ts=thread_ts)
            if found is not None:
                log.info("outbox %s was posted by an earlier attempt; recorded, not posted again", item.key)
                return found
        response = self.client.chat_postMessage(
            channel=channel,
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            metadata={"event_type": EVENT_TYPE, "event_payload": {"key": item.key}},
        )
        return {"channel": response["channel"], "ts": response["ts"]}

    def _find_posted(
        self,
        channel: str,
        item: OutboxItem,
        *,
        thread_ts: str | None = None,
        file_ids: Collection[str] = (),
    ) -> dict[str, Any] | None:
        """The message an earlier attempt at ``item`` posted in ``channel``, if Slack has it.

        A post is known by the outbox key in its metadata; a file share, which has none, by one
        of ``file_ids``. A reply in a thread is not in the channel's history: its thread's
        replies are read instead.
        """
        created = item.created_at if item.created_at.tzinfo else item.created_at.replace(tzinfo=UTC)
        oldest = f"{created.timestamp() - 60:.6f}"  # a minute of clock skew between us and Slack
        cursor = None
        try:
            for _ in range(HISTORY_PAGES):
                if thread_ts:
                    page = self.client.conversations_replies(
                        channel=channel, ts=thread_ts, oldest=oldest, include_all_metadata=True,
                        limit=200, cursor=cursor,
                    )  # fmt: skip
                else:
                    page = self.client.conversations_history(
                        channel=channel, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor
                    )
                for message in page.get("messages") or []:
                    metadata = message.get("metadata") or {}
                    payload = metadata.get("event_payload") or {}
                    if metadata.get("event_type") == EVENT_TYPE and payload.get("key") == item.key:
                        return {"channel": channel, "ts": message["ts"], "recovered": True}
                    shared = [f.get("id") for f in message.get("files") or [] if f.get("id") in file_ids]
                    if shared:
                        return {"channel": channel, "ts": message["ts"], "file": shared[0], "recovered": True}
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not page.get("has_more") or not cursor:
                    return None
        except SlackApiError as err:
            raise _LookupFailed(f"could not read the channel's history: {err.response.get('error')}") from err
        return None

    def _dm(self, user: str, text: str, blocks: list[dict[str, Any]] | None) -> dict[str, Any]:
        channel = self.client.conversations_open(users=user)["channel"]["id"]
        return self._post(channel, text, blocks)

    def _need_caseworker(self, user: str) -> None:
        if not self.access.may_act(user):
            raise _Skip(f"{user} is not a caseworker: case details are not sent to them")

    def _warning(self, payload: dict[str, Any]) -> dict[str, Any]:
        with session_scope(self.engine) as session:
            case = get_case(session, payload["reference"])
            reason = deadlines.moot(case, payload)
            if reason:
                raise _Skip(reason)
            if "user" in payload:
                self._need_caseworker(payload["user"])
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
            thread = case.slack_ts if case.slack_channel and case.slack_ts else None
            channel = case.slack_channel if thread else self.settings.triage_channel
            level = detail_for(session, settings=self.settings, channel=channel)
            text, blocks = proposal.prompt(case, payload, level=level)
        if not channel:
            raise RuntimeError("CASEWORK_TRIAGE_CHANNEL is not set")
        return self._post(channel, text, blocks, thread_ts=thread)

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
            return self._post(self.settings.triage_channel, text, blocks)
        return {"channel": response["channel"], "ts": response["ts"]}

    # --- the case lifecycle ---------------------------------------------------------------------

    def _people(self, entry: str) -> list[str]:
        """An approver entry's users: itself, or a user group's members."""
        if not entry.startswith("S"):
            return [entry]
        return sorted(self.client.usergroups_users_list(usergroup=entry).get("users") or [])

    def _signoff(self, payload: dict[str, Any]) -> dict[str, Any]:
        with session_scope(self.engine) as session:
            case = get_case(session, payload["reference"])
            draft = session.get(Draft, payload["draft_id"])
            if case is None or draft is None or draft.case_id != case.id:
                raise _Skip("case or draft no longer exists")
            if draft.state != DraftState.AWAITING_SIGNOFF.value:
                raise _Skip(f"draft v{draft.version} is {draft.state.replace('_', ' ')} already")
            text, blocks = case_file.signoff_message(
                case=case,
                draft=draft,
                correspondent=signoff_recipients(session, case, self.settings),
                requested_by=signoff_requester(session, case),
            )
        posts = []
        for person in self._people(payload["approver"]):
            posts.append(self._dm(person, text, blocks))
        if not posts:
            raise _Skip(f"user group {payload['approver']} has no members")
        return {**posts[0], "posts": posts}

    def _close_prompt(self, payload: dict[str, Any]) -> dict[str, Any]:
        with session_scope(self.engine) as session:
            case = get_case(session, payload["reference"])
            message = session.get(Message, payload["message_pk"])
            if case is None or message is None:
                raise _Skip("case or reply no longer exists")
            if case.status == Status.CLOSED.value:
                raise _Skip("case closed already")
            text, blocks = case_file.close_prompt(
                case=case,
                message_pk=int(message.id or 0),
                sent_on=date.fromisoformat(payload["sent_on"]),
                to=list(message.to_addrs or []),
                subject=message.subject,
            )
            channel, thread = case.slack_channel, case.slack_ts
        if channel and thread:
            return self._post(channel, text, blocks, thread_ts=thread)
        if not self.settings.triage_channel:
            raise RuntimeError("CASEWORK_TRIAGE_CHANNEL is not set")
        return self._post(self.settings.triage_channel, text, blocks)


def signoff_recipients(session: Any, case: Any, settings: Settings) -> str:
    """Who the reply would go to, for the approver: the correspondent, or how many participants."""
    from store.outgoing import recipients

    people = recipients(session, case=case, settings=settings)
    if len(people) == 1:
        person = people[0]
        name = mrkdwn(person.name, limit=100, one_line=True)
        address = mrkdwn(person.email, limit=200, one_line=True)
        return f"{name} ({address})" if name else address
    if not people:
        return "nobody yet (no address to reply to)"
    return f"{len(people)} participants, each individually"


def signoff_requester(session: Any, case: Any) -> str | None:
    """The caseworker who asked for sign-off last (the ``signoff``/``requested`` event)."""
    from sqlalchemy import select
    from sqlmodel import col

    from store.models import CaseEvent

    return session.execute(
        select(col(CaseEvent.actor))
        .where(
            col(CaseEvent.case_id) == case.id,
            col(CaseEvent.kind) == EventKind.SIGNOFF.value,
            col(CaseEvent.new_value) == "requested",
        )
        .order_by(col(CaseEvent.at).desc(), col(CaseEvent.id).desc())
        .limit(1)
    ).scalar_one_or_none()
