"""Asterisk ``queue_log``: one pipe-delimited line per queue event, the natural record of a queue.

``timestamp|callid|queuename|agent|event|data1|data2…``, the timestamp in UNIX seconds (UTC) or,
from a realtime table, a local date and time. A call is its callid's events: ENTERQUEUE starts it,
CONNECT answers it, COMPLETECALLER/COMPLETEAGENT or a TRANSFER end an answered call, ABANDON,
EXITWITHTIMEOUT and EXITWITHKEY end an unanswered one, JOINEMPTY/EXITEMPTY/JOINUNAVAIL/FULL mean
the queue could not take it (counted as busy). Lines with callid ``NONE`` (QUEUESTART, ADDMEMBER,
PAUSE …) are about the queue or an agent, not a call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from store.calls.base import (
    ANSWERED,
    BUSY,
    NO_ANSWER,
    Context,
    Item,
    Leg,
    Lines,
    Skip,
    epoch_time,
    local_time,
)
from store.imports import RowError

NAME = "asterisk-queue-log"
FAMILY = "asterisk"
ENDS = {
    "COMPLETECALLER": ANSWERED,
    "COMPLETEAGENT": ANSWERED,
    "TRANSFER": ANSWERED,
    "BLINDTRANSFER": ANSWERED,
    "ATTENDEDTRANSFER": ANSWERED,
    "ABANDON": NO_ANSWER,
    "EXITWITHTIMEOUT": NO_ANSWER,
    "EXITWITHKEY": NO_ANSWER,
    "AGENTDUMP": NO_ANSWER,
    "EXITEMPTY": BUSY,
    "JOINEMPTY": BUSY,
    "JOINUNAVAIL": BUSY,
    "FULL": BUSY,
}
NOT_A_CALL = frozenset({"", "NONE", "REALTIME", "MANAGER"})
_EVENT = re.compile(r"^[A-Z_]{3,}$")
_EPOCH = re.compile(r"^\d{9,11}(\.\d+)?$")


def sniff(lines: list[str]) -> int:
    score = 0
    for line in lines:
        parts = line.split("|")
        if (
            len(parts) >= 5
            and _EVENT.match(parts[4].strip())
            and (_EPOCH.match(parts[0]) or parts[0][:2] == "20")
        ):
            score += 2 if parts[4] in ENDS or parts[4] in ("ENTERQUEUE", "CONNECT", "QUEUESTART") else 1
    return score


def read(lines: Lines, ctx: Context) -> Iterator[Item]:
    for number, line in lines:
        parts = line.rstrip().split("|")
        if len(parts) < 5:
            yield RowError(
                number,
                f"{len(parts)} fields; queue_log lines have at least 5 (time|callid|queue|agent|event)",
            )
            continue
        stamp, callid, queue, _agent, event = (p.strip() for p in parts[:5])
        if event.lower() == "event" and not stamp[:1].isdigit():
            continue  # the header row of a realtime table's export
        try:
            moment = _moment(stamp, ctx)
        except ValueError as err:
            yield RowError(number, str(err))
            continue
        if callid.upper() in NOT_A_CALL or queue.upper() in NOT_A_CALL:
            yield Skip(number, "queue or agent event, not a call")
            continue
        if not ctx.wanted(queue):
            yield Skip(number, "another queue")
            continue
        if event == "ENTERQUEUE":
            yield Leg(number, callid, start=moment, closes=False)
        elif event == "CONNECT":
            yield Leg(number, callid, answer=moment, status=ANSWERED, closes=False)
        elif event in ENDS:
            yield Leg(number, callid, end=moment, status=ENDS[event])
        else:  # RINGNOANSWER, RINGCANCELED, DID, INFO …: part of the call, says nothing of its end
            yield Leg(number, callid, closes=False)


def _moment(stamp: str, ctx: Context) -> datetime:
    if _EPOCH.match(stamp):
        return epoch_time(stamp, "timestamp")
    naive = local_time(stamp, "timestamp")  # a realtime table's local date and time
    if naive is None:
        raise ValueError("the timestamp is empty")
    return ctx.clock.resolve(naive)
