"""``casework case``: look at one case, correct it, and work it through its lifecycle."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any

import typer
from sqlmodel import Session

from casework.errors import UserError
from casework.runtime import open_store
from casework.settings import get_settings
from store import lifecycle
from store.audit import cli_actor, record
from store.cases import assign, deadline, history, require_case, set_category, set_status
from store.db import session_scope
from store.enums import Category, Stage, Status
from store.messages import label_text
from store.models import Case, Message

case_app = typer.Typer(help="Look at and correct one case.", no_args_is_help=True)


def _category(value: str) -> Category:
    try:
        return Category(value.strip().lower())
    except ValueError:
        raise UserError(
            f"{value!r} is not a category; use one of: {', '.join(c.value for c in Category)}."
        ) from None


def _status(value: str) -> Status:
    try:
        return Status(value.strip().lower())
    except ValueError:
        raise UserError(
            f"{value!r} is not a status; use one of: {', '.join(s.value for s in Status)}."
        ) from None


@case_app.command("show")
def show(
    reference: str,
    as_json: bool = typer.Option(
        False, "--json", help="the case file as JSON: the case, messages and events"
    ),
) -> None:
    """Category, status, stage, due date and history of one case."""
    settings = get_settings()
    with session_scope(open_store(settings)) as session:
        case = require_case(session, reference)
        record(session, actor=cli_actor(), action="viewed", case=case, detail="case show")
        if as_json:
            typer.echo(json.dumps(case_file(session, case), ensure_ascii=False, indent=2))
            return
        due = deadline(case, settings=settings)
        typer.echo(
            f"{case.reference}  {Category(case.category).label}  {Status(case.status).label}"
            f"  ({Stage(case.stage).label.lower()})"
        )
        typer.echo(f"subject: {case.subject}")
        if case.clock_stopped_on is not None:
            typer.echo(f"received {case.received_on}, clock stopped since {case.clock_stopped_on}")
        else:
            typer.echo(
                f"received {case.received_on}, due {due.due_on} ({due.working_days_left} working days left)"
            )
        if case.reasons:
            typer.echo("why: " + "; ".join(case.reasons))
        if case.responded_at is not None:
            typer.echo(f"responded {case.responded_at:%Y-%m-%d %H:%M} UTC")
        moves = ", ".join(s.value for s in lifecycle.allowed_moves(case, settings)) or "nowhere"
        typer.echo(f"drafts: {case.drafts}; can move to: {moves}")
        for event in history(session, case=case):
            change = f"{event.old_value or ''} → {event.new_value or ''}".strip(" →")
            typer.echo(
                f"  {event.at:%Y-%m-%d %H:%M} {event.kind:9} {change} by {event.actor} {event.note}".rstrip()
            )


@case_app.command("set-category")
def set_category_command(
    reference: str, category: str, actor: str = typer.Option("cli", help="who decided")
) -> None:
    """Correct a case's category; the correction is stored as a label the classifier learns from."""
    wanted = _category(category)
    settings = get_settings()
    with session_scope(open_store(settings)) as session:
        case = require_case(session, reference)
        changed = set_category(
            session,
            case=case,
            category=wanted,
            actor=actor,
            settings=settings,
            label_text=label_text(session, case=case),
        )
    typer.echo(f"{case.reference} is now {wanted.value}" + ("" if changed else " (unchanged)"))


