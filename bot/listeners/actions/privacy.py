"""The managers' retention buttons: *Review* lists the cases due, *Confirm anonymisation* runs it.

Both come on the monthly retention DM (:mod:`casework.scheduler.retention`) and carry the date
the list was drawn up for, so what is confirmed is what was reviewed (cases due by that date).
Only managers may press them; a person decides, as in the MoJ correspondence tool.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import blocks
from bot.access import REFUSAL, Role
from bot.deps import Deps
from bot.escape import entities
from store.db import session_scope
from store.retention import review
from store.retention_run import apply_retention

log = logging.getLogger(__name__)

REVIEW_LINES = 40


def _manager(deps: Deps, user: str) -> bool:
    return deps.access.role(user) == Role.MANAGER or user in deps.access.managers()


def _as_of(body: dict[str, Any]) -> date:
    return date.fromisoformat(str(body["actions"][0].get("value") or ""))


def register(app: App, deps: Deps) -> None:
    def refuse(respond: Respond) -> None:
        respond(
            text=REFUSAL, blocks=blocks.refusal(REFUSAL), response_type="ephemeral", replace_original=False
        )

    @app.action("retention_review")
    def review_due(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        if not _manager(deps, body["user"]["id"]):
            refuse(respond)
            return
        as_of = _as_of(body)
        with session_scope(deps.engine) as session:
            due = review(session, schedule=deps.settings.retention, as_of=as_of)
        lines = [
            f"`{entities(d.reference)}` {entities(d.category)} · closed {d.closed_on:%-d %b %Y} · "
            f"{entities(d.period)} ended {d.expired_on:%-d %b %Y}"
            + (f" · :pause_button: on hold ({entities(d.held[:80])})" if d.held else "")
            for d in due[:REVIEW_LINES]
        ]
        more = (
            f"\n…and {len(due) - REVIEW_LINES} more (`casework retention review`)"
            if len(due) > REVIEW_LINES
            else ""
        )
        text = f"{len(due)} case(s) past their retention period on {as_of:%-d %b %Y}"
        message = [blocks.section(f"*{text}*\n" + ("\n".join(lines) or "None.") + more)]
        respond(
            text=text, blocks=blocks.validated(message), response_type="ephemeral", replace_original=False
        )

    @app.action("retention_confirm")
    def confirm(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        user = body["user"]["id"]
        if not _manager(deps, user):
            refuse(respond)
            return
        run = apply_retention(deps.engine, deps.settings, as_of=_as_of(body), actor=user)
        text = (
            f"Anonymised {len(run.anonymised)} case(s); {len(run.held)} on hold were kept. "
            f"Deleted {run.mail.automatic} automatic and {run.mail.quarantined} quarantined message(s)."
        )
        log.info("retention confirmed by %s: %s", user, text)
        respond(
            text=text,
            blocks=blocks.validated([blocks.section(f":white_check_mark: {text}")]),
            replace_original=False,
        )
