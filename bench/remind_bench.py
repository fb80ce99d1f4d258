"""Benchmark: the deadline warning pass over 1,000,000 cases, 10% of them unclosed.

Usage: python bench/remind_bench.py [--cases N] [--postgres URL] [--rounds N]

Loads synthetic cases straight into a fresh, migrated database (bulk inserts, no ORM), then
times, in the same run and on the same data:

* baseline — a plain ``SELECT id, due_on FROM cases WHERE status IN (unclosed)``;
* cold pass — ``run_pass`` on the previous working day with an empty outbox (the service's
  very first day: every case at a threshold is warned, and the overdue lists recorded);
* first pass — ``run_pass`` on the day itself, the previous day's recorded (what the 09:00 run
  does every working day: new threshold crossings, one overdue DM per assignee, one overdue
  post and the monitoring post);
* repeat pass — ``run_pass`` again the same day (the hourly re-runs, a restart, a second
  instance): everything is already recorded.

Every pass does all of its work: select, decide, count the overdue tail in SQL, render the
overdue lists and the monitoring post, and record. Threshold warnings are recorded as small
rows and rendered by the outbox sender when sent; that cost is measured next, per message, with
the Slack client replaced by one that answers at once (the sender's work without the network).
With ``--rounds N`` the three passes are then repeated N times on the same data, the outbox
emptied before each round, and the median, best and CPU times printed: one measurement on this
shared machine swings by a third either way.

Data, shaped like the West Midlands office's 2013 Board report (status on 8 Aug 2013 of the
cases received each month, table 6, and those over 28 days, table 9): 90% closed cases received
over the previous five years; the unclosed 10% by month of receipt, newest first, in the
proportions of the report's 179 unclosed cases (see ``OPEN``, ``IN_PROGRESS``, ``MONITORING``):
most open cases are from the last month (not yet due), most older ones are in progress (waiting
on the force) or in monitoring (IOPC or court), and 44% are in monitoring. "Month" k is the
block of 20 working days received k·20 to k·20+19 working days before the pass, so month 0
is not yet due and every older case is due today or overdue. Each in-progress case has a
status note (two in three "referred to West Midlands Police for comment"); 6 in 7 are assigned.
Results are written to bench/RESULTS.md by hand; the machine is a 2-core shared VM (noisy).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text

from bot.sender import OutboxSender
from casework.scheduler.warnings import run_pass
from casework.settings import Settings
from store.db import make_engine, upgrade
from store.models import Case, CaseEvent
from store.workdays import calendar, is_working_day

TODAY = date(2013, 4, 10)
YESTERDAY = date(2013, 4, 9)

#: unclosed cases by month of receipt, newest first (Jul 2013 back to Nov 2012), Board report table 6
OPEN = (31, 8, 3, 1, 1, 0, 0, 0, 0)
IN_PROGRESS = (12, 11, 9, 12, 4, 4, 0, 3, 1)
MONITORING = (1, 4, 8, 16, 6, 12, 13, 14, 5)
MONTH = 20  # working days


def working_days_before(day: date, count: int) -> date:
    while count:
        day -= timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def load(engine: Engine, total: int, *, seed: int = 7) -> int:
    rng = random.Random(seed)
    cal = calendar()
    unclosed = total // 10
    back = [working_days_before(TODAY, n) for n in range(MONTH * len(OPEN))]
    kinds = [
        (status, month)
        for status, counts in (("open", OPEN), ("in_progress", IN_PROGRESS), ("monitoring", MONITORING))
        for month in range(len(counts))
    ]
    weights = [dict(open=OPEN, in_progress=IN_PROGRESS, monitoring=MONITORING)[s][m] for s, m in kinds]
    old_start = TODAY - timedelta(days=5 * 365)
    table = Case.__table__  # type: ignore[attr-defined]
    events = CaseEvent.__table__  # type: ignore[attr-defined]
    now = datetime(2013, 4, 10, 12, tzinfo=UTC)
    due_cache: dict[date, date] = {}

    def due(received: date) -> date:
        if received not in due_cache:
            due_cache[received] = cal.due_date(received, 20)
        return due_cache[received]

    rows: list[dict[str, object]] = []
    notes: list[dict[str, object]] = []
    with engine.begin() as conn:
        for n in range(total):
            if n < unclosed:
                status, month = rng.choices(kinds, weights)[0]
                received = back[month * MONTH + rng.randrange(MONTH)]
                closed = None
            else:
                received = old_start + timedelta(days=rng.randrange(5 * 365 - 60))
                status = "closed"
                closed = received + timedelta(days=rng.randrange(1, 40))
            at = datetime(received.year, received.month, received.day, 10, tzinfo=UTC)
            rows.append(
                {
                    "id": n + 1,
                    "reference": f"WMOPC-B-{n:07d}",
                    "category": "correspondence" if n % 4 else "complaint",
                    "status": status,
                    "received_at": at,
                    "received_on": received,
                    "due_on": due(received),
                    "closed_at": at + timedelta(days=(closed - received).days) if closed else None,
                    "closed_on": closed,
                    "status_changed_at": at,
                    "subject": f"Synthetic case {n}: speeding & parking on Hagley Road",
                    "assignee": f"U0CW{n % 12:02d}" if n % 7 else None,
                    "reasons": [],
                    "needs_triage": False,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if status == "in_progress":
                notes.append(
                    {
                        "case_id": n + 1,
                        "at": at + timedelta(days=1),
                        "actor": "U0CW00",
                        "kind": "status",
                        "old_value": "open",
                        "new_value": "in_progress",
                        "note": "Referred to West Midlands Police for comment"
                        if n % 3
                        else "With a caseworker to draft a response",
                    }
                )
            if len(rows) == 20000:
                conn.execute(insert(table), rows)
                if notes:
                    conn.execute(insert(events), notes)
                rows, notes = [], []
        if rows:
            conn.execute(insert(table), rows)
        if notes:
            conn.execute(insert(events), notes)
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('cases_id_seq', (SELECT max(id) FROM cases))"))
    return unclosed


def timed(fn: object, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class NoNetwork:
    """The two Web API calls the sender makes for a warning, answered at once."""

    def conversations_open(self, *, users: str) -> dict[str, Any]:
        return {"channel": {"id": "D" + users[1:]}}

    def chat_postMessage(self, *, channel: str, text: str, blocks: Any) -> dict[str, Any]:
        return {"channel": channel, "ts": "1365590000.000100"}


def send_cost(engine: Engine, settings: Settings, messages: int = 200) -> float:
    """Seconds per deadline warning for the outbox sender without the network: claim, read the
    case, render, mark sent (the first rows recorded are the cold pass's warnings)."""
    sender = OutboxSender(settings, engine, NoNetwork(), batch=messages, today=lambda: TODAY)  # type: ignore[arg-type]
    start = time.perf_counter()
    sent = sender.drain_once()
    assert sent == messages, sent
    return (time.perf_counter() - start) / sent


def empty_outbox(engine: Engine) -> None:
    """Back to the service's first day: no outbox rows (PostgreSQL: vacuumed, as after the load)."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM outbox"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE outbox"))


def rounds(engine: Engine, settings: Settings, count: int) -> None:
    """The cold, first and repeat passes ``count`` more times on the same data, the outbox emptied
    before each round: median and best wall time, and median CPU time of this process (which
    the other work on a shared machine disturbs less; the database's own time is not in it)."""
    wall: dict[str, list[float]] = {"cold": [], "first": [], "repeat": []}
    cpu: dict[str, list[float]] = {name: [] for name in wall}
    for _ in range(count):
        empty_outbox(engine)
        for name, day in (("cold", YESTERDAY), ("first", TODAY), ("repeat", TODAY)):
            start, started_cpu = time.perf_counter(), time.process_time()
            run_pass(engine, settings, today=day)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - started_cpu)
    for name, times in wall.items():
        print(
            f"{count} rounds, {name} pass: median {statistics.median(times) * 1000:.0f} ms, "
            f"best {min(times) * 1000:.0f} ms, median CPU {statistics.median(cpu[name]) * 1000:.0f} ms"
        )


def bench(url: str, total: int, repeat_rounds: int = 0) -> None:
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    unclosed = load(engine, total)
    print(f"loaded {total:,} cases ({unclosed:,} unclosed) in {time.perf_counter() - started:.1f}s")
    if engine.dialect.name == "postgresql":
        # VACUUM as well as ANALYZE: right after a million-row bulk load, autovacuum would
        # otherwise start on ``cases`` in the middle of the timed passes (a store in service
        # is not bulk-loaded seconds before the scheduler runs).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    with engine.connect() as conn:
        if engine.dialect.name != "postgresql":
            conn.execute(text("ANALYZE"))
        plan = conn.execute(
            text(
                ("EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ")
                + "SELECT id FROM cases WHERE status IN ('open','in_progress','monitoring')"
                " AND due_on <= '2013-04-17'"
            )
        ).all()
    print("plan:", " | ".join(str(row[-1]) for row in plan))
    settings = Settings(_env_file=None, database_url=url, alerts_channel="C0ALERTS")  # type: ignore[call-arg]

    def baseline() -> None:
        with engine.connect() as conn:
            conn.execute(
                text("SELECT id, due_on FROM cases WHERE status IN ('open','in_progress','monitoring')")
            ).all()

    base = timed(baseline)
    start = time.perf_counter()
    cold = run_pass(engine, settings, today=YESTERDAY)
    cold_s = time.perf_counter() - start
    start = time.perf_counter()
    first = run_pass(engine, settings, today=TODAY)
    first_s = time.perf_counter() - start
    repeat = timed(lambda: run_pass(engine, settings, today=TODAY))
    print(f"dialect {engine.dialect.name}: baseline select of unclosed {base * 1000:.0f} ms")
    for name, result, took in (("cold pass", cold, cold_s), ("first pass", first, first_s)):
        overdue = result.overdue
        assert overdue is not None
        print(
            f"{name} {result.as_of} {took * 1000:.0f} ms ({len(result.warnings):,} threshold warnings, "
            f"{overdue.total:,} overdue in {len(overdue.assignees)} DM lists + 1 post, "
            f"{result.monitoring_total:,} monitoring, {len(result.queued):,} outbox rows)"
            f" = {took / base:.1f}x baseline"
        )
    print(f"repeat pass {repeat * 1000:.0f} ms = {repeat / base:.1f}x baseline")
    per_message = send_cost(engine, settings)
    print(f"sender, per warning without the network: {per_message * 1000:.1f} ms (claim, render, mark sent)")
    if repeat_rounds:
        rounds(engine, settings, repeat_rounds)
    with open("/proc/loadavg") as loadavg:
        print("load average:", loadavg.read().strip())
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="URL of an EMPTY PostgreSQL database to fill")
    parser.add_argument(
        "--rounds",
        type=int,
        default=0,
        help="then repeat the three passes N times (outbox emptied each time)",
    )
    args = parser.parse_args()
    if args.postgres:
        bench(args.postgres, args.cases, args.rounds)
        return
    with tempfile.TemporaryDirectory() as folder:
        bench(f"sqlite:///{Path(folder) / 'bench.db'}", args.cases, args.rounds)


if __name__ == "__main__":
    main()
