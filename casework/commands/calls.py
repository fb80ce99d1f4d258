"""``casework calls follow``: count hunt-group calls as the phone system writes its records."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

import typer
from sqlalchemy import Engine

from casework.commands.data import call_context
from casework.errors import UserError
from casework.runtime import open_store
from casework.settings import Settings, get_settings
from store.calls.follow import Follower

calls_app = typer.Typer(help="Telephone call records from the phone system.", no_args_is_help=True)


def follower(
    settings: Settings,
    engine: Engine,
    *,
    path: Path,
    fmt: str | None = None,
    hunt_group: str | None = None,
    timezone: str | None = None,
    settle: float | None = None,
) -> Follower:
    """A :class:`store.calls.follow.Follower` configured from the options, else the settings."""
    from store.calls.importer import FORMATS

    chosen = (fmt or settings.calls_format).strip().lower()
    if chosen not in FORMATS or chosen == "casework":
        raise UserError(
            f"--format {chosen!r} cannot be followed: give one of "
            f"{', '.join(f for f in FORMATS if f != 'casework')}."
        )
    call_context(settings, hunt_group=hunt_group, timezone=timezone)  # refuse a bad zone now
    return Follower(
        engine,
        path=path,
        fmt=chosen,
        context=lambda: call_context(settings, hunt_group=hunt_group, timezone=timezone),
        settle=settings.calls_settle_seconds if settle is None else settle,
        max_line_bytes=settings.calls_max_line_bytes,
    )


@calls_app.command("follow")
def follow_command(
    path: Path = typer.Argument(..., help="the record file the phone system appends to"),
    format: str | None = typer.Option(
        None, "--format", help="as for import calls (default CASEWORK_CALLS_FORMAT)"
    ),
    hunt_group: str | None = typer.Option(None, "--hunt-group", help="default CASEWORK_HUNT_GROUP"),
    timezone: str | None = typer.Option(None, "--timezone", help="default CASEWORK_CALLS_TIMEZONE"),
    settle: float | None = typer.Option(
        None, "--settle-seconds", help="count a call once no leg has joined it for this long"
    ),
    poll: float | None = typer.Option(None, "--poll-seconds", help="how often to look at the file"),
    once: bool = typer.Option(False, "--once", help="read what is there now, then stop"),
) -> None:
    """Read new records as they are appended, remembering the position in the store."""
    settings = get_settings()
    logging.getLogger().setLevel(settings.log_level.upper())
    engine = open_store(settings)
    follow = follower(
        settings, engine, path=path, fmt=format, hunt_group=hunt_group, timezone=timezone, settle=settle
    )
    if once:
        try:
            found = follow.poll()
        except ValueError as err:
            raise UserError(str(err)) from None
        typer.echo(
            f"calls follow: {found.lines} lines read, {found.calls_new} new calls, "
            f"{found.pending} calls still waiting for more legs"
        )
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    typer.echo(f"casework: following {path}")
    try:
        follow.run(stop, every=settings.calls_poll_seconds if poll is None else poll)
    except KeyboardInterrupt:
        stop.set()
    typer.echo("casework: stopped")


def register(app: typer.Typer) -> None:
    app.add_typer(calls_app, name="calls")