@case_app.command("set-status")
def set_status_command(
    reference: str,
    status: str,
    actor: str = typer.Option("cli", help="who decided"),
    note: str = typer.Option("", help="why, kept in the case's history"),
) -> None:
    """Move a case to open, in_progress, monitoring or closed."""
    wanted = _status(status)
    settings = get_settings()
    with session_scope(open_store(settings)) as session:
        case = require_case(session, reference)
        changed = set_status(session, case=case, status=wanted, actor=actor, note=note, settings=settings)
    typer.echo(f"{case.reference} is now {wanted.value}" + ("" if changed else " (unchanged)"))


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def case_file(session: Session, case: Case) -> dict[str, Any]:
    """``casework case show --json``: the case, its messages both ways and its event log."""
    from sqlalchemy import func, select

    # in the order they were written (a reply captured days later sits where it was sent)
    when = func.coalesce(Message.sent_at, Message.received_at)
    messages = session.execute(
        select(Message).where(Message.case_id == case.id).order_by(when, Message.id)  # type: ignore[arg-type]
    ).scalars()
    return {
        "reference": case.reference,
        "category": case.category,
        "status": case.status,
        "stage": case.stage,
        "due_on": case.due_on.isoformat(),
        "received_at": _iso(case.received_at),
        "closed_at": _iso(case.closed_at),
        "responded_at": _iso(case.responded_at),
        "drafts": case.drafts,
        "messages": [
            {
                "direction": m.direction,
                "message_id": m.message_id,
                "at": _iso(m.sent_at or m.received_at),
                "from": m.from_addr,
                "to": list(m.to_addrs),
                "subject": m.subject,
            }
            for m in messages
        ],
        "events": [
            {
                "at": _iso(e.at),
                "actor": e.actor,
                "action": e.kind,
                "from": e.old_value,
                "to": e.new_value,
                "note": e.note,
            }
            for e in history(session, case=case)
        ],
    }


def _actor(actor: str | None) -> str:
    return actor or cli_actor()


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"Cannot read the {what} {path}: {err}. Give a UTF-8 text file.") from err


ACTOR = typer.Option(None, "--actor", help="who did it (default cli:<your login>)")


@case_app.command("move")
def move_command(
    reference: str,
    stage: str = typer.Argument(..., help=f"one of: {', '.join(s.value for s in Stage)}"),
    note: str = typer.Option("", help="why (needed for some moves, e.g. back from sign-off)"),
    actor: str | None = ACTOR,
) -> None:
    """Move a case to another stage of its lifecycle (the allowed moves: docs/lifecycle.md)."""
    settings = get_settings()
    with session_scope(open_store(settings)) as session:
        case = require_case(session, reference)
        changed = lifecycle.move(
            session, case=case, to=stage.strip().lower(), actor=_actor(actor), note=note, settings=settings
        )
        typer.echo(
            f"{case.reference} is now {Stage(case.stage).label.lower()} ({case.status})"
            + ("" if changed else " (unchanged)")
        )


@case_app.command("note")
def note_command(reference: str, text: str, actor: str | None = ACTOR) -> None:
    """Add a note to a case's file."""
    settings = get_settings()
    with session_scope(open_store(settings)) as session:
        case = require_case(session, reference)
        lifecycle.add_note(session, case=case, author=_actor(actor), text=text, source="cli")
    typer.echo(f"note added to {case.reference}")


@case_app.command("draft")
def draft_command(
    reference: str,
    body_file: Path | None = typer.Option(None, "--body-file", help="the reply's text (UTF-8)"),
    subject: str | None = typer.Option(None, help="the reply's subject (default: Re: the case's subject)"),
    template: bool = typer.Option(
        False, "--template", help="print the category's response template, filled in"
    ),
    actor: str | None = ACTOR,
) -> None:
    """Save a new version of a case's reply, or print its response template to start one."""
    settings = get_settings()
    with session_scope(open_store(settings)) as session:
        case = require_case(session, reference)
        if template or body_file is None:
            current = lifecycle.current_draft(session, case=case)
            typer.echo(
                current.body
                if current and not template
                else lifecycle.render_template(session, case=case, settings=settings)
            )
            return
        draft = lifecycle.save_draft(
            session,
            case=case,
            author=_actor(actor),
            settings=settings,
            body=_read_text(body_file, "draft"),
            subject=subject,
        )
        typer.echo(f"{case.reference}: draft v{draft.version} saved ({case.drafts} drafted)")


@case_app.command("request-signoff")
def request_signoff_command(reference: str, actor: str | None = ACTOR) -> None:
    """Send a case's current draft to the approvers (CASEWORK_APPROVERS) in Slack."""
    settings = get_settings()
    with session_scope(open_store(settings)) as session:
        case = require_case(session, reference)
        draft = lifecycle.request_signoff(session, case=case, actor=_actor(actor), settings=settings)
    typer.echo(
        f"{case.reference}: draft v{draft.version} sent for sign-off to {len(settings.approvers)} approver(s)"
    )


