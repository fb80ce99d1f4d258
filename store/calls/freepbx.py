"""FreePBX's ``asteriskcdrdb.cdr`` table, as its CDR report downloads it or ``mysql -B`` dumps it.

With a header row the columns are found by name (FreePBX versions differ: newer ones add
linkedid, peeraccount and sequence). Without one they are taken in the table's order: calldate,
clid, src, dst, dcontext, channel, dstchannel, lastapp, lastdata, duration, billsec, disposition,
amaflags, accountcode, uniqueid, userfield, recordingfile, cnum, cnam, outbound_cnum,
outbound_cnam, dst_cnam, did (then linkedid, peeraccount, sequence). ``calldate`` is the start;
the end is start + duration, the answer end − billsec. ``NULL`` and ``\\N`` mean empty. Tab-separated
dumps are read too.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import timedelta

from store.calls.asterisk_csv import make_leg
from store.calls.base import Context, Item, Lines, local_time, named, seconds, split_csv
from store.calls.outcome import ASTERISK
from store.imports import RowError

NAME = "freepbx"
FAMILY = "asterisk"
ORDER = [
    "calldate",
    "clid",
    "src",
    "dst",
    "dcontext",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "accountcode",
    "uniqueid",
    "userfield",
    "recordingfile",
    "cnum",
    "cnam",
    "outbound_cnum",
    "outbound_cnam",
    "dst_cnam",
    "did",
    "linkedid",
    "peeraccount",
    "sequence",
]
NEEDED = ("calldate", "src", "dst", "duration", "billsec", "disposition", "uniqueid")
_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def split_fields(line: str, expected: int | None = None) -> list[str]:
    if "\t" in line and "," not in line.split("\t", 1)[0]:
        return next(csv.reader((line,), delimiter="\t"), [])
    return split_csv(line, (lambda n: n >= 15) if expected is None else (lambda n: n == expected))


def is_header(fields: list[str]) -> bool:
    names = {f.strip().strip('"').lower() for f in fields}
    return "calldate" in names and "disposition" in names


def sniff(rows: list[list[str]]) -> int:
    score = 0
    for row in rows:
        if is_header(row):
            score += 5
        elif len(row) >= 23 and _TIME.match(row[0].strip()) and row[11].strip().upper() in ASTERISK:
            score += 1
    return score


def read(lines: Lines, ctx: Context) -> Iterator[Item]:
    columns: dict[str, int] | None = None
    for number, line in lines:
        fields = split_fields(line)
        if columns is None:
            if is_header(fields):
                columns = {name.strip().strip('"').lower(): i for i, name in enumerate(fields)}
                missing = [name for name in NEEDED if name not in columns]
                if missing:
                    yield RowError(number, f"the header lacks {', '.join(missing)}")
                    return
                continue
            columns = {name: i for i, name in enumerate(ORDER)}
        width = max(columns[name] for name in NEEDED) + 1
        if len(fields) < width:
            yield RowError(number, f"{len(fields)} columns; the cdr table has at least {width}")
            continue
        try:
            yield _leg(number, fields, columns, ctx)
        except ValueError as err:
            yield RowError(number, str(err))


def _leg(number: int, fields: list[str], columns: dict[str, int], ctx: Context) -> Item:
    disposition = named(fields, columns, "disposition").upper()
    status = ASTERISK.get(disposition)
    if status is None:
        raise ValueError(f"disposition {disposition!r} is not one of ANSWERED, NO ANSWER, BUSY, FAILED")
    start_l = local_time(named(fields, columns, "calldate"), "calldate")
    if start_l is None:
        raise ValueError("calldate is empty")
    duration = seconds(named(fields, columns, "duration"), "duration")
    billsec = seconds(named(fields, columns, "billsec"), "billsec")
    billsec = min(billsec, duration)  # rounding can make billsec a second longer than duration
    start = ctx.clock.resolve(start_l)
    end = start + timedelta(seconds=duration)
    answer = end - timedelta(seconds=billsec) if status == "answered" else None
    key = named(fields, columns, "linkedid") or named(fields, columns, "uniqueid")
    if not key:
        raise ValueError("uniqueid is empty")
    dst = named(fields, columns, "dst")
    return make_leg(
        ctx,
        number=number,
        key=key,
        src=named(fields, columns, "src"),
        dst=dst,
        destinations=(dst, named(fields, columns, "did")),
        status=status,
        start=start,
        answer=answer,
        end=end,
    )
