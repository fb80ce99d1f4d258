"""Benchmark: a year of a ring group's Asterisk CDR rows imported, against parsing with ``csv`` alone.

Run:  python bench/calls_import_bench.py [--calls 6000] [--phones 5] [--repeat 5] [--postgres URL]

It writes a Master.csv (no header, 18 columns as ``cdr_csv`` writes with ``loguniqueid``) of a
year of working-day calls to a hunt group that rings ``--phones`` phones at once, so each call
is that many rows sharing a uniqueid (6,000 calls × 5 = 30,000 rows), with some outbound and
internal rows to skip. It then times, median of ``--repeat`` runs:

- baseline: reading the file and parsing every row with the ``csv`` module alone;
- import: what ``casework import calls FILE`` does (read, detect the format, decode, parse,
  resolve local times, merge legs, write the calls in one transaction) into an empty store.

The target is an import under 2 s; the ratio to the baseline says what the work beyond parsing
costs.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from store.calls.base import Context
from store.calls.importer import read_path, store_reading
from store.db import make_engine, session_scope, upgrade


def _q(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def write_year(path: Path, *, calls: int, phones: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(366)]
    days = [d for d in days if d.weekday() < 5]
    rows = 0
    with path.open("w", encoding="utf-8") as out:
        for n in range(calls):
            day = days[n * len(days) // calls]
            start = datetime(day.year, day.month, day.day, 9) + timedelta(seconds=rng.randint(0, 8 * 3600))
            caller = f"0121496{rng.randint(0, 9999):04d}"
            answered = rng.random() < 0.9
            wait = rng.randint(2, 30)
            talk = rng.randint(30, 600)
            uid = f"{int(start.timestamp())}.{n}"
            winner = rng.randrange(phones)
            for phone in range(phones):
                if answered and phone == winner:
                    answer, disp = start + timedelta(seconds=wait), "ANSWERED"
                    end = answer + timedelta(seconds=talk)
                else:
                    answer, end = None, start + timedelta(seconds=wait if answered else 45)
                    disp = "NO ANSWER"
                fields = [
                    _q(""), _q(caller), _q("600"), _q("from-trunk"), _q(f'"Caller {n}" <{caller}>'),
                    _q("SIP/trunk-0001"), _q(f"SIP/20{phone}-0002"), _q("Dial"), _q(f"SIP/20{phone},30"),
                    _q(start.strftime("%Y-%m-%d %H:%M:%S")),
                    _q(answer.strftime("%Y-%m-%d %H:%M:%S") if answer else ""),
                    _q(end.strftime("%Y-%m-%d %H:%M:%S")),
                    str(int((end - start).total_seconds())),
                    str(int((end - answer).total_seconds()) if answer else 0),
                    _q(disp), _q("DOCUMENTATION"), _q(uid), _q(""),
                ]  # fmt: skip
                out.write(",".join(fields) + "\n")
                rows += 1
            if n % 10 == 0:  # an outbound call now and then
                stamp = _q(start.strftime("%Y-%m-%d %H:%M:%S"))
                outbound = [_q(""), _q("201"), _q("07700900123"), _q("from-internal"), _q("201"),
                            _q("SIP/201-1"), _q("SIP/trunk-2"), _q("Dial"), _q(""), stamp, stamp, stamp,
                            "0", "0", _q("ANSWERED"), _q("DOCUMENTATION"), _q(f"9{uid}"), _q("")]  # fmt: skip
                out.write(",".join(outbound) + "\n")
                rows += 1
    return rows


def baseline(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle))


def import_once(path: Path, url: str) -> dict[str, object]:
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM calls"))
    started = time.perf_counter()
    reading = read_path(path, fmt="auto", ctx=Context(), max_line_bytes=65536, max_file_bytes=1 << 30)
    assert reading is not None
    with session_scope(engine) as session:
        tally = store_reading(session, reading=reading)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return {"seconds": elapsed, **tally.summary()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=6000)
    parser.add_argument("--phones", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", default="", help="also import into this PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Master.csv"
        rows = write_year(path, calls=args.calls, phones=args.phones)
        print(f"{path.stat().st_size / 1e6:.1f} MB, {rows:,} rows, {args.calls:,} calls")
        base = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            assert baseline(path) == rows
            base.append(time.perf_counter() - started)
        targets = [("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}")]
        if args.postgres:
            targets.append(("postgres", args.postgres))
        for name, url in targets:
            runs = [import_once(path, url) for _ in range(args.repeat)]
            seconds = [float(run["seconds"]) for run in runs]  # type: ignore[arg-type]
            summary = {k: v for k, v in runs[-1].items() if k != "seconds"}
            b, i = statistics.median(base), statistics.median(seconds)
            print(f"{name}: csv module alone {b * 1000:.0f} ms, import {i * 1000:.0f} ms, ratio {i / b:.1f}")
            print(f"  {summary}")
            print(f"  target (< 2 s): {'met' if i < 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
