"""``casework surgery``: surgeries and casework meetings from the command line.

Every command takes ``--json``; the ids it prints are what the other commands take. Emails to
the people are queued in the outbox and sent by the running service, or at once by
``casework acks send``.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import typer

from casework.commands.stats import parse_date
from casework.errors import UserError
from casework.runtime import open_store
from casework.settings import get_settings
from store import surgeries as store
from store.db import session_scope
from store.models import SurgeryBooking, SurgerySession
from store.surgery_mail import slot_start, when_text
from store.workdays import LONDON

app = typer.Typer(
    help="Surgeries and casework meetings: sessions, bookings, briefs, calendars.", no_args_is_help=True
)

JSON = typer.Option(False, "--json", help="Print the result as JSON.")


def _echo(as_json: bool, data: Any, text: str) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False) if as_json else text)


def _time(value: str) -> time:
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        raise UserError(f"--at {value!r} is not a time: write it as HH:MM, e.g. 18:30.") from None


def booking_json(session: Any, booking: SurgeryBooking) -> dict[str, Any]:
    case = store.case_of(session, booking)
    return {
        "id": booking.id,
        "slot": booking.slot,
        "status": booking.status,
        "name": booking.name,
        "email": booking.email,
        "phone": booking.phone,
        "needs": booking.needs,
        "case": case.reference if case else None,
        "late": booking.late,
        "reason": booking.reason,
        "note": booking.note,
        "offer_expires_at": booking.offer_expires_at.isoformat() if booking.offer_expires_at else None,
    }


def session_json(session: Any, sitting: SurgerySession) -> dict[str, Any]:
    bookings = store.bookings_of(session, sitting)
    taken = {b.slot: b for b in bookings if b.status in store.HOLDING and b.slot is not None}
    return {
        "id": sitting.id,
        "kind": sitting.kind,
        "host": sitting.host,
        "date": sitting.held_on.isoformat(),
        "starts_at": sitting.starts_at.astimezone(LONDON).isoformat(),
        "minutes": sitting.minutes,
        "venue": sitting.venue,
        "virtual": sitting.virtual_url,
        "status": sitting.status,
        "cancel_reason": sitting.cancel_reason,
        "slots": [
            {
                "slot": n,
                "starts_at": slot_start(sitting, n).astimezone(LONDON).isoformat(),
                "booking": booking_json(session, taken[n]) if n in taken else None,
            }
            for n in range(1, sitting.slots + 1)
        ],
        "waiting_list": [booking_json(session, b) for b in bookings if b.status == "waitlisted"],
        "bookings": [booking_json(session, b) for b in bookings],
    }


@app.command("add")
def add(
    on: str = typer.Option(..., "--on", help="the day, YYYY-MM-DD"),
    at: str = typer.Option(..., "--at", help="start time, HH:MM (Europe/London)"),
    host: str = typer.Option(..., "--host", help="commissioner or deputy"),
    venue: str = typer.Option("", "--venue", help="where it is held"),
    virtual: str = typer.Option("", "--virtual", help="the meeting link of a virtual surgery"),
    slots: int | None = typer.Option(None, "--slots", help="appointments (surgery default 8)"),
    minutes: int | None = typer.Option(None, "--minutes", help="minutes each (surgery 15, meeting 120)"),
    kind: str = typer.Option("surgery", "--kind", help="surgery or meeting"),
    as_json: bool = JSON,
) -> None:
    """Schedule a surgery or a casework meeting (never on a UK bank holiday)."""
    day = parse_date(on, "--on")
    assert day is not None
    engine = open_store(get_settings())
    with session_scope(engine) as session:
        sitting = store.add_session(
            session,
            on=day,
            at=_time(at),
            host=host.strip().lower(),
            venue=venue,
            virtual_url=virtual,
            slots=slots,
            minutes=minutes,
            kind=kind.strip().lower(),
        )
        data = {"id": sitting.id}
        size = f"{sitting.slots} × {sitting.minutes} min"
        text = f"session {sitting.id}: {sitting.kind} with the {sitting.host}, {size}"
    _echo(as_json, data, text)


@app.command("list")
def list_(
    from_: str | None = typer.Option(None, "--from", help="first day, YYYY-MM-DD (default today)"),
    as_json: bool = JSON,
) -> None:
    """Show each session with its slots, bookings and waiting list."""
    start = parse_date(from_, "--from") or datetime.now(LONDON).date()
    engine = open_store(get_settings())
    with session_scope(engine) as session:
        data = [session_json(session, s) for s in store.sessions_from(session, start=start)]
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    if not data:
        typer.echo(f"No sessions from {start}. Add one with `casework surgery add`.")
    for row in data:
        place = row["virtual"] or row["venue"]
        state = f" CANCELLED ({row['cancel_reason']})" if row["status"] == "cancelled" else ""
        typer.echo(
            f"#{row['id']} {row['starts_at'][:16].replace('T', ' ')} {row['kind']} ({row['host']})"
            f" {place}{state}"
        )
        for slot in row["slots"]:
            b = slot["booking"]
            who = f"booking {b['id']} {b['name']} {b['case']} [{b['status']}]" if b else "free"
            typer.echo(f"   {slot['slot']:>2} {slot['starts_at'][11:16]}  {who}")
        for b in row["waiting_list"]:
            typer.echo(f"   waiting: booking {b['id']} {b['name']} {b['case']}")


@app.command("book")
def book(
    session_id: int = typer.Argument(..., metavar="SESSION"),
    slot: int | None = typer.Option(None, "--slot", help="slot number (default the first free one)"),
    name: str = typer.Option(..., "--name"),
    email: str = typer.Option(..., "--email"),
    phone: str = typer.Option("", "--phone"),
    case: str | None = typer.Option(None, "--case", help="the person's case reference"),
    needs: str = typer.Option("", "--needs", help="access needs, e.g. a hearing loop, step-free access"),
    waitlist: bool = typer.Option(False, "--waitlist", help="join the waiting list on purpose"),
    as_json: bool = JSON,
) -> None:
    """Book an appointment (or a place on the waiting list when the session is full)."""
    settings = get_settings()
    engine = open_store(settings)
    with session_scope(engine) as session:
        booking, opened = store.book(
            session,
            settings=settings,
            session_id=session_id,
            name=name,
            email=email,
            phone=phone,
            case_reference=case,
            needs=needs,
            slot=slot,
            waitlist=waitlist,
        )
        data = {"id": booking.id, "status": booking.status, "case": opened.reference}
        sitting = store.require_session(session, session_id)
        where = (
            f"slot {booking.slot} ({when_text(sitting, booking.slot)})"
            if booking.slot
            else "the waiting list"
        )
    _echo(as_json, data, f"booking {data['id']}: {where}, case {data['case']}")


@app.command("cancel")
def cancel(
    booking_id: int = typer.Argument(..., metavar="BOOKING"),
    reason: str = typer.Option(..., "--reason"),
    as_json: bool = JSON,
) -> None:
    """Cancel an appointment; the freed slot is offered to the waiting list."""
    settings = get_settings()
    engine = open_store(settings)
    with session_scope(engine) as session:
        booking = store.cancel(session, settings=settings, booking_id=booking_id, reason=reason)
        data = {"id": booking.id, "late": booking.late}
    _echo(as_json, data, f"booking {data['id']} cancelled" + (" (late)" if data["late"] else ""))


def _outcome(booking_id: int, attended: bool, note: str, as_json: bool) -> None:
    engine = open_store(get_settings())
    with session_scope(engine) as session:
        booking = store.record_outcome(session, booking_id=booking_id, attended=attended, note=note)
        data = {"id": booking.id, "status": booking.status}
    _echo(as_json, data, f"booking {data['id']}: {booking.status.replace('_', ' ')}")


@app.command("attended")
def attended(
    booking_id: int = typer.Argument(..., metavar="BOOKING"),
    note: str = typer.Option("", "--note", help="what was raised; shown in later briefs"),
    as_json: bool = JSON,
) -> None:
    """Record that the person came (with the host's note)."""
    _outcome(booking_id, True, note, as_json)


@app.command("no-show")
def no_show(booking_id: int = typer.Argument(..., metavar="BOOKING"), as_json: bool = JSON) -> None:
    """Record that the person did not come."""
    _outcome(booking_id, False, "", as_json)


@app.command("accept")
def accept(booking_id: int = typer.Argument(..., metavar="BOOKING"), as_json: bool = JSON) -> None:
    """Take up a held offer for the person (as their reply "yes" does)."""
    settings = get_settings()
    engine = open_store(settings)
    with session_scope(engine) as session:
        booking = store.accept_offer(session, settings=settings, booking_id=booking_id)
        data = {"id": booking.id, "status": booking.status}
    _echo(as_json, data, f"booking {data['id']}: booked slot {booking.slot}")


@app.command("cancel-session")
def cancel_session(
    session_id: int = typer.Argument(..., metavar="SESSION"),
    reason: str = typer.Option(..., "--reason"),
    move_to: int | None = typer.Option(None, "--move-to", metavar="SESSION", help="move the bookings there"),
    as_json: bool = JSON,
) -> None:
    """Cancel a whole session (the weather); bookings move in order, the rest go on the waiting list."""
    settings = get_settings()
    engine = open_store(settings)
    with session_scope(engine) as session:
        result = store.cancel_session(
            session, settings=settings, session_id=session_id, reason=reason, move_to=move_to
        )
        data = {"moved": len(result.moved), "waitlisted": len(result.waitlisted)}
        cancelled = len(result.cancelled)
    text = f"session {session_id} cancelled: {data['moved']} moved, {data['waitlisted']} on the waiting list"
    _echo(as_json, data, text + (f", {cancelled} appointment(s) cancelled" if cancelled else ""))


@app.command("brief")
def brief(
    session_id: int = typer.Argument(..., metavar="SESSION"),
    out: Path = typer.Option(..., "--out", help="folder to write the brief into"),
    send: bool = typer.Option(False, "--send", help="also queue it to the hosts' Slack DMs now"),
    as_json: bool = JSON,
) -> None:
    """Write the briefing pack (HTML, and PDF when Chromium is here) for a session."""
    from casework.commands.report import check_out
    from casework.surgery_brief import queue_brief, write_brief

    check_out(out)
    settings = get_settings()
    engine = open_store(settings)
    with session_scope(engine) as session:
        written = write_brief(session, settings=settings, session_id=session_id, out=out)
        sent = queue_brief(session, settings=settings, session_id=session_id) if send else []
    data = {"files": [str(p) for p in written], "sent_to": sent}
    _echo(as_json, data, "\n".join(data["files"] + [f"queued to {u}" for u in sent]))


@app.command("ics")
def ics(
    out: Path = typer.Option(..., "--out", help="the .ics file to write"),
    host: str | None = typer.Option(None, "--host", help="commissioner or deputy (default both)"),
    from_: str | None = typer.Option(None, "--from", help="first day, YYYY-MM-DD (default today)"),
    as_json: bool = JSON,
) -> None:
    """Write the calendar of sessions (each slot booked or free; nothing personal)."""
    from casework.surgery_calendar import feed_bytes

    if host is not None and host not in store.HOSTS:
        raise UserError(f"--host {host!r} is not one of {', '.join(store.HOSTS)}.")
    settings = get_settings()
    engine = open_store(settings)
    start: date = parse_date(from_, "--from") or datetime.now(LONDON).date()
    with session_scope(engine) as session:
        data = feed_bytes(session, settings=settings, host=host, start=start)
    try:
        out.write_bytes(data)
    except OSError as err:
        raise UserError(f"--out {out} could not be written ({err.strerror}).") from err
    _echo(as_json, {"file": str(out), "bytes": len(data)}, str(out))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="surgery")
