"""Asterisk ``cdr_csv`` (``Master.csv``): no header, quoted strings, one row per leg.

Columns, as ``cdr/cdr_csv.c`` writes them: accountcode, src, dst, dcontext, clid, channel,
dstchannel, lastapp, lastdata, start, answer, end, duration, billsec, disposition, amaflags; then
uniqueid and userfield (``loguniqueid``/``loguserfield``), then peeraccount, linkedid, sequence
(``newcdrcolumns``): 16 to 21 columns. Times are local (``usegmtime`` makes them UTC: pass
``--timezone UTC``). The legs of one call share ``linkedid`` (or, without it, ``uniqueid``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

from store.calls.base import (
    NULLS,
    Context,
    Item,
    Leg,
    Lines,
    Skip,
    csv_rows,
    local_time,
    looks_internal,
    seconds,
)
from store.calls.outcome import ASTERISK
from store.imports import RowError

NAME = "asterisk-csv"
FAMILY = "asterisk"
COUNTS = frozenset({16, 17, 18, 19, 20, 21})
UNIQUEID = re.compile(r"^[\w.-]*\d+\.\d+$")
_TIME = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d")


def sniff(rows: list[list[str]]) -> int:
    """How many of the sample rows look like Master.csv rows."""
    return sum(
        1
        for row in rows
        if len(row) in COUNTS and _TIME.match(row[9].strip()) and row[14].strip().upper() in ASTERISK
    )


def read(lines: Lines, ctx: Context) -> Iterator[Item]:
    for number, fields in csv_rows(lines, lambda n: n in COUNTS):
        if len(fields) not in COUNTS:
            yield RowError(
                number, f"{len(fields)} columns; Master.csv rows have 16 to 21 (see docs/calls.md)"
            )
            continue
        fields = [("" if f in NULLS else f) for f in map(str.strip, fields)]
        try:
            yield leg(number, fields, ctx)
        except ValueError as err:
            yield RowError(number, str(err))


def key_of(fields: list[str]) -> str:
    count = len(fields)
    if count >= 19:  # newcdrcolumns: peeraccount, linkedid, sequence are the last three
        linked = fields[count - 2]
        if linked:
            return linked
    if count in (17, 20) and UNIQUEID.match(fields[16]):
        return fields[16]
    if count in (18, 21) and fields[16]:
        return fields[16]
    # No id logged: legs of one call still share the caller, the start and the source channel.
    return f"{fields[9]}|{fields[1]}|{fields[5].split('-')[0]}"


def leg(number: int, fields: list[str], ctx: Context) -> Item:
    src, dst = fields[1], fields[2]
    disposition = fields[14].upper()
    status = ASTERISK.get(disposition)
    if status is None:
        raise ValueError(f"disposition {disposition!r} is not one of ANSWERED, NO ANSWER, BUSY, FAILED")
    start_l = local_time(fields[9], "start")
    answer_l = local_time(fields[10], "answer")
    end_l = local_time(fields[11], "end")
    if start_l is None or end_l is None:
        raise ValueError("start or end is empty")
    seconds(fields[12], "duration")  # checked, not used: start and end say it exactly
    billsec = seconds(fields[13], "billsec")
    end = ctx.clock.resolve(end_l)
    start = ctx.clock.before(start_l, end)
    if status == "answered":
        answer = ctx.clock.before(answer_l, end) if answer_l else end - timedelta(seconds=billsec)
    else:
        answer = None
    return make_leg(
        ctx,
        number=number,
        key=key_of(fields),
        src=src,
        dst=dst,
        destinations=(dst,),
        status=status,
        start=start,
        answer=answer,
        end=end,
    )


def make_leg(
    ctx: Context,
    *,
    number: int,
    key: str,
    src: str,
    dst: str,
    destinations: tuple[str, ...],
    status: str,
    start: datetime,
    answer: datetime | None,
    end: datetime,
) -> Item:
    """A leg from Asterisk's fields, times already in UTC (shared with FreePBX's cdr table)."""
    if dst == "h":
        return Skip(number, "hangup-handler row (dst h)")
    if looks_internal(src):
        return Skip(number, "internal call" if looks_internal(dst) else "outbound call")
    if not ctx.wanted(*destinations):
        return Skip(number, "not to the hunt group")
    if end < start:
        raise ValueError("end is before start")
    if status != "answered":
        answer = None
    elif answer is None:
        raise ValueError("the call is ANSWERED but answer is empty")
    else:  # clocks of different channels can disagree by a second: keep the answer inside the call
        answer = min(max(answer, start), end)
    return Leg(number, key, start, answer, end, status)
