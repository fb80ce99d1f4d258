"""One instance of the scheduler service, for the two-instance test (run as a subprocess).

Usage: python -m tests.scheduler.service_proc DATABASE_URL NOW_ISO SLACK_BASE_URL GO_FILE

It waits for GO_FILE to exist (so that two instances start together), starts the scheduler
with its clock fixed at NOW_ISO, waits for the start-up catch-up, drains the outbox to the fake
Slack API until nothing is due (warnings rendered as of NOW_ISO's London date), and prints how
many messages it sent.
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from slack_sdk import WebClient

from bot.sender import OutboxSender
from casework.scheduler import start
from casework.settings import Settings
from store.db import make_engine
from store.workdays import LONDON


def main() -> None:
    url, now_iso, slack_url, go_file = sys.argv[1:5]
    now = datetime.fromisoformat(now_iso)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        alerts_channel="C0ALERTS",
        caseworkers=["U0CASEWKR", "U0CW0", "U0CW1", "U0CW2", "U0CW3"],
        managers=["U0BOSS1"],
        slack_api_url=slack_url,
    )
    engine = make_engine(settings.database_url)
    deadline = time.monotonic() + 60
    while not Path(go_file).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    done = threading.Event()
    scheduler = start(settings, engine, clock=lambda: now, caught_up=done)
    try:
        if not done.wait(60):
            raise SystemExit("catch-up did not finish")
        client = WebClient(token="xoxb-test", base_url=slack_url)
        sender = OutboxSender(settings, engine, client, today=now.astimezone(LONDON).date)
        sent = 0
        while True:
            batch = sender.drain_once()
            sent += batch
            if not batch:
                break
        print(sent)
    finally:
        scheduler.shutdown(wait=True)
        engine.dispose()


if __name__ == "__main__":
    main()
