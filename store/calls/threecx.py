"""3CX call records (the CDR service's CSV file or socket output), one row per call segment.

3CX lets each site choose and order its fields; without a header row the order taken is the
common one: historyid, callid, duration, time-start, time-answered, time-end, reason-terminated,
from-no, to-no, from-dn, to-dn, dial-no, reason-changed, final-number, final-dn, bill-code,
bill-rate, bill-cost, bill-name, chain, from-type, to-type, final-type, from-dispname,
to-dispname, final-dispname, missed-queue-calls. A header row (``historyid,callid,…``) overrides
it. Times are local, ``YYYY/MM/DD HH:MM:SS`` or ISO. Segments of one call share ``callid``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from store.calls.base import (
    ANSWERED,
    BUSY,
    FAILED,
    NO_ANSWER,
    Context,
    Item,
    Leg,
    Lines,
    Skip,
    csv_rows,
    local_time,
    looks_internal,
    named,
)
from store.calls.outcome import THREECX_BUSY, THREECX_FAILED
from store.imports import RowError

NAME = "3cx"
FAMILY = "3cx"
ORDER = [
    "historyid", "callid", "duration", "time-start", "time-answered", "time-end", "reason-terminated",
    "from-no", "to-no", "from-dn", "to-dn", "dial-no", "reason-changed", "final-number", "final-dn",
    "bill-code", "bill-rate", "bill-cost", "bill-name", "chain", "from-type", "to-type", "final-type",
    "from-dispname", "to-dispname", "final-dispname", "missed-queue-calls",
]  # fmt: skip
NEEDED = ("historyid", "time-start", "time-end", "reason-terminated", "from-no", "to-no")
_CALLID = re.compile(r"^[0-9A-Fa-f]{8,}_\d+$")
_TIME = re.compile(r"^\d{4}[/-]\d\d[/-]\d\d[ T]\d\d:\d\d:\d\d")


def is_header(fields: list[str]) -> bool:
    names = {f.strip().lower() for f in fields}
    return "historyid" in names and "time-start" in names


def sniff(rows: list[list[str]]) -> int:
    score = 0
    for row in rows:
        if is_header(row):
            score += 5
        elif (
            len(row) >= 12
            and _TIME.match(row[3].strip())
            and (_CALLID.match(row[1].strip()) or row[6].strip().startswith(("Terminated", "Failed")))
        ):
            score += 2
    return score


def read(lines: Lines, ctx: Context) -> Iterator[Item]:
    columns: dict[str, int] | None = None
    for number, fields in csv_rows(lines, lambda n: n >= 12):
        if columns is None:
            if is_header(fields):
                columns = {name.strip().lower(): i for i, name in enumerate(fields)}
                missing = [name for name in NEEDED if name not in columns]
                if missing:
                    yield RowError(number, f"the header lacks {', '.join(missing)}")
                    return
                continue
            columns = {name: i for i, name in enumerate(ORDER)}
        if len(fields) < 12:
            yield RowError(number, f"{len(fields)} columns; 3CX records have at least 12")
            continue
        try:
            yield _leg(number, fields, columns, ctx)
        except ValueError as err:
            yield RowError(number, str(err))


def _external(kind: str, number: str) -> bool:
    if kind:
        return kind.lower() in ("external", "line", "outside")
    return not looks_internal(number)


def _leg(number: int, fields: list[str], columns: dict[str, int], ctx: Context) -> Item:
    def get(name: str) -> str:
        return named(fields, columns, name)

    key = get("callid") or get("historyid")
    if not key:
        raise ValueError("historyid and callid are empty")
    start_l = local_time(get("time-start"), "time-start")
    answer_l = local_time(get("time-answered"), "time-answered")
    end_l = local_time(get("time-end"), "time-end")
    if start_l is None or end_l is None:
        raise ValueError("time-start or time-end is empty")
    end = ctx.clock.resolve(end_l)
    start = ctx.clock.before(start_l, end)
    from_external = _external(get("from-type"), get("from-no"))
    to_external = _external(get("to-type"), get("to-no"))
    if not from_external:
        return Skip(number, "outbound call" if to_external else "internal call")
    to_no = get("to-no")
    if not ctx.wanted(get("to-dn"), get("dial-no"), to_no.removeprefix("Ext."), to_no):
        return Skip(number, "not to the hunt group")
    if end < start:
        raise ValueError("time-end is before time-start")
    reason = get("reason-terminated")
    if reason in THREECX_BUSY:
        return Leg(number, key, start, None, end, BUSY)
    if answer_l is not None and reason not in THREECX_FAILED:
        answer = min(max(ctx.clock.before(answer_l, end), start), end)
        return Leg(number, key, start, answer, end, ANSWERED)
    return Leg(number, key, start, None, end, FAILED if reason in THREECX_FAILED else NO_ANSWER)
