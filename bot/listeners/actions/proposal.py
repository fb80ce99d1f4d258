"""The buttons of a re-categorisation prompt (:mod:`bot.proposal`): accept or decline.

Only caseworkers may answer (anyone else gets the polite refusal and nothing changes). Accepting
re-categorises the case through ``store.cases.set_category`` with the reply as the label the
classifier learns from; both answers are in the case's history with the Slack user, the prompt
is redrawn as the decision and the case's triage message is redrawn from the store.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import blocks, proposal, triage
from bot.deps import Deps
from bot.listeners.actions import may_act
from store.cases import CaseError, get_case
from store.db import session_scope
from store.enums import Category
from store.proposals import accept, decline

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    def answer(body: dict[str, Any], respond: Respond, client: WebClient, *, yes: bool) -> None:
        user = body["user"]["id"]
        if not may_act(deps, user, respond):
            return
        try:
            reference, category, message_pk = proposal.parse_value(body["actions"][0].get("value", ""))
        except ValueError:
            respond(text="That button is out of date.", blocks=blocks.error("That button is out of date."),
                    response_type="ephemeral", replace_original=False)  # fmt: skip
            return
        label = Category(category).label
        try:
            with session_scope(deps.engine) as session:
                case = get_case(session, reference)
                if case is None:
                    raise CaseError(
                        f"Case {reference} no longer exists (it may have been merged into a campaign)."
                    )
                if yes:
                    changed = accept(session, case=case, category=category, message_pk=message_pk, actor=user,
                                     settings=deps.settings)  # fmt: skip
                    said = (f"made a {label.lower()} by <@{user}>." if changed
                            else f"already a {label.lower()}; nothing changed.")  # fmt: skip
                else:
                    decline(session, case=case, category=category, message_pk=message_pk, actor=user)
                    said = f"kept as {blocks.category_label(case.category)} by <@{user}>."
                where = (case.slack_channel, case.slack_ts)
        except CaseError as err:
            respond(text=str(err), blocks=blocks.error(str(err)), response_type="ephemeral",
                    replace_original=False)  # fmt: skip
            return
        log.info("proposal %s for %s %s by %s", label, reference, "accepted" if yes else "declined", user)
        container = body.get("container") or {}
        channel, ts = container.get("channel_id"), container.get("message_ts")
        if channel and ts:
            text, message = proposal.decided(reference, said)
            client.chat_update(channel=channel, ts=ts, text=text, blocks=message)
        if where[0] and where[1]:
            triage.refresh(client, engine=deps.engine, settings=deps.settings, reference=reference,
                           channel=where[0], ts=where[1], today=deps.today())  # fmt: skip

    @app.action(proposal.ACCEPT)
    def accepted(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        answer(body, respond, client, yes=True)

    @app.action(proposal.DECLINE)
    def declined(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        answer(body, respond, client, yes=False)
