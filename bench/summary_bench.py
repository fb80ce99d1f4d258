"""Benchmark: ``/casework summary`` over 12 months on 1,000,000 cases, SQLite and PostgreSQL.

Times the whole path a manager waits for: a signed slash-command request to the running HTTP
server → ack → lazy listener → ``store.stats.board_tables`` + this week's calls → Block Kit
rendering → the reply arriving at ``response_url`` (the local Slack stand-in, answering at
once). The baseline, measured in the same run on the same data, is one hand-written
``GROUP BY received_on, category`` over the same 12 months; the ratio shows what the full
summary costs on top of the cheapest query that could answer part of it.

Usage: ``python bench/summary_bench.py [--cases 1000000] [--runs 5] [--backends sqlite,postgres]``
Results are printed as a Markdown table to paste into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_sdk import WebClient
from sqlalchemy import Engine, text

from bot.app import build_app
from casework.settings import Settings
from casework.web import app as web_app
from casework.web.server import start_in_thread
from store.db import make_engine, upgrade
from store.workdays import LONDON
from tests.support.slack_api import fake_slack_api
from tests.support.slack_requests import post, slash_command_body

SECRET = "bench-secret"
CATEGORIES = (
    ["correspondence"] * 70
    + ["complaint"] * 22
    + ["foi"] * 4
    + ["officer_correspondence"] * 3
    + ["consultation"]
)
COLUMNS = (
    "reference, category, status, received_at, received_on, due_on, closed_at, closed_on, days_taken, "
    "working_days_taken, status_changed_at, subject, reasons, needs_triage, created_at, updated_at"
)


def rows(count: int, today: date, seed: int = 7) -> Iterator[tuple]:
    """Synthetic cases received over the 12 months to ``today``; most closed, some not."""
    rng = random.Random(seed)
    first = today - timedelta(days=364)
    for number in range(1, count + 1):
        received_on = first + timedelta(days=rng.randrange(365))
        received_at = datetime.combine(received_on, dtime(9 + rng.randrange(8)), tzinfo=UTC)
        days = rng.randrange(0, 60)
        closed_on = received_on + timedelta(days=days)
        status = (
            "closed"
            if closed_on < today and rng.random() < 0.9
            else rng.choice(["open", "in_progress", "monitoring"])
        )
        closed = status == "closed"
        closed_at = datetime.combine(closed_on, dtime(15), tzinfo=UTC) if closed else None
        changed = closed_at or received_at
        yield (
            f"B-{received_on.year}-{number:07d}",
            rng.choice(CATEGORIES),
            status,
            received_at.replace(tzinfo=None),
            received_on,
            received_on + timedelta(days=28),
            closed_at.replace(tzinfo=None) if closed_at else None,
            closed_on if closed else None,
            days if closed else None,
            days * 5 // 7 if closed else None,
            changed.replace(tzinfo=None),
            "Synthetic case",
            "[]",
            False,
            received_at.replace(tzinfo=None),
            changed.replace(tzinfo=None),
        )


def load(engine: Engine, count: int, today: date) -> float:
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY cases ({COLUMNS}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows(count, today):
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(COLUMNS.split(",")))
            batch: list[tuple] = []
            for row in rows(count, today):
                batch.append(tuple(v.isoformat(sep=" ") if isinstance(v, datetime) else v for v in row))
                if len(batch) == 50_000:
                    cursor.executemany(f"INSERT INTO cases ({COLUMNS}) VALUES ({marks})", batch)
                    batch.clear()
            if batch:
                cursor.executemany(f"INSERT INTO cases ({COLUMNS}) VALUES ({marks})", batch)
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/bench.db"
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            yield url
    else:
        from tests.support.databases import postgres_database

        with postgres_database() as url:
            yield url


def baseline(engine: Engine, start: date, end: date) -> float:
    started = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(
            text(
                "SELECT received_on, category, count(*) FROM cases WHERE received_on BETWEEN :s AND :e "
                "GROUP BY received_on, category"
            ),
            {"s": start, "e": end},
        ).all()
    return time.perf_counter() - started


def bench(backend: str, count: int, runs: int) -> dict[str, float | str]:
    today = datetime.now(LONDON).date()
    start = today - timedelta(days=364)
    with database(backend) as url, fake_slack_api() as api:
        engine = make_engine(url)
        load_s = load(engine, count, today)
        settings = Settings(
            _env_file=None,
            database_url=url,
            slack_signing_secret=SECRET,  # type: ignore[call-arg]
            slack_api_url=api.base_url,
            managers=["U_MGR"],
        )
        client = WebClient(token="xoxb-bench", base_url=api.base_url, timeout=30)
        bolt = build_app(settings, engine, client=client)
        server = start_in_thread(web_app.build(settings, bolt=bolt, engine=engine), settings)
        events = f"{server.url}/slack/events"
        summary_times, ack_times, base_times = [], [], []
        for run in range(runs + 1):  # the first run warms caches and is not counted
            body = slash_command_body(
                f"summary {start}..{today}", user_id="U_MGR", response_url=api.response_url()
            )
            before = len(api.responses())
            sent = time.perf_counter()
            answer = post(events, body, secret=SECRET)
            acked = time.perf_counter()
            assert answer.status == 200, answer.body
            api.wait_for("/response/", before + 1, timeout=120)
            done = time.perf_counter()
            reply = api.responses()[before].body
            assert "Cases received" in str(reply["blocks"]), reply
            base = baseline(engine, start, today)
            if run:
                summary_times.append(done - sent)
                ack_times.append(acked - sent)
                base_times.append(base)
        server.shutdown()
        server.server_close()
        engine.dispose()
    summary_median = statistics.median(summary_times)
    base_median = statistics.median(base_times)
    return {
        "backend": backend,
        "cases": count,
        "load_s": load_s,
        "ack_ms": statistics.median(ack_times) * 1000,
        "summary_median_s": summary_median,
        "summary_max_s": max(summary_times),
        "baseline_median_s": base_median,
        "ratio": summary_median / base_median,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    print(
        "| backend | cases | load (s) | ack (ms) | summary median (s) | summary max (s) | "
        "baseline GROUP BY (s) | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for backend in args.backends.split(","):
        r = bench(backend, args.cases, args.runs)
        print(
            f"| {r['backend']} | {r['cases']:,} | {r['load_s']:.1f} | {r['ack_ms']:.0f} | "
            f"{r['summary_median_s']:.2f} | {r['summary_max_s']:.2f} | {r['baseline_median_s']:.2f} | "
            f"{r['ratio']:.1f}× |",
            flush=True,
        )


if __name__ == "__main__":
    main()
