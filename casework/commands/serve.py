"""``casework serve``: the Slack bot (HTTP or Socket Mode) with its background workers.

One process runs the bolt app, the outbox sender, the scheduler and (with IMAP IDLE on) the
IMAP poller, each in a thread, all stopped together on SIGTERM or Ctrl-C. The scheduler and
the poller are imported lazily so the bot still runs where they are not installed.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import Engine

from casework.errors import UserError
from casework.settings import Settings, get_settings

log = logging.getLogger("casework.serve")


def check_slack_settings(settings: Settings, *, socket: bool) -> None:
    missing = [
        name
        for name, value in (
            ("SLACK_BOT_TOKEN", settings.slack_bot_token),
            ("SLACK_SIGNING_SECRET", settings.slack_signing_secret),
        )
        if not value.get_secret_value()
    ]
    if socket and not settings.slack_app_token.get_secret_value():
        missing.append("SLACK_APP_TOKEN")
    if missing:
        raise UserError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. Copy them from your "
            "Slack app's settings page (see docs/slack.md) into the environment or .env."
        )
    problems = settings.problems()
    if problems:
        raise UserError("; ".join(problems))
    from casework.transport import require_tls_for_passwords

    require_tls_for_passwords(settings)
    if settings.smtp_enabled and settings.ack_require_auth and not settings.trusted_authserv_id:
        log.warning(
            "CASEWORK_TRUSTED_AUTHSERV_ID is empty, so no acknowledgement will be sent "
            "(CASEWORK_ACK_REQUIRE_AUTH is on; see docs/security.md)"
        )


def start_workers(
    settings: Settings, engine: Engine, client: Any, stop: threading.Event
) -> list[threading.Thread]:
    """The outbox senders (Slack, and SMTP acknowledgements), the scheduler, the IMAP poller and
    ``calls follow`` (when ``CASEWORK_CALLS_PATH`` names a record file).

    Each runs in a daemon thread; the scheduler is shut down when ``stop`` is set. The poller
    runs here only with IDLE on; without IDLE the scheduler polls on its interval.
    """
    from bot.sender import OutboxSender
    from casework import scheduler
    from intake import poller
    from store.recompute import follow_holidays

    follow_holidays(engine, settings)  # before anything reads a due date
    threads = [_thread("outbox-sender", OutboxSender(settings, engine, client).run, stop)]
    running = scheduler.start(settings, engine)

    def stop_scheduler(event: threading.Event) -> None:
        event.wait()
        running.shutdown(wait=False)

    threads.append(_thread("scheduler-stop", stop_scheduler, stop))
    if settings.smtp_enabled:
        threads.append(_thread("ack-sender", lambda s: _send_acks(settings, engine, s), stop))
    if settings.imap_enabled and settings.imap_idle:
        threads.append(_thread("imap-poller", lambda s: poller.run(settings, engine, s), stop))
    if settings.calls_path:
        from casework.commands.calls import follower

        follow = follower(settings, engine, path=Path(settings.calls_path))
        threads.append(
            _thread("calls-follow", lambda s: follow.run(s, every=settings.calls_poll_seconds), stop)
        )
    return threads


def _send_acks(settings: Settings, engine: Engine, stop: threading.Event, every: float = 15.0) -> None:
    """Drain every queued email (acknowledgements, surgery invitations, reminders, offers) every few
    seconds; SMTP trouble only delays them."""
    from intake import smtp_sender

    while not stop.is_set():
        try:
            while smtp_sender.drain(settings, engine) and not stop.is_set():
                pass
        except Exception:  # a fault here must not stop the service; rows stay queued
            log.exception("acknowledgement sender failed; will retry")
        stop.wait(every)


def _thread(name: str, target: Callable[[threading.Event], None], stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=target, args=(stop,), name=name, daemon=True)
    thread.start()
    return thread


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        port: int = typer.Option(3000, help="HTTP port for /slack/events, /healthz and /metrics."),
        host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0 for all interfaces)."),
        socket: bool = typer.Option(False, "--socket", help="Use Socket Mode (needs SLACK_APP_TOKEN)."),
    ) -> None:
        """Run the Slack bot, the outbox sender, the scheduler and the IMAP poller."""
        from bot.app import build_app, web_client
        from casework.runtime import open_store

        settings = get_settings()
        logging.getLogger().setLevel(settings.log_level.upper())
        check_slack_settings(settings, socket=socket)
        engine = open_store(settings)
        client = web_client(settings)
        bolt = build_app(settings, engine, client=client)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        start_workers(settings, engine, client, stop)
        if socket:
            from slack_bolt.adapter.socket_mode import SocketModeHandler
            from slack_sdk.errors import SlackApiError

            handler = SocketModeHandler(bolt, settings.slack_app_token.get_secret_value())
            try:
                handler.connect()
            except SlackApiError as err:  # a wrong or revoked app token is bad input, not a fault
                stop.set()
                raise UserError(
                    f"Slack refused the Socket Mode connection ({err.response.get('error')}). Check that "
                    "SLACK_APP_TOKEN is the app-level token (xapp-…) with connections:write and that "
                    "Socket Mode is on (see docs/slack.md)."
                ) from err
            typer.echo("casework: connected to Slack in Socket Mode")
            _wait(stop)
            handler.close()
        else:
            from casework.web import app as web_app
            from casework.web.server import bind, make_server

            server = make_server(web_app.build(settings, bolt=bolt, engine=engine), settings)
            sock = bind(host, port)
            typer.echo(f"casework: listening on http://{host}:{sock.getsockname()[1]}/slack/events")
            try:
                # uvicorn takes SIGTERM/SIGINT while it runs, lets requests in flight finish,
                # then hands the signal back to the handler above, which stops the workers
                server.run(sockets=[sock])
            except KeyboardInterrupt:
                pass
            finally:
                stop.set()
                sock.close()
        typer.echo("casework: stopped")


def _wait(stop: threading.Event) -> None:
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        stop.set()
