"""``casework case``: look at one case and correct it from the command line."""

from __future__ import annotations

import typer

from casework.errors import UserError
from casework.runtime import open_store
from casework.settings import get_settings
from store.audit import cli_actor, record
from store.cases import assign, deadline, history, require_case, set_category, set_status
from store.db import session_scope
from store.enums import Category, Status
from store.messages import label_text

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
def show(reference: str) -> None:
    """Category, status, due date and history of one case."""
    settings = get_settings()
    with session_scope(open_store(settings)) as session:
        case = require_case(session, reference)
        record(session, actor=cli_actor(), action="viewed", case=case, detail="case show")
        due = deadline(case, settings=settings)
        typer.echo(f"{case.reference}  {Category(case.category).label}  {Status(case.status).label}")
        typer.echo(f"subject: {case.subject}")
        typer.echo(
            f"received {case.received_on}, due {due.due_on} ({due.working_days_left} working days left)"
        )
        if case.reasons:
            typer.echo("why: " + "; ".join(case.reasons))
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
