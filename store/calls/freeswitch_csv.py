"""FreeSWITCH ``mod_cdr_csv`` with its default template (``cdr_csv.conf.xml``), one row per leg.

The template's fields: caller_id_name, caller_id_number, destination_number, context,
start_stamp, answer_stamp, end_stamp, duration, billsec, hangup_cause, uuid, bleg_uuid,
accountcode, read_codec, write_codec. Stamps are local; an unanswered leg's answer_stamp is
empty. With ``legs="ab"`` a B leg's row carries its own uuid, which its A leg names as
bleg_uuid, so a B leg written after its A leg joins that call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from store.calls.base import (
    ANSWERED,
    FAILED,
    Context,
    Item,
    Leg,
    Lines,
    Skip,
    clean,
    csv_rows,
    local_time,
    looks_internal,
)
from store.calls.outcome import FREESWITCH_UNANSWERED
from store.imports import RowError

NAME = "freeswitch-csv"
FAMILY = "freeswitch"
WIDTH = 15
_CAUSE = re.compile(r"^[A-Z][A-Z_]+$")
_UUID = re.compile(r"^[0-9a-fA-F-]{32,36}$")


def sniff(rows: list[list[str]]) -> int:
    return sum(
        1 for row in rows if len(row) >= 12 and _CAUSE.match(row[9].strip()) and _UUID.match(row[10].strip())
    )


def read(lines: Lines, ctx: Context) -> Iterator[Item]:
    joins: dict[str, str] = {}
    for number, fields in csv_rows(lines, lambda n: n >= 12):
        if len(fields) < 12:
            yield RowError(number, f"{len(fields)} columns; mod_cdr_csv's default template writes {WIDTH}")
            continue
        try:
            yield _leg(number, fields, ctx, joins)
        except ValueError as err:
            yield RowError(number, str(err))


def _leg(number: int, fields: list[str], ctx: Context, joins: dict[str, str]) -> Item:
    caller, dst, cause = clean(fields[1]), clean(fields[2]), clean(fields[9]).upper()
    uuid, bleg = clean(fields[10]), clean(fields[11])
    if not uuid:
        raise ValueError("uuid is empty")
    key = joins.get(uuid, uuid)
    if bleg:
        joins[bleg] = key
    start_l = local_time(fields[4], "start_stamp")
    answer_l = local_time(fields[5], "answer_stamp")
    end_l = local_time(fields[6], "end_stamp")
    if start_l is None or end_l is None:
        raise ValueError("start_stamp or end_stamp is empty")
    end = ctx.clock.resolve(end_l)
    start = ctx.clock.before(start_l, end)
    if looks_internal(caller):
        return Skip(number, "internal call" if looks_internal(dst) else "outbound call")
    if not ctx.wanted(dst):
        return Skip(number, "not to the hunt group")
    if end < start:
        raise ValueError("end_stamp is before start_stamp")
    if answer_l is not None:
        answer = min(max(ctx.clock.before(answer_l, end), start), end)
        return Leg(number, key, start, answer, end, ANSWERED)
    return Leg(number, key, start, None, end, FREESWITCH_UNANSWERED.get(cause, FAILED))
