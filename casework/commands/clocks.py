"""``casework case clock|extend|review`` and ``casework deadlines recompute``: statutory clocks.

The rules are in :mod:`store.clocks` and docs/statistics.md; these commands only parse the
command line, call the store and say what changed.
"""

from __future__ import annotations

import json
from datetime import date

import typer

from casework.commands.case import case_app
from casework.errors import UserError
from casework.runtime import open_store
from casework.settings import get_settings
from store import clocks, recompute, reviews
from store.cases import require_case
from store.db import session_scope
from store.types import utcnow

deadlines_app = typer.Typer(help="Due dates of every case.", no_args_is_help=True)


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(
            f"{option} {value!r} is not a date. Give it as YYYY-MM-DD, for example {option} 2013-04-10."
        ) from None


def _describe(reference: str, state: clocks.ClockState) -> str:
    if state.running:
        return f"{reference}: clock running, due {state.due_on} (originally {state.original_due_on})"
    return f"{reference}: clock stopped since {state.stopped_on} ({state.stop_reason})"


@case_app.command("clock")
def clock_command(
    reference: str,
    action: str = typer.Argument(..., metavar="stop|start", help="stop or start (restart) the clock"),
    reason: str | None = typer.Option(None, "--reason", help="why it stops: clarification, fee or other"),
    on: str | None = typer.Option(
        None, "--on", metavar="DATE", help="the day it took effect (default today, London)"
    ),
    note: str = typer.Option("", "--note", help="kept in the case's history"),
    actor: str = typer.Option("cli", help="who did it"),
) -> None:
    """Stop or restart a case's statutory clock (clarification restarts afresh; fee and other pause)."""
    action = action.strip().lower()
    if action not in ("stop", "start"):
        raise UserError(f"{action!r} is not a clock action; use stop or start.")
    if action == "stop" and reason is None:
        raise UserError(f"Say why the clock stops: --reason {'|'.join(clocks.REASONS)}.")
    if action == "start" and reason is not None:
        raise UserError("A restart takes no --reason: it follows the reason the clock stopped for.")
    day = _date(on, "--on")
    settings = get_settings()
    with session_scope(open_store(settings)) as session:
        case = require_case(session, reference)
        if action == "stop":
            assert reason is not None
            state = clocks.stop_clock(
                session,
                case=case,
                settings=settings,
                reason=reason.strip().lower(),
                actor=actor,
                on=day,
                note=note,
            )
        else:
            state = clocks.start_clock(session, case=case, settings=settings, actor=actor, on=day, note=note)
        typer.echo(_describe(case.reference, state))


@case_app.command("extend")
def extend_command(
    reference: str,
    working_days: int | None = typer.Option(
        None, "--working-days", metavar="N", help="extend by N working days"
    ),
    to: str | None = typer.Option(None, "--to", metavar="DATE", help="extend to this working day"),
    reason: str = typer.Option(..., "--reason", help="why (e.g. public interest test), kept in the history"),
    actor: str = typer.Option("cli", help="who decided"),
) -> None:
    """Extend a case's deadline, within its category's cap (CASEWORK_DEADLINE_POLICY)."""
    if (working_days is None) == (to is None):
        raise UserError("Give exactly one of --working-days N or --to DATE.")
    day = _date(to, "--to")
    settings = get_settings()
    with session_scope(open_store(settings)) as session:
        case = require_case(session, reference)
        state = clocks.extend(
            session,
            case=case,
            settings=settings,
            reason=reason,
            actor=actor,
            working_days=working_days,
            to=day,
        )
        typer.echo(
            f"{case.reference}: due {state.due_on} "
            f"(extended by {state.extended_working_days} working days in all)"
        )


@case_app.command("review")
def review_command(
    reference: str,
    on: str | None = typer.Option(
        None, "--on", metavar="DATE", help="the day the review was asked for (default today)"
    ),
    actor: str = typer.Option("cli", help="who opened it"),
    out_of_time: bool = typer.Option(
        False, "--out-of-time", help="accept a request after the category's review window"
    ),
) -> None:
    """Open the internal review of a case, as a linked case with its own deadline."""
    day = _date(on, "--on")
    settings = get_settings()
    with session_scope(open_store(settings)) as session:
        original = require_case(session, reference)
        review = reviews.open_review(
            session, original=original, settings=settings, actor=actor, on=day, out_of_time=out_of_time
        )
        typer.echo(f"{review.reference}: internal review of {original.reference}, due {review.due_on}")


@deadlines_app.command("recompute")
def recompute_command(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="list the due dates that would move; change nothing"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the moves as JSON"),
) -> None:
    """Recompute every unclosed case's due date from its receipt, clock events and the calendar."""
    settings = get_settings()
    with session_scope(open_store(settings)) as session:
        moves = recompute.recompute(session, settings=settings, dry_run=dry_run, actor="cli")
        if not dry_run:
            recompute.remember(session)
            recompute.notify(
                session,
                settings=settings,
                moves=moves,
                key=f"deadlines-moved:cli:{utcnow().isoformat()}",
            )
    if as_json:
        typer.echo(json.dumps({"dry_run": dry_run, "moves": [m.as_json() for m in moves]}, indent=2))
        return
    verb = "would move" if dry_run else "moved"
    for move in moves:
        typer.echo(f"{move.reference}: {move.old} → {move.new}")
    typer.echo(f"{len(moves)} due date{'s' if len(moves) != 1 else ''} {verb}")


def register(app: typer.Typer) -> None:
    app.add_typer(deadlines_app, name="deadlines")
