"""Human-friendly, unique case references such as ``WMOPC-2013-000123``.

Numbers come from a counter row per prefix and year, taken under a row lock on PostgreSQL
(``SELECT … FOR UPDATE``) and inside the single-writer transaction on SQLite, so two
instances never hand out the same number.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from store.models import ReferenceCounter


def next_reference(session: Session, *, prefix: str, year: int) -> str:
    scope = f"{prefix}-{year}"
    for _attempt in range(5):
        counter = session.execute(
            select(ReferenceCounter).where(ReferenceCounter.scope == scope).with_for_update()  # type: ignore[arg-type]
        ).scalar_one_or_none()
        if counter is None:
            try:
                with session.begin_nested():
                    counter = ReferenceCounter(scope=scope, last_number=0)
                    session.add(counter)
                    session.flush()
            except IntegrityError:
                continue  # another instance created it first: lock theirs
        counter.last_number += 1
        session.add(counter)
        session.flush()
        return f"{scope}-{counter.last_number:06d}"
    raise RuntimeError(f"could not allocate a reference for {scope}")


def bump_past(session: Session, *, reference: str) -> None:
    """After importing ``reference`` from history, make sure new numbers never collide with it."""
    parts = reference.rsplit("-", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        return
    scope, number = f"{parts[0]}-{parts[1]}", int(parts[2])
    counter = session.get(ReferenceCounter, scope)
    if counter is None:
        session.add(ReferenceCounter(scope=scope, last_number=number))
    elif counter.last_number < number:
        counter.last_number = number
        session.add(counter)


def claim_reference(session: Session, *, prefix: str, year: int) -> str:
    """:func:`next_reference` in one round trip once the counter row exists.

    ``UPDATE … SET last_number = last_number + 1 … RETURNING`` takes the row lock (PostgreSQL)
    or the write lock (SQLite) and bumps the number in the same statement, so it is as safe
    across instances as the ``SELECT … FOR UPDATE`` of :func:`next_reference`, which is used
    to create the row the first time a scope is seen.
    """
    scope = f"{prefix}-{year}"
    number = session.connection().execute(_BUMP, {"wanted": scope}).scalar_one_or_none()
    if number is None:
        return next_reference(session, prefix=prefix, year=year)
    return f"{scope}-{number:06d}"


_COUNTERS = ReferenceCounter.__table__  # type: ignore[attr-defined]
#: built once: the statement of :func:`claim_reference`
_BUMP = (
    update(_COUNTERS)
    .where(_COUNTERS.c.scope == bindparam("wanted"))
    .values(last_number=_COUNTERS.c.last_number + 1)
    .returning(_COUNTERS.c.last_number)
)


class ReferenceBlocks:
    """Reference numbers claimed ahead for a batch of new cases; unused ones given back.

    One ``UPDATE … + size`` claims a block instead of one statement a case. The counter row
    stays locked by the claiming transaction until it ends (a row lock on PostgreSQL, the write
    lock on SQLite), so no other instance can move it meanwhile, and :meth:`give_back` (called
    before the commit) lowers it again by the numbers not used: references stay gapless.
    """

    def __init__(self, prefix: str, size: int) -> None:
        self.prefix, self.size = prefix, max(1, size)
        #: scope → numbers claimed and not yet used, ascending (the highest claimed last)
        self._free: dict[str, list[int]] = {}

    def take(self, session: Session, *, year: int) -> str:
        scope = f"{self.prefix}-{year}"
        free = self._free.get(scope)
        if not free:
            free = self._free[scope] = self._claim(session, scope=scope, year=year)
        return f"{scope}-{free.pop(0):06d}"

    def _claim(self, session: Session, *, scope: str, year: int) -> list[int]:
        claim = {"wanted": scope, "count": self.size}
        top = session.connection().execute(_BUMP_BY, claim).scalar_one_or_none()
        if top is None:  # the scope's first case: create the counter row the careful way
            return [int(next_reference(session, prefix=self.prefix, year=year).rsplit("-", 1)[1])]
        return list(range(top - self.size + 1, top + 1))

    def give_back(self, session: Session) -> None:
        """Return the unused numbers to their counters (before the transaction commits)."""
        for scope, free in self._free.items():
            if free:
                session.connection().execute(_LOWER, {"wanted": scope, "count": len(free), "top": free[-1]})
        self._free.clear()


#: built once: the statements of :class:`ReferenceBlocks`
_BUMP_BY = (
    update(_COUNTERS)
    .where(_COUNTERS.c.scope == bindparam("wanted"))
    .values(last_number=_COUNTERS.c.last_number + bindparam("count"))
    .returning(_COUNTERS.c.last_number)
)
_LOWER = (
    update(_COUNTERS)
    .where(_COUNTERS.c.scope == bindparam("wanted"), _COUNTERS.c.last_number == bindparam("top"))
    .values(last_number=_COUNTERS.c.last_number - bindparam("count"))
)
