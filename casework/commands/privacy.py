"""``casework audit``, ``casework retention`` and ``casework person``: personal data by command.

Every command here that shows or removes personal data writes to the audit trail with the
actor ``cli:<os user>`` (:func:`store.audit.cli_actor`). Anonymisation and erasure ask for
``--yes``: without it they say what they would do and change nothing.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from casework.errors import UserError
from casework.runtime import open_store
from casework.settings import get_settings
from store import audit
from store.anonymise import cases_of_person, find_person
from store.cases import require_case
from store.db import session_scope
from store.retention import hold, release, review
from store.retention_run import apply_retention, erase
from store.subject_access import collect, write
from store.workdays import LONDON

retention_app = typer.Typer(
    help="The retention schedule: what is due, anonymising it, and holds.", no_args_is_help=True
)
person_app = typer.Typer(help="Subject access requests and erasure, by email address.", no_args_is_help=True)


def _date(value: str | None, option: str) -> date:
    if value is None:
        from datetime import datetime

        return datetime.now(LONDON).date()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(
            f"{option} {value!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-12-01."
        ) from None


def audit_command(
    case: str | None = typer.Option(None, "--case", help="only this case reference"),
    actor: str | None = typer.Option(None, "--actor", help="only this Slack user id or cli:<user>"),
    since: str | None = typer.Option(None, "--since", help="from this day (YYYY-MM-DD)"),
    as_json: bool = typer.Option(False, "--json", help="one JSON array"),
) -> None:
    """Who looked at or changed what: the audit trail, oldest first."""
    query = audit.AuditQuery(case=case, actor=actor, since=_date(since, "--since") if since else None)
    with session_scope(open_store(get_settings())) as session:
        rows = audit.entries(session, query)
    if as_json:
        typer.echo(json.dumps([audit.as_json(r) for r in rows], indent=1, ensure_ascii=False))
        return
    if not rows:
        typer.echo("No audit rows match.")
    for row in rows:
        typer.echo(
            f"{row.at:%Y-%m-%d %H:%M:%S} {row.actor:24} {row.action:22} "
            f"{row.case_reference or '-':18} {row.detail}"
        )


@retention_app.command("review")
def review_command(
    as_of: str | None = typer.Option(None, "--as-of", help="the day to judge periods at (default today)"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object"),
) -> None:
    """Closed cases past their retention period: what `retention apply` would anonymise."""
    settings = get_settings()
    day = _date(as_of, "--as-of")
    with session_scope(open_store(settings)) as session:
        due = review(session, schedule=settings.retention, as_of=day)
    held = [d for d in due if d.held is not None]
    if as_json:
        body = {"as_of": day.isoformat(), "schedule": settings.retention, "due": [d.as_json() for d in due]}
        typer.echo(json.dumps(body, indent=1, ensure_ascii=False))
        return
    typer.echo(
        f"{len(due)} closed case(s) past their retention period on {day}: "
        f"{len(due) - len(held)} to anonymise, {len(held)} on hold."
    )
    for d in due:
        note = f"  ON HOLD: {d.held}" if d.held else ""
        typer.echo(
            f"  {d.reference:18} {d.category:22} closed {d.closed_on}  {d.period} ended {d.expired_on}{note}"
        )
    if len(due) > len(held):
        typer.echo(f"Anonymise them with `casework retention apply --as-of {day} --yes`.")


@retention_app.command("apply")
def apply_command(
    as_of: str | None = typer.Option(None, "--as-of", help="the day to judge periods at (default today)"),
    yes: bool = typer.Option(False, "--yes", help="really anonymise (cannot be undone)"),
    as_json: bool = typer.Option(False, "--json", help="print what was done as JSON"),
) -> None:
    """Anonymise every case past its period and not on hold; delete old automatic and quarantined mail."""
    settings = get_settings()
    day = _date(as_of, "--as-of")
    if not yes:
        raise UserError(
            "Anonymising cannot be undone: review the list with `casework retention review`, "
            "then run this again with --yes."
        )
    run = apply_retention(open_store(settings), settings, as_of=day, actor=audit.cli_actor())
    if as_json:
        typer.echo(json.dumps(run.as_json(), indent=1))
        return
    typer.echo(
        f"Anonymised {len(run.anonymised)} case(s) ({len(run.held)} on hold kept); deleted "
        f"{run.mail.automatic} automatic and {run.mail.quarantined} quarantined message(s) and "
        f"{run.audit_rows_deleted} expired audit row(s)."
    )


@retention_app.command("hold")
def hold_command(
    reference: str,
    reason: str = typer.Option("", "--reason", help="why the case is kept (e.g. civil claim pending)"),
) -> None:
    """Keep a case past its retention period; `retention apply` skips it."""
    actor = audit.cli_actor()
    with session_scope(open_store(get_settings())) as session:
        case = require_case(session, reference)
        new = hold(session, case=case, reason=reason, actor=actor)
        audit.record(session, actor=actor, action="changed", case=case, detail="retention hold")
    typer.echo(f"{case.reference} is {'now' if new else 'still'} on hold (reason updated).")


@retention_app.command("release")
def release_command(reference: str) -> None:
    """Take a case off hold: the next `retention apply` anonymises it if it is due."""
    actor = audit.cli_actor()
    with session_scope(open_store(get_settings())) as session:
        case = require_case(session, reference)
        released = release(session, case=case)
        audit.record(session, actor=actor, action="changed", case=case, detail="retention hold released")
    typer.echo(f"{case.reference} " + ("is no longer on hold." if released else "was not on hold."))


@person_app.command("export")
def person_export(
    email: str,
    out: Path = typer.Option(..., "--out", help="an empty or new folder for index.html, JSON and files"),
) -> None:
    """Everything held about one person, for a subject access request: HTML to read, JSON to keep."""
    actor = audit.cli_actor()
    with session_scope(open_store(get_settings())) as session:
        export = collect(session, email=email)
        written = write(export, out)
        for reference in export.references:
            audit.record(
                session, actor=actor, action="subject_access_export", case=reference, detail="person export"
            )
        if not export.references:
            audit.record(
                session, actor=actor, action="subject_access_export", detail="person export: no case"
            )
    messages = len(export.records.get("messages", []))
    typer.echo(
        f"Wrote {len(written)} file(s) to {out}: {len(export.cases)} case(s), {messages} message(s). "
        f"Read {out / 'index.html'} before sending it."
    )


@person_app.command("erase")
def person_erase(
    email: str,
    yes: bool = typer.Option(False, "--yes", help="really erase (cannot be undone)"),
) -> None:
    """Anonymise one person everywhere; in a campaign, only their part (the other senders stay)."""
    settings = get_settings()
    engine = open_store(settings)
    if not yes:
        with session_scope(engine) as session:
            person = find_person(session, email)
            alone, shared = cases_of_person(session, person)
        raise UserError(
            f"Erasing cannot be undone: {person.email} is on {len(alone)} case(s) of their own (anonymised "
            f"whole) and {len(shared)} shared with others (only their part removed). Run again with --yes."
        )
    removal = erase(engine, settings, email=email, actor=audit.cli_actor())
    typer.echo(
        f"Erased: {len(removal.cases)} case(s) anonymised, removed from {len(removal.left)} shared case(s); "
        f"{sum(removal.rows.values())} row(s) deleted or cleared."
    )


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_command)
    app.add_typer(retention_app, name="retention")
    app.add_typer(person_app, name="person")
