"""Legs merged into calls: one inbound call is one record, however many phones it rang.

A call starts when its first leg started, is answered if any leg was answered (answered_at is
the first answer), and ends at the last end. Unanswered calls are busy when every leg was busy
and abandoned otherwise (NO ANSWER, FAILED, a caller who hung up): the Board counts a call the
office did not take, whatever the reason. Waits follow ``store.imports``: answered calls wait
until the first answer, abandoned calls wait until they end, busy calls do not wait.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from store.calls.base import ANSWERED, BUSY, Leg
from store.enums import CallOutcome
from store.workdays import local_date


@dataclass
class Call:
    """The legs of one call seen so far."""

    key: str
    lines: list[int] = field(default_factory=list)
    start: datetime | None = None
    answer: datetime | None = None
    end: datetime | None = None
    statuses: set[str] = field(default_factory=set)
    closed: bool = False
    _row: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def latest(self) -> datetime | None:
        times = [t for t in (self.end, self.answer, self.start) if t is not None]
        return max(times) if times else None

    def add(self, leg: Leg) -> None:
        self.lines.append(leg.line)
        if leg.start is not None and (self.start is None or leg.start < self.start):
            self.start = leg.start
        if leg.answer is not None and (self.answer is None or leg.answer < self.answer):
            self.answer = leg.answer
        if leg.end is not None and (self.end is None or leg.end > self.end):
            self.end = leg.end
        if leg.status:
            self.statuses.add(leg.status)
        self._row = None
        self.closed = self.closed or leg.closes

    def row(self, family: str, source: str) -> dict[str, Any]:
        """The ``calls`` row of this call (raises ValueError when its legs cannot make one)."""
        if self._row is not None:
            return self._row
        times = [t for t in (self.start, self.answer, self.end) if t is not None]
        if not times:
            raise ValueError(f"call {self.key} has no times")
        started, ended = self.start or min(times), self.end or max(times)
        answered = self.answer if self.answer is not None or ANSWERED not in self.statuses else None
        if answered is not None:
            outcome = CallOutcome.ANSWERED.value
            answered = max(answered, started)
            ended = max(ended, answered)
            wait, talk = (answered - started).total_seconds(), (ended - answered).total_seconds()
        elif self.statuses and self.statuses <= {BUSY}:
            outcome, wait, talk = CallOutcome.BUSY.value, 0.0, None
        else:
            outcome, wait, talk = CallOutcome.ABANDONED.value, (ended - started).total_seconds(), None
        self._row = {
            "call_id": call_id(family, self.key),
            "started_at": started,
            "started_on": local_date(started),
            "answered_at": answered,
            "ended_at": ended,
            "outcome": outcome,
            "wait_s": wait,
            "talk_s": talk,
            "source": source,
        }
        return self._row


def call_id(family: str, key: str) -> str:
    """``family:key``, hashed when too long for the column (the format's id stays readable if it fits)."""
    value = f"{family}:{key}"
    if len(value) <= 100:
        return value
    return f"{family}:sha256:{hashlib.sha256(key.encode()).hexdigest()[:64]}"


class Merger:
    """Calls by key, in the order their first leg was read."""

    def __init__(self) -> None:
        self.calls: dict[str, Call] = {}

    def add(self, leg: Leg) -> None:
        found = self.calls.get(leg.key)
        if found is None:
            found = self.calls[leg.key] = Call(leg.key)
        found.add(leg)

    def take(self, keys: list[str]) -> list[Call]:
        return [self.calls.pop(key) for key in keys]
