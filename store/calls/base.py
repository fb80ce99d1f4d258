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
        # Legs of one call share their times, so most conversions are repeats.
        self._seen: dict[datetime, tuple[datetime, datetime]] = {}

    def readings(self, naive: datetime) -> tuple[datetime, datetime]:
        """The two UTC instants a local time can mean (the same one outside the October hour)."""
        found = self._seen.get(naive)
        if found is None:
            if len(self._seen) > 100_000:
                self._seen.clear()
            first = naive.replace(tzinfo=self.zone, fold=0).astimezone(UTC)
            later = naive.replace(tzinfo=self.zone, fold=1).astimezone(UTC)
            found = self._seen[naive] = (first, later)
        return found

    def resolve(self, naive: datetime) -> datetime:
        moment, later = self.readings(naive)
        ambiguous = moment != later
        if ambiguous and self.previous is not None:
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
        first, later = self.readings(naive)
        if later != first and later <= anchor:
            return later
        return first

    def after(self, naive: datetime, anchor: datetime) -> datetime:
        """``naive`` read as the earliest instant not before ``anchor`` (a row's end after its start)."""
        first, later = self.readings(naive)
        if first < anchor <= later:
            return later
        return first


def clean(value: str) -> str:
    value = value.strip()
    return "" if value in NULLS else value


def named(fields: list[str], columns: dict[str, int], name: str) -> str:
    """The cleaned field a header (or a format's fixed order) calls ``name``; "" when absent."""
    index = columns.get(name)
    return clean(fields[index]) if index is not None and index < len(fields) else ""


def local_time(value: str, name: str) -> datetime | None:
    """A naive local timestamp as phone systems write it (``2017-06-20 09:49:22``, ``2020/05/04 …``)."""
    value = value.strip()
    if not value or value in NULLS:
        return None
    try:
        return datetime.fromisoformat(value if "/" not in value else value.replace("/", "-"))
    except ValueError:
        pass
    # A spreadsheet that has been through UK Excel writes 20/06/2017 09:49(:22): day first.
    for layout in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M"):
        try:
            return datetime.strptime(value, layout)
        except ValueError:
            continue
    raise ValueError(f"{name} {value!r} is not a date and time (e.g. 2017-06-20 09:49:22)")


def epoch_time(value: str, name: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"{name} {value!r} is not a UNIX timestamp") from None


def seconds(value: str, name: str) -> int:
    value = value.strip()
    if not value or value in NULLS:
        return 0
    try:
        if value.isdigit():
            return int(value)
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


def csv_rows(lines: Lines, expected: Callable[[int], bool]) -> Iterator[tuple[int, list[str]]]:
    """:func:`split_csv` over many lines, with one csv reader for all the well-formed ones.

    A line with an even number of quotes ends outside a quoted field, so the csv module reads
    it as exactly one row; lines with an odd number (an unescaped quote) are split on their own,
    so that no row swallows the next line.
    """
    numbered = lines if isinstance(lines, list) else list(lines)
    even = csv.reader(line for _, line in numbered if not line.count('"') % 2)
    for number, line in numbered:
        if line.count('"') % 2:
            yield number, split_csv(line, expected)
            continue
        fields = next(even, [])
        yield number, fields if expected(len(fields)) else split_csv(line, expected)


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
    if number[:4].lower() == "ext.":
        return True
    bare = number.lstrip("+")
    return bare.isdigit() and len(bare) <= 6


Reader = Callable[[Lines, Context], Iterator[Item]]
