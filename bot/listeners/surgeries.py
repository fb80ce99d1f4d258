"""Surgeries in Slack: the slot picker of ``/casework surgeries`` and a case's "Offer surgery
appointment" button, both opening the booking modal, and its submission.

Only caseworkers may book; the booking goes through :func:`store.surgeries.book` with the Slack
user as the actor, so the case's history says who offered the appointment, and the person's
confirmation email is queued in the same transaction.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlmodel import Session

from bot import blocks
from bot.access import REFUSAL
from bot.deps import Deps
from bot.surgery_blocks import SessionSlots, booked_view, booking_modal, slot_label
from store import surgeries
from store.cases import CaseError, get_case
from store.db import session_scope
from store.models import Correspondent
from store.surgery_mail import slot_start
from store.types import utcnow

log = logging.getLogger(__name__)


def next_sessions(session: Session, *, limit: int = 20) -> list[SessionSlots]:
    """Scheduled sessions that have not started yet, soonest first, with their free slots."""
    now = utcnow()
    found = []
    for sitting in surgeries.sessions_from(session, start=now.date()):
        if sitting.status != "scheduled" or sitting.starts_at <= now:
            continue
        free = [n for n in surgeries.free_slots(session, sitting) if slot_start(sitting, n) > now]
        found.append(SessionSlots(sitting, free))
        if len(found) >= limit:
            break
    return found


def _value(view: dict[str, Any], block: str) -> str:
    state = (view.get("state") or {}).get("values", {}).get(block) or {}
    element = state.get("value") or {}
    if element.get("selected_option"):
        return str(element["selected_option"].get("value") or "")
    return " ".join(str(element.get("value") or "").split())


def _refuse(respond: Respond) -> None:
    respond(text=REFUSAL, blocks=blocks.refusal(REFUSAL), response_type="ephemeral", replace_original=False)


def register(app: App, deps: Deps) -> None:
    @app.action("surgery_pick")
    def pick(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        if not deps.access.may_act(body["user"]["id"]):
            _refuse(respond)
            return
        session_id, slot = (int(part) for part in body["actions"][0]["selected_option"]["value"].split(":"))
        with session_scope(deps.engine) as session:
            sitting = surgeries.require_session(session, session_id)
            view = booking_modal(
                choices=[SessionSlots(sitting, surgeries.free_slots(session, sitting))],
                chosen=(session_id, slot),
            )
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action("surgery_offer")
    def offer(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        if not deps.access.may_act(body["user"]["id"]):
            _refuse(respond)
            return
        reference = str(body["actions"][0].get("value") or "")
        with session_scope(deps.engine) as session:
            case = get_case(session, reference)
            if case is None:
                text = f"Case {reference} no longer exists."
                respond(
                    text=text, blocks=blocks.error(text), response_type="ephemeral", replace_original=False
                )
                return
            person = session.get(Correspondent, case.correspondent_id) if case.correspondent_id else None
            choices = next_sessions(session)
            if not choices:
                text = "No surgery is scheduled yet: add one with `casework surgery add`."
                respond(
                    text=text, blocks=blocks.error(text), response_type="ephemeral", replace_original=False
                )
                return
            view = booking_modal(
                choices=choices,
                reference=case.reference,
                name=person.name if person else "",
                email=person.email if person else "",
            )
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view("surgery_book")
    def submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        if not deps.access.may_act(user):
            ack(response_action="errors", errors={"name": REFUSAL[:150]})
            return
        meta = json.loads(view.get("private_metadata") or "{}")
        chosen = meta.get("chosen") or [int(p) for p in (_value(view, "slot") or "0:0").split(":")]
        session_id, slot = int(chosen[0]), int(chosen[1])
        reference = meta.get("reference") or _value(view, "case") or None
        try:
            with session_scope(deps.engine) as session:
                booking, case = surgeries.book(
                    session,
                    settings=deps.settings,
                    session_id=session_id,
                    slot=slot or None,
                    waitlist=slot == 0,
                    name=_value(view, "name"),
                    email=_value(view, "email"),
                    needs=_value(view, "needs"),
                    case_reference=reference,
                    actor=user,
                )
                sitting = surgeries.require_session(session, session_id)
                if booking.slot is not None:
                    text = (
                        f"Booked {slot_label(sitting, booking.slot)} for {booking.name} ({case.reference})."
                    )
                else:
                    text = (
                        f"{booking.name} ({case.reference}) is on the waiting list of session {sitting.id}."
                    )
                text += " The confirmation email is on its way."
        except CaseError as err:
            message = str(err)
            field = (
                "case"
                if "case" in message.lower() and not meta.get("reference")
                else (
                    "email" if "email" in message.lower() else ("slot" if not meta.get("chosen") else "name")
                )
            )
            ack(response_action="errors", errors={field: message[:150]})
            return
        ack(response_action="update", view=booked_view(text))
        log.info("surgery booking %s made from Slack by %s", booking.id, user)
