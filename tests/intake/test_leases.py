"""Named single-holder leases (store.leases): one holder at a time, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from casework.settings import Settings
from intake.poller import LEASE_NAME, PollerBusy, poll_once
from store.db import make_engine, session_scope
from store.leases import current_holder, default_holder, hold
from store.models import Lease
from store.types import utcnow


def test_only_one_holder_at_a_time(engine: Engine) -> None:
    """A second holder is refused while the first holds the lease, and gets it once released."""
    with hold(engine, "job", holder="a") as first:
        assert first is True
        with hold(engine, "job", holder="b") as second:
            assert second is False
        with hold(engine, "other-job", holder="b") as other:
            assert other is True  # names are independent
    with hold(engine, "job", holder="b") as again:
        assert again is True


def test_two_threads_racing_one_wins(settings: Settings) -> None:
    """Eight threads with their own engines try at once: exactly one holds it."""
    engines = [make_engine(settings.database_url) for _ in range(8)]
    barrier = threading.Barrier(len(engines))
    release = threading.Event()
    results: list[bool] = []

    def contend(i: int) -> None:
        barrier.wait()
        with hold(engines[i], "race", holder=f"h{i}") as held:
            results.append(held)
            release.wait(5)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(len(engines))]
    for t in threads:
        t.start()
    while len(results) < len(engines) and any(t.is_alive() for t in threads):
        threading.Event().wait(0.02)
    release.set()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    assert sorted(results) == [False] * (len(engines) - 1) + [True]


def test_held_lease_refuses_poll_once(settings: Settings, engine: Engine) -> None:
    """poll_once while another poller holds the lease: a clear refusal, nothing done."""
    imap = {"imap_host": "127.0.0.1", "imap_user": "u", "imap_password": SecretStr("p")}
    cfg = settings.model_copy(update=imap)
    with hold(engine, LEASE_NAME, holder="someone-else") as held:
        assert held
        with pytest.raises(PollerBusy, match="Another casework poller"):
            poll_once(cfg, engine)


def test_killed_holder_frees_the_lease(settings: Settings, engine: Engine) -> None:
    """A holder killed with SIGKILL cannot keep the lease (PostgreSQL: connection gone; SQLite: dead pid)."""
    code = (
        "import sys, time\n"
        "from store.db import make_engine\n"
        "from store.leases import default_holder, hold\n"
        "e = make_engine(sys.argv[1])\n"
        "with hold(e, 'killed', holder=default_holder(), ttl_seconds=600) as held:\n"
        "    print(held, flush=True)\n"
        "    time.sleep(60)\n"
    )
    args = [sys.executable, "-c", code, settings.database_url]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "True"
        with hold(engine, "killed", holder="me") as held:
            assert held is False  # it is alive and holds it
    finally:
        proc.kill()
        proc.wait()
    deadline = utcnow() + timedelta(seconds=10)
    while True:
        with hold(engine, "killed", holder="me") as held:
            if held or utcnow() > deadline:
                break
    assert held is True


def test_sqlite_lease_expires_and_is_renewed(sqlite_url: str) -> None:
    """SQLite: an expired row is taken over; a held one is renewed so it does not expire under us."""
    engine = make_engine(sqlite_url)
    with session_scope(engine) as session:
        session.add(Lease(name="stale", holder="elsewhere:1:x", expires_at=utcnow() - timedelta(seconds=1)))
    with hold(engine, "stale", holder="me") as held:
        assert held
        assert current_holder(engine, "stale") == "me"

    with hold(engine, "renewed", holder="me", ttl_seconds=0.6) as held:
        assert held
        threading.Event().wait(1.5)  # longer than the time to live: the renewal keeps it
        assert current_holder(engine, "renewed") == "me"
        with hold(engine, "renewed", holder="other") as other:
            assert other is False
    assert current_holder(engine, "renewed") is None  # released on exit
    engine.dispose()


def test_default_holder_names_this_process() -> None:
    import os
    import socket

    host, pid, _ = default_holder().split(":")
    assert (host, int(pid)) == (socket.gethostname(), os.getpid())
