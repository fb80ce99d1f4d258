"""The case file's buttons on a triage post or a case view, for caseworkers only.

*Read letter* and *Attachments* open modals (every page shown is written to the case's log
with the Slack user); *Add note* and *Draft reply* open forms whose submissions are in
:mod:`bot.listeners.views.case_file`; *Request sign-off*, *Send* and the stage select change
the case through :mod:`store.lifecycle` and redraw its triage post. Every click is
acknowledged first; anyone but a caseworker is refused, only to them, and nothing changes.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import blocks, case_file, queries
from bot.deps import Deps
from bot.listeners.replies import (
    action_json,
    caseworker,
    post_in_thread,
    reference_of,
    refresh_post,
    refusal_text,
    tell,
    where,
)
from casework.errors import UserError
from store import lifecycle
from store.cases import CaseError, get_case
from store.db import session_scope
from store.enums import EventKind, Stage
from store.models import Case

log = logging.getLogger(__name__)


def _case(session: Any, reference: str) -> Case:
    case = get_case(session, reference)
    if case is None:
        raise CaseError(f"Case {reference} no longer exists (it may have been merged into a campaign).")
    return case


def letter_view(deps: Deps, *, reference: str, user: str, pk: int | None, page: int) -> dict[str, Any]:
    """The Read-letter modal at message ``pk`` (None: the case's first) and ``page``; logged as read."""
    with session_scope(deps.engine) as session:
        case = _case(session, reference)
        letters, total = queries.letters(session, case=case)
        if not letters:
            return case_file.notice_view("Read letter", f"*{blocks.entities(reference)}* has no messages.")
        shown = letters[0] if pk is None else queries.letter(session, case=case, pk=pk)
        if shown is None:
            raise CaseError(f"That message is not on {reference}.")
        view = case_file.read_letter_view(
            reference=case.reference, letters=letters, total=total, shown=shown, page=page
        )
        meta = json.loads(view["private_metadata"])
        count = len(case_file.pages(shown.body))
        lifecycle.record_view(
            session,
            case=case,
            actor=user,
            action=EventKind.MESSAGE_READ,
            detail=f"message {shown.pk} page {meta['page'] + 1}/{count}",
        )
    return view


def register(app: App, deps: Deps) -> None:
    @app.action("case_read")
    def read(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        user = caseworker(deps, body, respond)
        if user is None:
            return
        try:
            view = letter_view(deps, reference=reference_of(body), user=user, pk=None, page=0)
        except CaseError as err:
            tell(respond, str(err))
            return
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def turn(body: dict[str, Any], client: WebClient, *, pk: int | None, page: int) -> None:
        """A page or message change inside the Read-letter modal: the modal is redrawn in place."""
        user = (body.get("user") or {}).get("id")
        view = body.get("view") or {}
        meta = json.loads(view.get("private_metadata") or "{}")
        if not deps.access.may_act(user):
            new = case_file.notice_view("Read letter", f":lock: {refusal_text(deps, user)}")
        else:
            try:
                new = letter_view(deps, reference=meta.get("reference", ""), user=str(user), pk=pk, page=page)
            except CaseError as err:
                new = case_file.notice_view("Read letter", f":warning: {blocks.entities(str(err))}")
        client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=new)

    @app.action("case_read_pick")
    def pick(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        value = ((body["actions"][0].get("selected_option") or {}).get("value")) or "0"
        turn(body, client, pk=int(value) if value.isdigit() else 0, page=0)

    @app.action("case_read_prev")
    @app.action("case_read_next")
    def page(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        value = action_json(body)
        turn(body, client, pk=int(value.get("pk") or 0), page=int(value.get("page") or 0))

    @app.action("case_attachments")
    def attachments(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        user = caseworker(deps, body, respond)
        if user is None:
            return
        reference = reference_of(body)
        with session_scope(deps.engine) as session:
            case = get_case(session, reference)
            if case is None:
                tell(respond, f"Case {reference} no longer exists.")
                return
            choices = queries.file_choices(session, case=case)
            lifecycle.record_view(
                session, case=case, actor=user, action=EventKind.VIEWED, detail="attachments listed"
            )
        view = case_file.attachments_view(reference=reference, choices=choices, meta=where(body))
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action("case_note")
    def note(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        if caseworker(deps, body, respond) is None:
            return
        view = case_file.note_view(reference=reference_of(body), meta=where(body))
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action("case_draft")
    def draft(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        user = caseworker(deps, body, respond)
        if user is None:
            return
        reference = reference_of(body)
        try:
            with session_scope(deps.engine) as session:
                case = _case(session, reference)
                if Stage(case.stage) is Stage.AWAITING_SIGNOFF:
                    raise CaseError(
                        f"{reference}'s draft is with the approvers: "
                        "wait for their decision before changing it."
                    )
                current = lifecycle.current_draft(session, case=case)
                if current is not None:
                    body_text, subject = current.body, current.subject
                    by = (
                        blocks.user(current.author)
                        if current.author[:1] in ("U", "W")
                        else blocks.entities(current.author)
                    )
                    source = f"Draft v{current.version} ({current.state.replace('_', ' ')}) by {by}"
                    returned = current.decision_note if current.state == "returned" else ""
                else:
                    body_text = lifecycle.render_template(session, case=case, settings=deps.settings)
                    subject = lifecycle.default_subject(case)
                    source = f"From the {blocks.category_label(case.category).lower()} response template"
                    returned = ""
        except (CaseError, UserError) as err:
            tell(respond, str(err))
            return
        view = case_file.draft_view(
            reference=reference,
            subject=subject,
            body=body_text,
            source=source,
            returned_reason=returned,
            meta=where(body),
        )
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def change(body: dict[str, Any], respond: Respond, client: WebClient, apply: Any) -> None:
        """Apply a change through the store as the clicking caseworker, then redraw the post."""
        user = caseworker(deps, body, respond)
        if user is None:
            return
        reference = reference_of(body)
        try:
            with session_scope(deps.engine) as session:
                notice = apply(session, _case(session, reference), user)
        except (CaseError, UserError) as err:
            tell(respond, str(err))
            return
        refresh_post(client, deps, reference)
        if notice:
            post_in_thread(client, deps, reference, notice)

    @app.action("case_request_signoff")
    def request_signoff(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()

        def apply(session: Any, case: Case, user: str) -> str:
            found = lifecycle.request_signoff(session, case=case, actor=user, settings=deps.settings)
            log.info("%s draft v%d sent for sign-off by %s", case.reference, found.version, user)
            return f"Draft v{found.version} sent for sign-off by {blocks.user(user)}."

        change(body, respond, client, apply)

    def send(final: bool) -> Any:
        def apply(session: Any, case: Case, user: str) -> str:
            current = lifecycle.current_draft(session, case=case)
            if current is None:
                raise CaseError(f"{case.reference} has no draft to send: use *Draft reply* first.")
            sent = lifecycle.queue_reply(
                session,
                case=case,
                actor=user,
                body=current.body,
                subject=current.subject,
                settings=deps.settings,
                final=final,
            )
            what = "Final reply" if final else "Holding reply"
            log.info("%s: %s queued for %d recipient(s) by %s", case.reference, what, len(sent), user)
            people = f"{len(sent)} recipients" if len(sent) != 1 else "the correspondent"
            return f"{what} (draft v{current.version}) sent to {people} by {blocks.user(user)}."

        return apply

    @app.action("case_send_final")
    def send_final(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        change(body, respond, client, send(True))

    @app.action("case_send_holding")
    def send_holding(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        change(body, respond, client, send(False))

    @app.action("case_stage")
    def stage(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        user = caseworker(deps, body, respond)
        if user is None:
            return
        reference = reference_of(body)
        to = ((body["actions"][0].get("selected_option") or {}).get("value")) or ""
        try:
            with session_scope(deps.engine) as session:
                case = _case(session, reference)
                if lifecycle.needs_note(case, to):
                    label = Stage(to).label.lower()
                    view = case_file.reason_view(
                        callback_id="case_stage_reason",
                        reference=reference,
                        title="Why?",
                        prompt=(
                            f"Moving *{blocks.entities(reference)}* from "
                            f"{blocks.stage_label(case.stage).lower()} to *{label}* needs a reason; "
                            "it is kept in the case's history."
                        ),
                        label="Reason",
                        submit="Move",
                        meta={"to": to, **where(body)},
                    )
                else:
                    view = None
                    lifecycle.move(session, case=case, to=to, actor=user, settings=deps.settings)
        except (CaseError, ValueError) as err:
            tell(respond, str(err))
            return
        if view is not None:
            client.views_open(trigger_id=body["trigger_id"], view=view)
            return
        refresh_post(client, deps, reference)

    @app.action("close_on_response")
    def close(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        user = caseworker(deps, body, respond)
        if user is None:
            return
        value = action_json(body)
        reference = str(value.get("reference") or "")
        try:
            with session_scope(deps.engine) as session:
                case = _case(session, reference)
                closed = lifecycle.close_on_response(
                    session,
                    case=case,
                    message_pk=int(value.get("message_pk") or 0),
                    actor=user,
                    settings=deps.settings,
                )
                sent_on = f"{case.closed_on:%-d %b %Y}" if case.closed_on else "-"
        except (CaseError, ValueError) as err:
            tell(respond, str(err))
            return
        text, message = case_file.close_prompt_done(
            reference=reference, sent_on=sent_on, by=user, closed=closed
        )
        respond(text=text, blocks=message, replace_original=True)
        refresh_post(client, deps, reference)
