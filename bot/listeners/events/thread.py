"""Replies in a case's triage thread: notes, and files for the case's next reply.

A caseworker's reply under a triage post is a note on that case with its author, recorded once
however often Slack delivers the event (by its ``ts``). A file posted there is fetched with
``files.info`` and downloaded from ``url_private`` with the bot token (only from Slack's own
file host, never bigger than ``CASEWORK_ATTACHMENT_MAX_BYTES``) and kept for the reply; the
same Slack file is kept once. The bot's own posts, edits, deletions and joins are ignored;
anyone but a caseworker is told, only them, that nothing was recorded.
"""

from __future__ import annotations

import logging
import threading
import urllib.request
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError

from bot import queries
from bot.deps import Deps
from bot.listeners.replies import refresh_post, refusal_text
from store import lifecycle
from store.cases import CaseError, get_case
from store.db import session_scope

log = logging.getLogger(__name__)

#: message subtypes that are a person writing in the thread (everything else is ignored)
WRITTEN = (None, "", "file_share", "thread_broadcast")
#: Slack serves files from here; the bot token is only ever sent to it (or the API's own host)
FILE_HOSTS = (("https", "files.slack.com"),)


class TooLarge(Exception):
    pass


def download(url: str, *, token: str, limit: int, allowed: tuple[tuple[str, str], ...]) -> bytes:
    """A Slack file's bytes, with the bot token; refused over ``limit`` or from another place.

    ``allowed`` holds the (scheme, host) pairs the token may be sent to.
    """
    parts = urlsplit(url)
    if (parts.scheme, parts.hostname or "") not in allowed:
        raise ValueError(f"file URL at an unexpected place {parts.scheme}://{parts.hostname}")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (checked above)
        data = answer.read(limit + 1)
    if len(data) > limit:
        raise TooLarge
    return data


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def register(app: App, deps: Deps) -> None:
    api = urlsplit(deps.settings.slack_api_url)
    hosts = (*FILE_HOSTS, (api.scheme, api.hostname or ""))

    def tell(client: WebClient, event: dict[str, Any], text: str) -> None:
        try:
            client.chat_postEphemeral(
                channel=event["channel"], user=event["user"], thread_ts=event["thread_ts"], text=text
            )
        except Exception:
            log.exception("could not answer a thread reply")

    # Slack may deliver an event again while the first delivery is still being handled: one
    # lock per Slack file (and one for notes) makes the second find the first's row
    note_lock = threading.Lock()
    file_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

    def kept_already(reference: str, file_id: str) -> bool:
        with session_scope(deps.engine) as session:
            case = get_case(session, reference)
            return case is not None and queries.has_slack_file(session, case=case, file_id=file_id)

    def keep_file(client: WebClient, event: dict[str, Any], reference: str, file_id: str) -> str | None:
        with file_locks[file_id]:
            if kept_already(reference, file_id):
                return None
            return fetch_file(client, event, reference, file_id)

    def fetch_file(client: WebClient, event: dict[str, Any], reference: str, file_id: str) -> str:
        info = client.files_info(file=file_id)["file"]
        name = str(info.get("name") or info.get("title") or "attachment")
        limit = deps.settings.attachment_max_bytes
        if int(info.get("size") or 0) > limit:
            size = _mb(int(info["size"]))
            return f"{name} is {size}, more than the {_mb(limit)} a reply may carry: not attached."
        url = info.get("url_private_download") or info.get("url_private") or ""
        try:
            data = download(
                str(url),
                token=deps.settings.slack_bot_token.get_secret_value(),
                limit=limit,
                allowed=hosts,
            )
        except TooLarge:
            return f"{name} is more than the {_mb(limit)} a reply may carry: not attached."
        with session_scope(deps.engine) as session:
            case = get_case(session, reference)
            if case is None:
                return f"{reference} no longer exists: {name} not attached."
            lifecycle.attach_file(
                session,
                case=case,
                filename=name,
                content_type=str(info.get("mimetype") or "application/octet-stream"),
                data=data,
                actor=event["user"],
                source="slack",
                slack_file_id=file_id,
            )
        return f"{name} is attached to {reference}'s next reply."

    @app.event("message")
    def thread_reply(event: dict[str, Any], client: WebClient) -> None:
        thread_ts, ts = event.get("thread_ts"), event.get("ts")
        if not thread_ts or thread_ts == ts or event.get("subtype") not in WRITTEN:
            return
        if event.get("bot_id") or not event.get("user"):
            return  # the bot's own thread notices and prompts, and other apps
        with session_scope(deps.engine) as session:
            case = queries.case_by_thread(session, channel=str(event.get("channel")), ts=str(thread_ts))
            if case is None:
                return
            session.expunge(case)
        user = str(event["user"])
        if not deps.access.may_act(user):
            tell(client, event, f"Not recorded on {case.reference}. {refusal_text(deps, user)}")
            return
        text = (event.get("text") or "").strip()
        if text:
            try:
                with note_lock, session_scope(deps.engine) as session:
                    fresh = get_case(session, case.reference)
                    if fresh is not None and lifecycle.add_note(
                        session, case=fresh, author=user, text=text, source="thread", slack_ts=str(ts)
                    ):
                        log.info("thread note recorded on %s by %s", case.reference, user)
            except IntegrityError:  # recorded by another instance at the same moment
                log.info("thread note on %s recorded already", case.reference)
            except CaseError as err:
                tell(client, event, str(err))
        answers = []
        for file in event.get("files") or []:
            try:
                answer = keep_file(client, event, case.reference, str(file["id"]))
            except Exception:
                log.exception("file %s on %s not attached", file.get("id"), case.reference)
                answer = f"{file.get('name') or 'A file'} could not be attached; post it again."
            if answer:
                answers.append(answer)
        if answers:
            tell(client, event, " ".join(answers))
            refresh_post(client, deps, case.reference)  # it lists the files for the reply
