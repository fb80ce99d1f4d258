"""The approver's DM: *Approve*, or *Return for redraft* (which asks for the reason).

Only ``CASEWORK_APPROVERS`` (users, or members of a listed user group) may decide; the store
checks that the draft is still the one awaiting sign-off, so a second approver clicking an
older DM is told it was decided already. A decision rewrites every approver's DM for that
draft, redraws the triage post and says so in the case's thread.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy import select
from sqlmodel import col

from bot import blocks, case_file
from bot.deps import Deps
from bot.listeners.replies import action_json, post_in_thread, refresh_post, tell
from store import lifecycle
from store.cases import CaseError, get_case
from store.db import session_scope
from store.models import Case, Draft, OutboxItem

log = logging.getLogger(__name__)

NOT_APPROVER = (
    "Sorry, only the approvers (CASEWORK_APPROVERS) can sign replies off. "
    "If you should be one, ask the casework manager to add you."
)


def approver(deps: Deps, body: dict[str, Any], respond: Respond | None) -> str | None:
    user = (body.get("user") or {}).get("id")
    if deps.access.may_approve(user):
        return str(user)
    if respond is not None:
        tell(respond, NOT_APPROVER, refusal=True)
    log.info("sign-off decision refused for %s", user)
    return None


def decision_target(session: Any, value: dict[str, Any]) -> tuple[Case, Draft]:
    """The case and the draft a DM's button is about; refused when that draft is no longer current."""
    reference = str(value.get("reference") or "")
    case = get_case(session, reference)
    if case is None:
        raise CaseError(f"Case {reference} no longer exists.")
    current = lifecycle.current_draft(session, case=case)
    if current is None or current.id != value.get("draft_id"):
        raise CaseError(f"This request was about an older draft of {reference}; a newer one has replaced it.")
    return case, current


def signoff_posts(session: Any, *, reference: str, draft_id: int) -> list[tuple[str, str]]:
    """Where the sender posted the sign-off DMs of one draft (to rewrite them once decided)."""
    rows = session.execute(
        select(OutboxItem).where(
            col(OutboxItem.kind) == "slack.signoff",
            col(OutboxItem.key).startswith(f"signoff:{reference}:{draft_id}:"),
        )
    ).scalars()
    found: list[tuple[str, str]] = []
    for row in rows:
        for post in (row.result or {}).get("posts") or []:
            found.append((str(post["channel"]), str(post["ts"])))
    return found


def settle(
    client: WebClient,
    deps: Deps,
    *,
    reference: str,
    draft_id: int,
    version: int,
    decision: str,
    by: str,
    note: str = "",
) -> None:
    """After a decision: every approver's DM says it, the post is redrawn, the thread told."""
    text, message = case_file.signoff_decided(
        reference=reference, version=version, decision=decision, by=by, note=note
    )
    with session_scope(deps.engine) as session:
        posts = signoff_posts(session, reference=reference, draft_id=draft_id)
    for channel, ts in posts:
        try:
            client.chat_update(channel=channel, ts=ts, text=text, blocks=message)
        except Exception:
            log.exception("sign-off DM of %s not rewritten", reference)
    refresh_post(client, deps, reference)
    post_in_thread(client, deps, reference, f"Draft v{version} {decision} by {blocks.user(by)}.")


def register(app: App, deps: Deps) -> None:
    @app.action("signoff_approve")
    def approve(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        user = approver(deps, body, respond)
        if user is None:
            return
        value = action_json(body)
        try:
            with session_scope(deps.engine) as session:
                case, draft = decision_target(session, value)
                lifecycle.approve(session, case=case, actor=user, settings=deps.settings)
                reference, draft_id, version = case.reference, int(draft.id or 0), draft.version
        except CaseError as err:
            tell(respond, str(err))
            return
        log.info("%s draft v%d approved by %s", reference, version, user)
        settle(
            client,
            deps,
            reference=reference,
            draft_id=draft_id,
            version=version,
            decision="approved",
            by=user,
        )

    @app.action("signoff_return")
    def open_return(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        user = approver(deps, body, respond)
        if user is None:
            return
        value = action_json(body)
        try:
            with session_scope(deps.engine) as session:
                case, draft = decision_target(session, value)
                lifecycle_stage = case.stage
                version = draft.version
        except CaseError as err:
            tell(respond, str(err))
            return
        if lifecycle_stage != "awaiting_signoff":
            tell(respond, f"{value.get('reference')}'s draft v{version} is no longer awaiting sign-off.")
            return
        view = case_file.reason_view(
            callback_id="signoff_return",
            reference=str(value.get("reference")),
            title="Return for redraft",
            prompt=(
                f"Return draft v{version} of *{blocks.entities(str(value.get('reference')))}* "
                "to the caseworker. "
                "Say what should change: it is kept in the case's history and shown with the draft."
            ),
            label="What should change",
            submit="Return",
            meta={"draft_id": value.get("draft_id")},
        )
        client.views_open(trigger_id=body["trigger_id"], view=view)
