"""Named single-holder locks, so that only one poller (or scheduler) works at a time.

No extra server is needed:

* **PostgreSQL**: ``pg_try_advisory_lock`` on a connection kept open for as long as the lock
  is held. The server releases it by itself when that connection ends, so a process that is
  killed cannot leave a stale lock behind.
* **SQLite** (and anything else): a row in the ``leases`` table with an expiry. A background
  thread renews it while it is held. A lease whose holder died is taken over when it expires,
  or at once when the holder was a process on this same machine that no longer exists (holder
  strings made by :func:`default_holder` say which host and pid they belong to).

Use::

    with hold(engine, "imap-poller", holder=default_holder()) as held:
        if held:
            ...  # this process is the only holder
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import Connection, Engine, delete, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from store.models import Lease
from store.types import utcnow

log = logging.getLogger(__name__)

_TABLE = Lease.__table__  # type: ignore[attr-defined]


def default_holder() -> str:
    """``host:pid:random``: unique per holder, and says which process holds a lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(f"casework:{name}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def hold(engine: Engine, name: str, *, holder: str, ttl_seconds: float = 60) -> Iterator[bool]:
    """Try once to take the lock ``name``; yield True when this holder has it, else False.

    The lock is released when the block ends (also on an exception). Never blocks waiting.
    """
    if engine.dialect.name == "postgresql":
        with _hold_advisory(engine, name) as held:
            yield held
    else:
        with _hold_row(engine, name, holder=holder, ttl_seconds=ttl_seconds) as held:
            yield held


# --- PostgreSQL: advisory lock on a dedicated connection ------------------------------------


@contextmanager
def _hold_advisory(engine: Engine, name: str) -> Iterator[bool]:
    key = _lock_key(name)
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
    except BaseException:
        conn.invalidate()
        conn.close()
        raise
    try:
        yield held
    finally:
        if held:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            except Exception:
                # The connection is gone, and with it the lock; never hand a locked
                # connection back to the pool.
                conn.invalidate()
        conn.close()


# --- SQLite and others: a row with an expiry, renewed ----------------------------------------


def _holder_is_dead(holder: str) -> bool:
    """True when ``holder`` names a process on this machine that no longer runs."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            # A zombie still answers kill(pid, 0), but it holds nothing any more.
            return stat.read().rsplit(")", 1)[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _try_take(conn: Connection, name: str, holder: str, ttl_seconds: float) -> bool:
    now = utcnow()
    current = conn.execute(select(_TABLE.c.holder, _TABLE.c.expires_at).where(_TABLE.c.name == name)).first()
    if current is not None and current.holder != holder and current.expires_at > now:
        if not _holder_is_dead(current.holder):
            return False
        log.warning("lease %s: holder %s has died; taking over", name, current.holder)
        conn.execute(delete(_TABLE).where(_TABLE.c.name == name, _TABLE.c.holder == current.holder))
    expires = now + timedelta(seconds=ttl_seconds)
    stmt = sqlite_insert(_TABLE).values(name=name, holder=holder, expires_at=expires)
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": holder, "expires_at": expires},
        # Only an expired lease, or our own, may be overwritten: checked in the same
        # statement, so two processes racing here cannot both win.
        where=(_TABLE.c.expires_at <= now) | (_TABLE.c.holder == holder),
    )
    conn.execute(stmt)
    return conn.execute(select(_TABLE.c.holder).where(_TABLE.c.name == name)).scalar() == holder


def _begin_immediate(engine: Engine) -> Connection:
    conn = engine.connect()
    if engine.dialect.name == "sqlite":
        # Take SQLite's write lock before reading, so read-check-write is one step.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    return conn


def _take(engine: Engine, name: str, holder: str, ttl_seconds: float) -> bool:
    conn = _begin_immediate(engine)
    try:
        taken = _try_take(conn, name, holder, ttl_seconds)
        conn.commit()
        return taken
    finally:
        conn.close()


def _renew(engine: Engine, name: str, holder: str, ttl_seconds: float) -> bool:
    with engine.begin() as conn:
        result = conn.execute(
            _TABLE.update()
            .where(_TABLE.c.name == name, _TABLE.c.holder == holder)
            .values(expires_at=utcnow() + timedelta(seconds=ttl_seconds))
        )
        return bool(result.rowcount)


def _release(engine: Engine, name: str, holder: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(_TABLE).where(_TABLE.c.name == name, _TABLE.c.holder == holder))


@contextmanager
def _hold_row(engine: Engine, name: str, *, holder: str, ttl_seconds: float) -> Iterator[bool]:
    if not _take(engine, name, holder, ttl_seconds):
        yield False
        return
    stop = threading.Event()

    def renew() -> None:
        # Renew at a third of the time to live, so one slow renewal does not lose the lease.
        while not stop.wait(ttl_seconds / 3):
            try:
                if not _renew(engine, name, holder, ttl_seconds):
                    log.error("lease %s: lost to another holder", name)
                    return
            except Exception:
                log.exception("lease %s: renewal failed; will retry", name)

    renewer = threading.Thread(target=renew, name=f"lease-{name}", daemon=True)
    renewer.start()
    try:
        yield True
    finally:
        stop.set()
        renewer.join(timeout=5)
        try:
            _release(engine, name, holder)
        except Exception:
            log.exception("lease %s: could not release; it expires by itself", name)


def current_holder(engine: Engine, name: str) -> str | None:
    """Who holds the row lease ``name`` now (None when free or expired); SQLite leases only."""
    with engine.connect() as conn:
        row = conn.execute(select(_TABLE.c.holder, _TABLE.c.expires_at).where(_TABLE.c.name == name)).first()
    if row is None or row.expires_at <= utcnow():
        return None
    return str(row.holder)
