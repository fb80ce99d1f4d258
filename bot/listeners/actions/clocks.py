"""The clock's buttons: Stop clock / Restart clock / Extend (each opens its modal), Open internal
review and Close as lapsed (one click each). Caseworkers only; the modals' submissions are in
:mod:`bot.listeners.views.clocks`."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import blocks, clock_blocks
from bot.deps import Deps
from bot.escape import entities
from bot.listeners.replies import redraw_post
from store.cases import CaseError, get_case, set_status
from store.db import session_scope
from store.enums import Status
from store.reviews import open_review

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    from bot.listeners.actions import _where, may_act

    def opener(build: Any) -> Any:
        def handler(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
            ack()
            if not may_act(deps, body["user"]["id"], respond):
                return
            channel, ts = _where(body)
            reference = str(body["actions"][0].get("value") or "")
            client.views_open(trigger_id=body["trigger_id"], view=build(reference, channel, ts))

        return handler

    app.action(clock_blocks.STOP)(opener(lambda r, c, t: clock_blocks.stop_modal(r, deps.today(), c, t)))
    app.action(clock_blocks.START)(opener(lambda r, c, t: clock_blocks.start_modal(r, deps.today(), c, t)))
    app.action(clock_blocks.EXTEND)(opener(clock_blocks.extend_modal))

    def say(respond: Respond, text: str, *, replace: bool = False) -> None:
        respond(
            text=text,
            blocks=[blocks.section(entities(text))],
            response_type="ephemeral",
            replace_original=replace,
        )

    def redraw(body: dict[str, Any], client: WebClient, reference: str) -> None:
        """Redraw the case's post when the click came from it (not from a separate notice)."""
        channel, ts = _where(body)
        if channel and ts and str(body["actions"][0].get("block_id", "")).startswith("clock:"):
            redraw_post(client, deps, reference=reference, channel=channel, ts=ts)

    @app.action(clock_blocks.REVIEW)
    def review(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        if not may_act(deps, user, respond):
            return
        reference, _, asked = str(body["actions"][0].get("value") or "").partition("|")
        try:
            on = date.fromisoformat(asked) if asked else None
            with session_scope(deps.engine) as session:
                original = get_case(session, reference)
                if original is None:
                    raise CaseError(f"Case {reference} no longer exists.")
                opened = open_review(
                    session, original=original, settings=deps.settings, actor=user, on=on, today=deps.today()
                )
                due = f"{opened.due_on:%a %-d %b %Y}"
                text = f"Internal review {opened.reference} opened by <@{user}>, due {due}."
        except (CaseError, ValueError) as err:
            say(respond, str(err))
            return
        log.info("internal review of %s opened by %s", reference, user)
        respond(text=text, response_type="in_channel", replace_original=False)
        redraw(body, client, reference)

    @app.action(clock_blocks.LAPSE)
    def lapse(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        if not may_act(deps, user, respond):
            return
        reference = str(body["actions"][0].get("value") or "")
        with session_scope(deps.engine) as session:
            case = get_case(session, reference)
            changed = case is not None and set_status(
                session,
                case=case,
                status=Status.CLOSED,
                actor=user,
                note=clock_blocks.LAPSED_NOTE,
                settings=deps.settings,
            )
        if not changed:
            say(respond, f"{reference} is already closed (or no longer exists): nothing changed.")
            return
        log.info("%s closed as lapsed by %s", reference, user)
        respond(text=f"{reference} closed as lapsed by <@{user}>.", replace_original=True)
