"""Benchmark: an email delivered to the IMAP inbox reaches the Slack triage channel as a post.

Run:  python bench/triage_post_bench.py [--messages 50] [--backend sqlite|postgres]

The whole path, with real parts: a throwaway Dovecot (IDLE on), ``intake.poller.run`` idling
on it, the pipeline writing the case and its ``slack.triage`` outbox row, ``bot.sender``'s
``OutboxSender.run`` posting it to a Slack Web API stand-in that answers at once (the tests'
``tests/support/slack_api.py``). Each message is delivered into the Maildir and timed until the
stand-in has received its ``chat.postMessage``. Issue 4's target: p95 within 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_sdk import WebClient

from bot.sender import OutboxSender
from intake.poller import run as run_poller
from store.db import make_engine, upgrade
from tests.support.databases import postgres_database
from tests.support.dovecot import Dovecot, make_message
from tests.support.slack_api import fake_slack_api


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(server: Dovecot, url: str, count: int) -> list[float]:
    engine = make_engine(url)
    upgrade(engine)
    with fake_slack_api() as api:
        settings = server.settings(url, imap_idle=True, imap_poll_seconds=600, triage_channel="C0TRIAGE",
                                   slack_bot_token="xoxb-bench", slack_api_url=api.base_url)  # fmt: skip
        client = WebClient(token="xoxb-bench", base_url=api.base_url)
        stop = threading.Event()
        threads = [
            threading.Thread(target=run_poller, args=(settings, engine, stop), daemon=True),
            threading.Thread(target=OutboxSender(settings, engine, client).run, args=(stop,), daemon=True),
        ]
        for thread in threads:
            thread.start()
        time.sleep(2.0)  # connected and idling
        server.deliver(make_message(0, tag="warmup", seed=11))
        api.wait_for("chat.postMessage", 1, timeout=30)
        latencies = []
        for i in range(count):
            posted = len(api.of("chat.postMessage"))
            time.sleep(0.3)
            sent = time.perf_counter()
            server.deliver(make_message(i, tag="triage", seed=11))
            api.wait_for("chat.postMessage", posted + 1, timeout=30)
            latencies.append(time.perf_counter() - sent)
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
    engine.dispose()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    load = Path("/proc/loadavg").read_text().split()[0]
    cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as folder:
        server = Dovecot(Path(folder))
        server.start()
        try:
            if args.backend == "sqlite":
                latencies = measure(server, f"sqlite:///{folder}/bench.db", args.messages)
            else:
                with postgres_database() as url:
                    latencies = measure(server, url, args.messages)
        finally:
            server.stop()
    print(f"machine: {cpu} cores, load average {load}; backend {args.backend}; {len(latencies)} messages")
    print(
        f"IMAP delivery → Slack triage post: p50 {statistics.median(latencies):.2f} s, "
        f"p95 {percentile(latencies, 0.95):.2f} s, max {max(latencies):.2f} s"
    )


if __name__ == "__main__":
    main()
