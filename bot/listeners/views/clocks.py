"""The clock modals' submissions: stop (reason, date, note), restart (date, note), extend.

Bad input (a date in the future or before receipt, past the extension cap) is answered on the
field, in the modal, with the store's message; nothing changes.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import clock_blocks
from bot.access import REFUSAL
from bot.deps import Deps
from bot.listeners.replies import redraw_post
from store import clocks
from store.cases import CaseError, get_case
from store.db import session_scope

log = logging.getLogger(__name__)


def _value(view: dict[str, Any], block: str) -> dict[str, Any]:
    return (view["state"]["values"].get(block) or {}).get("value") or {}


def _day(view: dict[str, Any]) -> date | None:
    picked = _value(view, "on").get("selected_date")
    return date.fromisoformat(picked) if picked else None


def register(app: App, deps: Deps) -> None:
    def submitted(field: str, apply: Any) -> Any:
        def handler(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
            user = body["user"]["id"]
            if not deps.access.may_act(user):
                ack(response_action="errors", errors={field: REFUSAL})
                return
            meta = json.loads(view.get("private_metadata") or "{}")
            reference = meta.get("reference", "")
            note = (_value(view, "note").get("value") or "").strip()
            try:
                with session_scope(deps.engine) as session:
                    case = get_case(session, reference)
                    if case is None:
                        raise CaseError(f"Case {reference} no longer exists.")
                    apply(session, case, view, user, note)
            except (CaseError, ValueError) as err:
                ack(response_action="errors", errors={field: str(err)[:150]})
                return
            ack()
            log.info("clock of %s changed by %s", reference, user)
            if meta.get("channel") and meta.get("ts"):
                redraw_post(client, deps, reference=reference, channel=meta["channel"], ts=meta["ts"])

        return handler

    def stop(session: Any, case: Any, view: dict[str, Any], user: str, note: str) -> None:
        reason = (_value(view, "reason").get("selected_option") or {}).get("value") or ""
        clocks.stop_clock(
            session,
            case=case,
            settings=deps.settings,
            reason=reason,
            actor=user,
            on=_day(view),
            note=note,
            today=deps.today(),
        )

    def start(session: Any, case: Any, view: dict[str, Any], user: str, note: str) -> None:
        clocks.start_clock(
            session,
            case=case,
            settings=deps.settings,
            actor=user,
            on=_day(view),
            note=note,
            today=deps.today(),
        )

    def extend(session: Any, case: Any, view: dict[str, Any], user: str, note: str) -> None:
        text = (_value(view, "days").get("value") or "").strip()
        if not text.isdigit():
            raise CaseError(f"“{text[:20]}” is not a whole number of working days.")
        clocks.extend(
            session,
            case=case,
            settings=deps.settings,
            reason=note,
            actor=user,
            working_days=int(text),
            today=deps.today(),
        )

    app.view(clock_blocks.STOP)(submitted("on", stop))
    app.view(clock_blocks.START)(submitted("on", start))
    app.view(clock_blocks.EXTEND)(submitted("days", extend))
