"""What every reader shares: legs, skips, the reading context, local times and dirty fields.

A *leg* is one row of a phone system's record (one phone rung, one queue event) that belongs to
a call identified by the format's own id. Readers never decide what a call is; they say which
call a row belongs to and what the row says about it, and :mod:`store.calls.legs` merges them.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from store.imports import RowError

#: What a leg says about the caller's experience.
ANSWERED, NO_ANSWER, BUSY, FAILED = "answered", "noanswer", "busy", "failed"
#: Values that mean "no value" in database exports (MySQL writes NULL or \N).
NULLS = frozenset({"NULL", "null", "\\N", "(null)"})


@dataclass(slots=True)
class Leg:
    """One row that belongs to the call ``key`` (the format's own id of the call)."""

    line: int
    key: str
    start: datetime | None = None
    answer: datetime | None = None
    end: datetime | None = None
    status: str | None = None
    #: True when this row ends the call (queue_log's COMPLETE*/ABANDON/EXIT*; every CDR row)
    closes: bool = True


@dataclass(slots=True)
class Skip:
    """A row that is not a call to the hunt group, with the reason the summary counts."""

    line: int
    reason: str


Item = Leg | Skip | RowError
Lines = Iterable[tuple[int, str]]


@dataclass
class Context:
    """How to read one file: the zone of its local times and the hunt group to keep."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    hunt_group: str = ""
    clock: LocalClock = field(init=False)

    def __post_init__(self) -> None:
        self.clock = LocalClock(self.zone)

    def wanted(self, *candidates: str) -> bool:
        """Whether any of the row's destinations is the hunt group (always, when none is set)."""
        if not self.hunt_group:
            return True
        group = self.hunt_group.strip()
        digits = _digits(group)
        for value in candidates:
            value = value.strip()
            if not value:
                continue
            if value == group or value.lower() == group.lower():
                return True
            # Numbers are compared on their digits so that +441216266060, 01216266060 and
            # 1216266060 are the same DID; extensions need an exact match.
            other = _digits(value)
            if (
                len(digits) >= 7
                and len(other) >= 7
                and (other.endswith(digits[-9:]) or digits.endswith(other[-9:]))
            ):
                return True
        return False


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


class LocalClock:
    """Local wall-clock times to UTC, with the ambiguous October hour resolved by order.

    Phone systems write local times without an offset. In the hour that repeats when BST ends
    (01:00–02:00 on the last Sunday of October) a time means two instants. Records come in time
    order, oldest first (Asterisk, 3CX, FreeSWITCH write a row as a call ends) or newest first
    (web exports), so the clock follows the direction the file has been going in and takes the
    reading that does not jump back against it by more than :attr:`SLACK`.
    """

    SLACK = timedelta(minutes=20)

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.previous: datetime | None = None
        self.trend = 0  # > 0: oldest first so far; < 0: newest first

    def resolve(self, naive: datetime) -> datetime:
        first = naive.replace(tzinfo=self.zone, fold=0)
        moment = first.astimezone(UTC)
        later_local = naive.replace(tzinfo=self.zone, fold=1)
        ambiguous = first.utcoffset() != later_local.utcoffset()
        if ambiguous and self.previous is not None:
            later = later_local.astimezone(UTC)
            if self.trend >= 0:
                if moment < self.previous - self.SLACK <= later:
                    moment = later
            elif later <= self.previous + self.SLACK:
                moment = later
        if self.previous is not None and not ambiguous:
            self.trend += 1 if moment > self.previous else -1 if moment < self.previous else 0
            self.trend = max(-50, min(50, self.trend))
        self.previous = moment
        return moment

    def before(self, naive: datetime, anchor: datetime) -> datetime:
        """``naive`` read as the latest instant not after ``anchor`` (a row's start before its end)."""
        first = naive.replace(tzinfo=self.zone, fold=0).astimezone(UTC)
        later = naive.replace(tzinfo=self.zone, fold=1).astimezone(UTC)
        if later != first and later <= anchor:
            return later
        return first

    def after(self, naive: datetime, anchor: datetime) -> datetime:
        """``naive`` read as the earliest instant not before ``anchor`` (a row's end after its start)."""
        first = naive.replace(tzinfo=self.zone, fold=0).astimezone(UTC)
        later = naive.replace(tzinfo=self.zone, fold=1).astimezone(UTC)
        if first < anchor <= later:
            return later
        return first


def clean(value: str) -> str:
    value = value.strip()
    return "" if value in NULLS else value


def local_time(value: str, name: str) -> datetime | None:
    """A naive local timestamp as phone systems write it (``2017-06-20 09:49:22``, ``2020/05/04 …``)."""
    value = clean(value)
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("/", "-"))
    except ValueError:
        raise ValueError(f"{name} {value!r} is not a date and time (e.g. 2017-06-20 09:49:22)") from None


def epoch_time(value: str, name: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"{name} {value!r} is not a UNIX timestamp") from None


def seconds(value: str, name: str) -> int:
    value = clean(value)
    if not value:
        return 0
    try:
        if ":" in value:  # 3CX writes durations as HH:MM:SS
            parts = [int(p) for p in value.split(":")]
            total = 0
            for part in parts:
                total = total * 60 + part
            return total
        return int(float(value))
    except ValueError:
        raise ValueError(f"{name} {value!r} is not a number of seconds") from None


def split_csv(line: str, expected: Callable[[int], bool]) -> list[str]:
    """One physical line as CSV fields, tolerating the unescaped quotes real exports contain.

    The csv module reads well-formed lines fast; when its field count is not one the format
    allows, the line is split again treating a quote as closing a field only where a comma or
    the end of the line follows it (``"John "JJ" Smith"`` stays one field).
    """
    fields = next(csv.reader((line,)), [])
    if expected(len(fields)):
        return fields
    tolerant = _tolerant(line)
    return tolerant if expected(len(tolerant)) else fields


def _tolerant(line: str) -> list[str]:
    fields: list[str] = []
    pos, n = 0, len(line)
    while True:
        if pos < n and line[pos] == '"':
            close = pos + 1
            while True:
                close = line.find('"', close)
                if close < 0:
                    fields.append(line[pos + 1 :])
                    return fields
                if close + 1 == n or line[close + 1] == ",":
                    break
                close += 1
            fields.append(line[pos + 1 : close].replace('""', '"'))
            if close + 1 == n:
                return fields
            pos = close + 2
        else:
            comma = line.find(",", pos)
            if comma < 0:
                fields.append(line[pos:])
                return fields
            fields.append(line[pos:comma])
            pos = comma + 1


def looks_internal(number: str) -> bool:
    """An extension rather than an outside number: short and all digits (``Ext.610``, ``2001``)."""
    number = clean(number)
    if number.lower().startswith("ext."):
        return True
    digits = _digits(number)
    return bool(number) and len(digits) <= 6 and digits == number.lstrip("+")


Reader = Callable[[Lines, Context], Iterator[Item]]
