"""The "link to another case or campaign" modal's submission (the case file's modals are in
:mod:`bot.listeners.views.case_file`)."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy import select

from bot.access import REFUSAL
from bot.deps import Deps
from bot.listeners.replies import redraw_post
from store.cases import CaseError, get_case, link
from store.db import session_scope
from store.models import Campaign, Case

log = logging.getLogger(__name__)

_CAMPAIGN = re.compile(r"^(?:campaign\s*#?|#)\s*(\d+)$", re.IGNORECASE)


def _target(session: Any, text: str) -> Case | None:
    match = _CAMPAIGN.match(text)
    if match:
        campaign = session.get(Campaign, int(match.group(1)))
        if campaign is None or campaign.case_id is None:
            return None
        return session.execute(select(Case).where(Case.id == campaign.case_id)).scalar_one_or_none()  # type: ignore[arg-type]
    return get_case(session, text)


def register(app: App, deps: Deps) -> None:
    from bot.listeners.views import clocks  # the clock's controls (store.clocks)

    clocks.register(app, deps)

    from bot.listeners.views import case_file

    case_file.register(app, deps)

    @app.view("link_case")
    def submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        user = body["user"]["id"]
        if not deps.access.may_act(user):
            ack(response_action="errors", errors={"target": REFUSAL})
            return
        meta = json.loads(view.get("private_metadata") or "{}")
        reference = meta.get("reference", "")
        text = ((view["state"]["values"].get("target") or {}).get("value") or {}).get("value") or ""
        text = " ".join(text.split())
        try:
            with session_scope(deps.engine) as session:
                case = get_case(session, reference)
                if case is None:
                    raise CaseError(f"Case {reference} no longer exists.")
                other = _target(session, text)
                if other is None:
                    raise CaseError(
                        f"No case or campaign is called “{text[:60]}”. Use a reference like "
                        "WMOPC-2013-000123, or `campaign 7`."
                    )
                link(session, case=case, other=other, actor=user)
        except CaseError as err:
            ack(response_action="errors", errors={"target": str(err)[:150]})
            return
        ack()
        log.info("%s linked to %s by %s", reference, text[:40], user)
        if meta.get("channel") and meta.get("ts"):
            redraw_post(client, deps, reference=reference, channel=meta["channel"], ts=meta["ts"])