@case_app.command("approve")
def approve_command(
    reference: str,
    approver: str = typer.Option(..., "--as", help="your Slack user id, as listed in CASEWORK_APPROVERS"),
    note: str = typer.Option("", help="a comment kept with the approval"),
) -> None:
    """Approve a case's draft awaiting sign-off."""
    settings = get_settings()
    _require_approver(settings.approvers, approver)
    with session_scope(open_store(settings)) as session:
        case = require_case(session, reference)
        draft = lifecycle.approve(session, case=case, actor=approver, settings=settings, note=note)
    typer.echo(f"{case.reference}: draft v{draft.version} approved; ready to send")


@case_app.command("return")
def return_command(
    reference: str,
    reason: str = typer.Option(..., help="what should change (required)"),
    approver: str = typer.Option(..., "--as", help="your Slack user id, as listed in CASEWORK_APPROVERS"),
) -> None:
    """Return a case's draft for redraft, with the reason."""
    settings = get_settings()
    _require_approver(settings.approvers, approver)
    with session_scope(open_store(settings)) as session:
        case = require_case(session, reference)
        draft = lifecycle.return_for_redraft(
            session, case=case, actor=approver, reason=reason, settings=settings
        )
    typer.echo(f"{case.reference}: draft v{draft.version} returned for redraft")


def _require_approver(approvers: list[str], who: str) -> None:
    if who not in approvers:
        raise UserError(
            f"{who!r} is not an approver: only the ids in CASEWORK_APPROVERS may sign replies off."
        )


@case_app.command("respond")
def respond_command(
    reference: str,
    body_file: Path = typer.Option(..., "--body-file", help="the reply's text (UTF-8)"),
    attach: list[Path] = typer.Option(
        [], "--attach", help="a file to attach (the office's letter); repeatable"
    ),
    final: bool = typer.Option(
        False, "--final", help="the final reply: closes the case (else a holding reply)"
    ),
    subject: str | None = typer.Option(
        None, help="the subject (default: Re: the case's subject, with its reference)"
    ),
    actor: str | None = ACTOR,
) -> None:
    """Send a reply by SMTP to the correspondent (every participant of a campaign), threaded on their mail.

    A final reply in a category that needs sign-off must be the approved draft's text.
    """
    settings = get_settings()
    body = _read_text(body_file, "reply")
    files: list[tuple[Path, bytes]] = []
    for path in attach:
        try:
            files.append((path, path.read_bytes()))
        except OSError as err:
            raise UserError(f"Cannot read the attachment {path}: {err.strerror}.") from err
    engine = open_store(settings)
    with session_scope(engine) as session:
        case = require_case(session, reference)
        for path, data in files:
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            lifecycle.attach_file(
                session,
                case=case,
                filename=path.name,
                content_type=kind,
                data=data,
                actor=_actor(actor),
                source="cli",
            )
        sent = lifecycle.queue_reply(
            session,
            case=case,
            actor=_actor(actor),
            body=body,
            settings=settings,
            final=final,
            subject=subject,
        )
        reference, count = case.reference, len(sent)
    from intake import smtp_sender

    delivered = 0
    while True:  # send now; what the server refuses stays queued for `casework serve`
        done = smtp_sender.drain(settings, engine)
        delivered += done
        if not done:
            break
    kind = "final reply" if final else "holding reply"
    typer.echo(f"{reference}: {kind} queued to {count} recipient(s); {delivered} email(s) sent now")


@case_app.command("assign")
def assign_command(reference: str, user: str) -> None:
    """Give a case to a caseworker (a Slack user id); only caseworkers may be assigned."""
    from bot.access import Access, not_assignable
    from bot.app import web_client

    settings = get_settings()
    user = user.strip()
    # user groups in CASEWORK_CASEWORKERS are expanded through Slack, as the bot does
    refused = not_assignable(Access(settings, web_client(settings)), user)
    if refused:
        raise UserError(refused.replace(f"<@{user}>", user))
    actor = cli_actor()
    with session_scope(open_store(settings)) as session:
        case = require_case(session, reference)
        changed = assign(session, case=case, assignee=user, actor=actor)
        if changed:
            record(session, actor=actor, action="changed", case=case, detail=f"assigned to {user}")
    typer.echo(f"{case.reference} is assigned to {user}" + ("" if changed else " (unchanged)"))


def register(app: typer.Typer) -> None:
    app.add_typer(case_app, name="case")
