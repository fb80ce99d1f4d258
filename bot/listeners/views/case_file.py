"""Submissions of the case file's modals: attachment, note, draft, stage reason, and the
approver's reason for returning a draft.

Each is checked against the access rules before anything changes (a refusal shows in the
modal, to that person only). A store refusal (a move that makes no sense, a draft with the
approvers) keeps the modal open with the message on the field. The attachment is the one
slow job: the choice is checked and acknowledged at once, and a lazy listener uploads the
file to the asker's direct messages.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import blocks, case_file, queries
from bot.deps import Deps
from bot.listeners.actions.signoff import NOT_APPROVER, decision_target, settle
from bot.listeners.replies import refresh_post, refusal_text
from casework.errors import UserError
from store import lifecycle
from store.cases import CaseError, get_case
from store.db import session_scope
from store.enums import EventKind

log = logging.getLogger(__name__)


def _meta(view: dict[str, Any]) -> dict[str, Any]:
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _value(view: dict[str, Any], block: str) -> str:
    state = (view.get("state") or {}).get("values") or {}
    field = (state.get(block) or {}).get("value") or {}
    if field.get("type") == "static_select":
        return str((field.get("selected_option") or {}).get("value") or "")
    return str(field.get("value") or "")


def _error(ack: Ack, block: str, text: str) -> None:
    # Slack shows at most a line or two under a field
    ack(response_action="errors", errors={block: blocks.truncate(text, 150)})


def register(app: App, deps: Deps) -> None:
    def caseworker(ack: Ack, body: dict[str, Any], block: str) -> str | None:
        user = (body.get("user") or {}).get("id")
        if deps.access.may_act(user):
            return str(user)
        _error(ack, block, refusal_text(deps, user))
        log.info("case-file submission refused for %s", user)
        return None

    # --- attachments: checked and acknowledged, then uploaded lazily --------------------------

    def check_attachment(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        if caseworker(ack, body, "file") is None:
            return
        meta = _meta(view)
        with session_scope(deps.engine) as session:
            case = get_case(session, str(meta.get("reference") or ""))
            found = queries.file_content(session, case=case, key=_value(view, "file")) if case else None
        if found is None:
            _error(ack, "file", "That attachment is not on this case any more.")
            return
        if found[2] is None:
            _error(
                ack,
                "file",
                "This attachment was too large to keep (CASEWORK_ATTACHMENT_MAX_BYTES): "
                "find it in the casework mailbox.",
            )
            return
        ack()

    def upload_attachment(body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        user = str(body["user"]["id"])
        if not deps.access.may_act(user):  # bolt runs the lazy part whatever the ack said
            return
        meta = _meta(view)
        reference = str(meta.get("reference") or "")
        key = _value(view, "file")
        with session_scope(deps.engine) as session:
            case = get_case(session, reference)
            found = queries.file_content(session, case=case, key=key) if case else None
        if case is None or found is None or found[2] is None:
            return
        filename, _content_type, data = found
        # a DM with the app, never a channel: attachments are the public's private papers
        channel = client.conversations_open(users=user)["channel"]["id"]
        try:
            client.files_upload_v2(
                channel=channel,
                content=data,
                filename=filename or "attachment",
                title=f"{reference}: {filename or 'attachment'}",
            )
        except Exception:
            log.exception("attachment of %s not uploaded", reference)
            client.chat_postMessage(
                channel=channel,
                text=f"Sorry, {filename or 'the attachment'} of {reference} could not be sent; try again.",
            )
            return
        with session_scope(deps.engine) as session:
            case = get_case(session, reference)
            if case is not None:
                lifecycle.record_view(
                    session,
                    case=case,
                    actor=user,
                    action=EventKind.ATTACHMENT_DOWNLOADED,
                    detail=f"attachment {key}",
                )
        log.info("attachment %s of %s sent to %s", key, reference, user)

    app.view("case_attachment")(ack=check_attachment, lazy=[upload_attachment])

    # --- note, draft, stage reason --------------------------------------------------------------

    def apply(ack: Ack, view: dict[str, Any], block: str, user: str, change: Any) -> str | None:
        """Run ``change(session, case)`` for the modal's case; the reference, or None when refused."""
        reference = str(_meta(view).get("reference") or "")
        try:
            with session_scope(deps.engine) as session:
                case = get_case(session, reference)
                if case is None:
                    raise CaseError(f"Case {reference} no longer exists.")
                change(session, case)
        except (CaseError, UserError, ValueError) as err:
            _error(ack, block, str(err))
            return None
        ack()
        return reference

    @app.view("case_note")
    def note(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        user = caseworker(ack, body, "note")
        if user is None:
            return
        text = _value(view, "note")

        def change(session: Any, case: Any) -> None:
            lifecycle.add_note(session, case=case, author=user, text=text, source="slack")

        reference = apply(ack, view, "note", user, change)
        if reference:
            refresh_post(client, deps, reference)

    @app.view("case_draft")
    def draft(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        user = caseworker(ack, body, "body_1")
        if user is None:
            return
        meta = _meta(view)
        parts = int(meta.get("parts") or 1)
        joins = [str(j) for j in meta.get("joins") or []]
        text = case_file.join_parts([_value(view, f"body_{n}") for n in range(1, parts + 1)], joins)
        subject = _value(view, "subject")

        def change(session: Any, case: Any) -> None:
            saved = lifecycle.save_draft(
                session, case=case, author=user, body=text, subject=subject, settings=deps.settings
            )
            log.info("%s draft v%d saved by %s", case.reference, saved.version, user)

        reference = apply(ack, view, "body_1", user, change)
        if reference:
            refresh_post(client, deps, reference)

    @app.view("case_stage_reason")
    def stage_reason(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        user = caseworker(ack, body, "reason")
        if user is None:
            return
        to = str(_meta(view).get("to") or "")
        reason = _value(view, "reason")

        def change(session: Any, case: Any) -> None:
            lifecycle.move(session, case=case, to=to, actor=user, note=reason, settings=deps.settings)

        reference = apply(ack, view, "reason", user, change)
        if reference:
            refresh_post(client, deps, reference)

    @app.view("signoff_return")
    def returned(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        user = (body.get("user") or {}).get("id")
        if not deps.access.may_approve(user):
            _error(ack, "reason", NOT_APPROVER)
            return
        meta = _meta(view)
        reason = _value(view, "reason")
        try:
            with session_scope(deps.engine) as session:
                case, found = decision_target(session, meta)
                lifecycle.return_for_redraft(
                    session, case=case, actor=str(user), reason=reason, settings=deps.settings
                )
                reference, draft_id, version = case.reference, int(found.id or 0), found.version
        except CaseError as err:
            _error(ack, "reason", str(err))
            return
        ack()
        log.info("%s draft v%d returned for redraft by %s", reference, version, user)
        settle(
            client,
            deps,
            reference=reference,
            draft_id=draft_id,
            version=version,
            decision="returned for redraft",
            by=str(user),
            note=reason,
        )
