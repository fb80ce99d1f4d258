"""``casework poll``: read the office's IMAP folder into cases, once or until stopped."""

from __future__ import annotations

import json
import logging
import signal
import threading
from types import FrameType

import typer

from casework.errors import UserError
from casework.runtime import open_store
from casework.settings import get_settings
from casework.transport import require_tls_for_passwords
from intake.poller import poll_once, run
from intake.sources.imap import require_imap_settings


def poll(
    once: bool = typer.Option(False, "--once", help="make one pass over the folder and exit"),
    as_json: bool = typer.Option(False, "--json", help="with --once: print the summary as one JSON object"),
) -> None:
    """Log new mail from the IMAP folder (CASEWORK_IMAP_*): once, or until Ctrl-C / SIGTERM."""
    if as_json and not once:
        raise UserError("--json prints the summary of one pass: use it with --once.")
    settings = get_settings()
    require_imap_settings(settings)  # before touching the database: say what is missing first
    require_tls_for_passwords(settings)
    engine = open_store(settings)
    if once:
        summary = poll_once(settings, engine)
        if as_json:
            typer.echo(json.dumps(summary))
        else:
            typer.echo(
                f"read {summary['read']}: opened {summary['opened']}, attached {summary['attached']}, "
                f"automatic {summary['automatic']}, duplicates {summary['duplicates']}, "
                f"quarantined {summary['quarantined']}, office replies {summary['outgoing']}"
            )
        return
    logging.getLogger().setLevel(settings.log_level.upper())
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger(__name__).info("signal %s: stopping after the current message", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    typer.echo(f"Polling {settings.imap_folder} on {settings.imap_host}; Ctrl-C stops.", err=True)
    run(settings, engine, stop)


def register(app: typer.Typer) -> None:
    app.command("poll")(poll)
