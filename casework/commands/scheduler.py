"""``casework remind`` (the warning pass by hand) and ``casework jobs`` (what the service schedules)."""

from __future__ import annotations

import json
from datetime import date, datetime

import typer

from casework.errors import UserError
from casework.settings import get_settings
from store.workdays import LONDON


def parse_day(value: str | None, *, option: str = "--as-of") -> date:
    """A YYYY-MM-DD date from the command line, or today in Europe/London."""
    if value is None:
        return datetime.now(LONDON).date()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(
            f"{option} {value!r} is not a date. Give it as YYYY-MM-DD, for example {option} 2013-04-10."
        ) from None


def remind(
    once: bool = typer.Option(False, "--once", help="Run the deadline warning pass once, now, and exit."),
    as_of: str | None = typer.Option(
        None, "--as-of", metavar="DATE", help="Run the pass as if today were DATE (YYYY-MM-DD)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Run the deadline warning pass by hand: record today's warnings and overdue lists in the outbox.

    The running service (`casework serve`) does this on every working day by itself and sends
    what is recorded; a warning already recorded is never recorded or sent again.
    """
    if not once:
        raise UserError(
            "casework remind only runs by hand with --once (the service runs it on schedule). "
            "Try: casework remind --once [--as-of YYYY-MM-DD]"
        )
    today = parse_day(as_of)
    from casework.runtime import open_store
    from casework.scheduler.warnings import run_pass

    settings = get_settings()
    engine = open_store(settings)
    result = run_pass(engine, settings, today=today)
    if as_json:
        typer.echo(json.dumps(result.as_json(), indent=2))
        return
    if not result.working_day:
        typer.echo(f"{result.reason}.")
        return
    overdue = result.overdue
    overdue_total = overdue.total if overdue else 0
    typer.echo(
        f"{today.isoformat()}: {len(result.warnings)} case(s) at a warning threshold, "
        f"{overdue_total} overdue, {result.monitoring_total} in monitoring near or past due; "
        f"{len(result.queued)} new message(s) queued."
    )
    for warning in result.warnings:
        line = warning.line
        typer.echo(
            f"  {line.reference}  {line.left_text:<28} due {line.due_on.isoformat()}  "
            f"{line.status_text}  {line.assignee or 'unassigned'}"
        )
    if overdue and overdue.total:
        typer.echo("overdue, listed once a day (a DM to each assignee, one post to the alerts channel):")
        for user in overdue.assignees:
            typer.echo(f"  {user:<14} {overdue.counts[user]:>6} overdue")
        typer.echo(f"  {'unassigned':<14} {overdue.unassigned:>6} overdue")
    for warning in result.monitoring:
        line = warning.line
        typer.echo(f"  {line.reference}  {line.left_text:<28} due {line.due_on.isoformat()}  (monitoring)")
    if result.monitoring_total > len(result.monitoring):
        typer.echo(f"  …and {result.monitoring_total - len(result.monitoring)} more in monitoring")
    if not settings.alerts_channel:
        typer.echo("note: CASEWORK_ALERTS_CHANNEL is not set, so warnings go only to assignees.")


def jobs(
    as_json: bool = typer.Option(False, "--json", help="Print the jobs as JSON."),
) -> None:
    """List the service's scheduled jobs and when each runs next."""
    from casework.scheduler.jobs import job_table, next_runs

    settings = get_settings()
    now = datetime.now(LONDON)
    table = next_runs(job_table(settings), now=now)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "id": spec.id,
                        "description": spec.description,
                        "schedule": spec.schedule,
                        "next_run": when.isoformat() if when else None,
                    }
                    for spec, when in table
                ],
                indent=2,
            )
        )
        return
    for spec, when in table:
        next_text = when.strftime("%a %Y-%m-%d %H:%M %Z") if when else "never"
        typer.echo(f"{spec.id:<10} {next_text:<26} {spec.schedule:<34} {spec.description}")


def register(app: typer.Typer) -> None:
    app.command("remind")(remind)
    app.command("jobs")(jobs)
