"""Benchmark: the Board tables over 12 months of a 1,000,000-case store, against hand-written SQL.

Run:  python bench/stats_bench.py [--cases 1000000] [--backend sqlite|postgres|both] [--repeat 5]

It bulk-loads synthetic cases (spread evenly over five years, so a twelve-month range holds
about a fifth of them) and calls, then times ``store.stats.board_tables`` — what
``casework stats`` and ``/casework summary`` run — against a baseline measured in the same
run on the same database: one hand-written ``GROUP BY`` per table in the database's own date
functions, returning the same counts and sums. The result is the ratio of medians.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from store.db import make_engine, session_scope, upgrade
from store.models import Call, Case
from store.stats import board_tables
from store.workdays import calendar, local_date

CATEGORIES = (
    ["correspondence"] * 70
    + ["complaint"] * 22
    + ["foi"] * 4
    + ["campaign", "officer_correspondence", "consultation"] * 2
)
FIRST_DAY = date(2019, 1, 1)
YEARS = 5


def synthetic_cases(offset: int, size: int, total: int, rng: random.Random) -> list[dict]:
    """Cases ``offset .. offset+size`` of ``total``, dated in order across the five years."""
    cal = calendar()
    span = (date(FIRST_DAY.year + YEARS, 1, 1) - FIRST_DAY).days
    now = datetime.now(UTC)
    rows = []
    for i in range(offset, offset + size):
        received_on = FIRST_DAY + timedelta(days=i * span // total)
        received = datetime(received_on.year, received_on.month, received_on.day, 10, tzinfo=UTC)
        category = CATEGORIES[i % len(CATEGORIES)]
        closed = rng.random() < 0.9
        closed_at = received + timedelta(days=rng.randint(1, 90)) if closed else None
        closed_on = local_date(closed_at) if closed_at else None
        rows.append(
            {
                "reference": f"B-{i:08d}",
                "category": category,
                "status": "closed" if closed else rng.choice(["open", "in_progress", "monitoring"]),
                "received_at": received,
                "received_on": received_on,
                "due_on": cal.due_date(received_on),
                "closed_at": closed_at,
                "closed_on": closed_on,
                "days_taken": (closed_on - received_on).days if closed_on else None,
                "working_days_taken": cal.working_days_between(received_on, closed_on) if closed_on else None,
                "status_changed_at": closed_at or received,
                "subject": "Synthetic",
                "reasons": [],
                "needs_triage": False,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def synthetic_calls(rng: random.Random) -> list[dict]:
    rows = []
    day = FIRST_DAY
    end = date(FIRST_DAY.year + YEARS, 1, 1)
    n = 0
    while day < end:
        if day.weekday() < 5:
            for _ in range(22):
                n += 1
                started = datetime(day.year, day.month, day.day, 9, tzinfo=UTC) + timedelta(
                    minutes=rng.randint(0, 480)
                )
                wait = rng.randint(1, 15)
                answered = rng.random() < 0.95
                rows.append(
                    {
                        "call_id": f"B{n}",
                        "started_at": started,
                        "started_on": day,
                        "answered_at": started + timedelta(seconds=wait) if answered else None,
                        "ended_at": started + timedelta(seconds=wait + (120 if answered else 0)),
                        "outcome": "answered" if answered else "abandoned",
                        "wait_s": float(wait),
                        "talk_s": 120.0 if answered else None,
                    }
                )
        day += timedelta(days=1)
    return rows


def load(url: str, n: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(7)
    started = time.perf_counter()
    batch = 50_000
    with engine.begin() as conn:
        for i in range(0, n, batch):
            conn.execute(insert(Case), synthetic_cases(i, min(batch, n - i), n, rng))
        conn.execute(insert(Call), synthetic_calls(rng))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    print(f"  loaded {n:,} cases in {time.perf_counter() - started:.0f} s", flush=True)
    engine.dispose()


def hand_sql(dialect: str, start: date, end: date, as_of: date) -> list[str]:
    month = "strftime('%Y-%m', {})" if dialect == "sqlite" else "to_char({}, 'YYYY-MM')"
    week = (
        "date(started_on, '-' || ((cast(strftime('%w', started_on) as integer) + 6) % 7) || ' days')"
        if dialect == "sqlite"
        else "date_trunc('week', started_on)"
    )
    r, c = month.format("received_on"), month.format("closed_on")
    rng = f"'{start}' AND '{end}'"
    return [
        f"SELECT {r}, category, count(*) FROM cases WHERE received_on BETWEEN {rng} GROUP BY 1, 2",
        f"SELECT {r}, CASE WHEN closed_on <= '{as_of}' THEN 'closed' ELSE status END, count(*) FROM cases "
        f"WHERE received_on BETWEEN {rng} GROUP BY 1, 2",
        f"SELECT {c}, count(*), sum(days_taken), sum(CASE WHEN days_taken <= 28 THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN days_taken <= 28 THEN days_taken ELSE 0 END), sum(working_days_taken), "
        f"sum(CASE WHEN closed_on <= due_on THEN 1 ELSE 0 END) FROM cases "
        f"WHERE closed_on BETWEEN {rng} GROUP BY 1",
        f"SELECT {week}, outcome, count(*), sum(wait_s), sum(talk_s), "
        f"sum(CASE WHEN wait_s <= 9 THEN 1 ELSE 0 END) FROM calls "
        f"WHERE started_on BETWEEN {rng} GROUP BY 1, 2",
    ]


def timed(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm the caches once, as a running service would have them
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def run(url: str, label: str, repeat: int) -> None:
    engine = make_engine(url)
    start, end, as_of = date(2022, 1, 1), date(2022, 12, 31), date(2023, 1, 31)

    def ours() -> None:
        with session_scope(engine) as session:
            board_tables(session, start=start, end=end, as_of=as_of)

    def theirs() -> None:
        with engine.connect() as conn:
            for sql in hand_sql(engine.dialect.name, start, end, as_of):
                conn.execute(text(sql)).all()

    t_hand, t_ours = timed(theirs, repeat), timed(ours, repeat)
    print(
        f"| {label} | {t_hand * 1000:.0f} ms | {t_ours * 1000:.0f} ms | {t_ours / t_hand:.2f} |", flush=True
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    cpu = subprocess.run(
        ["sh", "-c", "nproc; grep -m1 'model name' /proc/cpuinfo"], capture_output=True, text=True
    )
    print(f"machine: {' / '.join(cpu.stdout.split(chr(10))[:2])}; cases: {args.cases:,}")
    print("| backend | hand SQL GROUP BY | board_tables | ratio |\n|---|---|---|---|")
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/bench.db"
            load(url, args.cases)
            run(url, "SQLite", args.repeat)
    if args.backend in ("postgres", "both"):
        name = f"casework_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = args.pg_url.rsplit("/", 1)[0] + f"/{name}"
        try:
            load(url, args.cases)
            run(url, "PostgreSQL", args.repeat)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
