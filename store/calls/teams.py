"""Microsoft Teams PSTN and Direct Routing call records (Graph ``callRecords``), JSON or CSV.

Read as Graph returns them (``{"value": [...]}`` from getPstnCalls / getDirectRoutingCalls, a
plain list, or one object a line) or as a CSV with a header row of the same property names
(the Teams admin centre's export). Times are UTC with an offset. A direct-routing row has
inviteDateTime (the call arrived), startDateTime (answered, for a successful call),
endDateTime or failureDateTime, successfulCall and finalSipCode; a PSTN row has only
startDateTime, endDateTime and duration, so its wait is taken as 0. Calls are keyed by ``id``.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from store.calls.base import ANSWERED, BUSY, NO_ANSWER, Context, Item, Leg, Lines, Skip
from store.calls.outcome import SIP_BUSY
from store.imports import RowError

NAME = "teams"
FAMILY = "teams"
KEYS = ("startdatetime", "callernumber", "calleenumber")


#: The Teams admin centre's CSV column names (normalised) for the Graph properties.
ALIASES = {
    "invitetime": "invitedatetime",
    "starttime": "startdatetime",
    "endtime": "enddatetime",
    "failuretime": "failuredatetime",
    "success": "successfulcall",
    "durationseconds": "duration",
}


def _name(header: str) -> str:
    """``Start time (UTC)`` → ``starttime``; ``startDateTime`` → ``startdatetime``."""
    name = re.sub(r"\(utc\)", "", header.lower())
    name = re.sub(r"[^a-z]", "", name)
    return ALIASES.get(name, name)


def sniff(lines: list[str]) -> int:
    head = " ".join(lines).lower()
    if head.lstrip().startswith(("{", "[")):  # no other format is JSON
        return 10 if "datetime" in head else 3
    names = {_name(name) for name in next(csv.reader(lines[:1]), [])}
    return 10 if all(key in names for key in KEYS) else 0


def read(lines: Lines, ctx: Context) -> Iterator[Item]:
    numbered = list(lines)
    if not numbered:
        return
    first = numbered[0][1].lstrip()
    if first.startswith(("{", "[")):
        yield from _json(numbered, ctx)
    else:
        yield from _csv(numbered, ctx)


def _json(numbered: list[tuple[int, str]], ctx: Context) -> Iterator[Item]:
    records: list[tuple[int, Any]] = []
    try:
        whole = json.loads("\n".join(text for _, text in numbered))
        items = whole.get("value", []) if isinstance(whole, dict) else whole
        if not isinstance(items, list):
            raise ValueError
        # A document's records get the line their object starts on where it can be found.
        records = [(numbered[0][0] + i, item) for i, item in enumerate(items)]
    except ValueError:
        for number, text in numbered:  # one JSON object a line
            try:
                records.append((number, json.loads(text)))
            except ValueError as err:
                yield RowError(number, f"not a JSON object ({err})")
    for number, record in records:
        if not isinstance(record, dict):
            yield RowError(number, "a call record must be a JSON object")
            continue
        yield _record(number, {k.lower(): v for k, v in record.items()}, ctx)


def _csv(numbered: list[tuple[int, str]], ctx: Context) -> Iterator[Item]:
    header = [_name(name) for name in next(csv.reader((numbered[0][1],)))]
    for number, text in numbered[1:]:
        values = next(csv.reader((text,)), [])
        if len(values) != len(header):
            yield RowError(number, f"{len(values)} columns; the header has {len(header)}")
            continue
        yield _record(number, dict(zip(header, values, strict=True)), ctx)


def _when(value: Any, name: str) -> datetime | None:
    if value in (None, "", "NULL"):
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name} {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # Graph's times are UTC
    return moment.astimezone(UTC)


def _record(number: int, row: dict[str, Any], ctx: Context) -> Item:
    try:
        return _leg(number, row, ctx)
    except ValueError as err:
        return RowError(number, str(err))


def _leg(number: int, row: dict[str, Any], ctx: Context) -> Item:
    key = str(row.get("id") or row.get("correlationid") or "").strip()
    if not key:
        raise ValueError("id is empty")
    kind = str(row.get("calltype") or "").lower().replace("_", "")
    if kind.startswith("conf"):
        return Skip(number, "conference dial-in or dial-out")
    if kind and not kind.endswith("in"):
        return Skip(number, "outbound call")
    if not ctx.wanted(str(row.get("calleenumber") or "")):
        return Skip(number, "not to the hunt group")
    started = _when(row.get("startdatetime"), "startDateTime")
    invited = _when(row.get("invitedatetime"), "inviteDateTime")
    ended = _when(row.get("enddatetime"), "endDateTime") or _when(
        row.get("failuredatetime"), "failureDateTime"
    )
    start = invited or started
    if start is None:
        raise ValueError("startDateTime is empty")
    end = ended or started or start
    if end < start:
        raise ValueError("the call ends before it starts")
    success = row.get("successfulcall")
    if success is None or success == "":
        try:  # a PSTN record: answered when it lasted
            answered = float(row.get("duration") or 0) > 0
        except ValueError:
            raise ValueError(f"duration {row.get('duration')!r} is not a number") from None
        return Leg(number, key, start, start if answered else None, end, ANSWERED if answered else NO_ANSWER)
    if str(success).strip().lower() in ("true", "1", "yes"):
        answer = started if started and start <= started <= end else start
        return Leg(number, key, start, answer, end, ANSWERED)
    try:
        code = int(str(row.get("finalsipcode") or 0))
    except ValueError:
        code = 0
    return Leg(number, key, start, None, end, BUSY if code in SIP_BUSY else NO_ANSWER)
