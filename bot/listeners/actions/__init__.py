"""The controls on a triage message: category, assignee, status, and "link…".

The case file's buttons (letter, attachments, notes, drafts, sign-off, send, stage) are in
:mod:`bot.listeners.actions.case_file`; the approver's DM buttons in
:mod:`bot.listeners.actions.signoff`.

Each click is acknowledged at once, checked against the access rules, applied through
``store.cases`` with the Slack user as the actor (so the case's history says who did it), and
the triage message is redrawn in place from the store.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import blocks, queries
from bot.access import REFUSAL, not_assignable
from bot.deps import Deps
from bot.listeners.actions import privacy as privacy_actions
from bot.listeners.replies import redraw_post
from store import lifecycle
from store.audit import record
from store.cases import CaseError, assign, get_case, record_event, set_category, set_status
from store.db import session_scope
from store.enums import Category, EventKind, Stage
from store.messages import label_text
from store.models import Case

log = logging.getLogger(__name__)


def _reference(body: dict[str, Any]) -> str:
    action = body["actions"][0]
    block_id = action.get("block_id") or ""
    if block_id.startswith("triage:"):
        return block_id.split(":", 1)[1]
    return str(action.get("value") or "")


def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return channel, ts


def may_act(deps: Deps, user: str, respond: Respond) -> bool:
    """True for a caseworker; anyone else gets the polite refusal, only to them, and nothing changes."""
    if deps.access.may_act(user):
        return True
    respond(text=REFUSAL, blocks=blocks.refusal(REFUSAL), response_type="ephemeral", replace_original=False)
    return False


def register(app: App, deps: Deps) -> None:
    from bot.listeners.actions import clocks  # the clock's controls (store.clocks)

    clocks.register(app, deps)

    from bot.listeners.actions import case_file, signoff

    case_file.register(app, deps)
    signoff.register(app, deps)

    from bot.listeners.actions import proposal

    proposal.register(app, deps)

    def change(body: dict[str, Any], respond: Respond, client: WebClient, apply: Any) -> None:
        user = body["user"]["id"]
        if not may_act(deps, user, respond):
            return
        reference = _reference(body)
        try:
            with session_scope(deps.engine) as session:
                case = get_case(session, reference)
                if case is None:
                    raise CaseError(
                        f"Case {reference} no longer exists (it may have been merged into a campaign)."
                    )
                apply(session, case, body["actions"][0], user)
        except (CaseError, ValueError) as err:
            respond(
                text=str(err),
                blocks=blocks.error(str(err)),
                response_type="ephemeral",
                replace_original=False,
            )
            # redraw anyway, so a refused choice (a non-caseworker assignee) does not stay shown
        channel, ts = _where(body)
        if channel and ts:
            redraw_post(client, deps, reference=reference, channel=channel, ts=ts)

    @app.action("triage_category")
    def category(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()

        def apply(session: Any, case: Case, action: dict[str, Any], user: str) -> None:
            value = Category(action["selected_option"]["value"])
            set_category(
                session,
                case=case,
                category=value,
                actor=user,
                settings=deps.settings,
                label_text=label_text(session, case=case),
            )
            record(session, actor=user, action="changed", case=case, detail=f"category {value.value}")
            log.info("%s re-categorised as %s by %s", case.reference, value.value, user)

        change(body, respond, client, apply)

    @app.action("triage_assign")
    def assignee(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()

        def apply(session: Any, case: Case, action: dict[str, Any], user: str) -> None:
            chosen = action.get("selected_user")
            refused = not_assignable(deps.access, chosen)
            if refused:
                raise CaseError(refused)
            if assign(session, case=case, assignee=chosen, actor=user):
                record(session, actor=user, action="changed", case=case, detail=f"assigned to {chosen}")

        change(body, respond, client, apply)

    @app.action("triage_status")
    def status(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()

        def apply(session: Any, case: Case, action: dict[str, Any], user: str) -> None:
            choice = action["selected_option"]["value"]
            if choice not in blocks.STATUS_CHOICES:
                raise CaseError(f"Unknown status choice {choice!r}.")
            new, note, _label = blocks.STATUS_CHOICES[choice]
            if choice == "referred":  # the stage says so too: with the force for comment
                changed = lifecycle.move(
                    session, case=case, to=Stage.WITH_FORCE, actor=user, note=note, settings=deps.settings
                )
            else:
                changed = set_status(
                    session, case=case, status=new, actor=user, note=note, settings=deps.settings
                )
            if not changed and note:  # e.g. "Referred to force" on a case already in progress
                record_event(session, case=case, kind=EventKind.NOTE, actor=user, note=note)
            record(session, actor=user, action="changed", case=case, detail=f"status {choice}")

        change(body, respond, client, apply)

    @app.action("triage_link")
    def open_link(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        if not may_act(deps, user, respond):
            return
        channel, ts = _where(body)
        client.views_open(
            trigger_id=body["trigger_id"], view=blocks.link_modal(_reference(body), channel, ts)
        )

    @app.action("case_details")
    def details(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        """The details a minimal triage post leaves out: to a caseworker only, only to them."""
        ack()
        user = body["user"]["id"]
        if not may_act(deps, user, respond):
            return
        reference = _reference(body)
        with session_scope(deps.engine) as session:
            case = get_case(session, reference)
            if case is None:
                text = f"Case {reference} no longer exists (it may have been merged into a campaign)."
                message = blocks.error(text)
            else:
                message = blocks.case_blocks(queries.detail(session, case=case), deps.settings, deps.today())
                text = f"Case {case.reference}"
                record(session, actor=user, action="viewed", case=case, detail="slack: show details")
        respond(text=text, blocks=message, response_type="ephemeral", replace_original=False)

    privacy_actions.register(app, deps)
