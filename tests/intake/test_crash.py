"""Crash safety: SIGKILL the poller at random moments while it ingests a mailbox, restart it,
and every message ends up logged exactly once (none lost, none doubled), on SQLite and
PostgreSQL, against a real Dovecot.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from casework.settings import Settings
from store.db import session_scope
from store.models import MailboxState, Message, QuarantinedMessage
from tests.support.dovecot import Dovecot, dovecot_fixture, make_message, message_id_of  # noqa: F401

pytestmark = pytest.mark.dovecot

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 60
MAX_KILLS = 3

#: one `poll --once` pass, as the command runs it, in a process of its own
ENTRY = """
import sys
from casework.settings import Settings
from store.db import make_engine
from intake.poller import poll_once
from intake.pipeline import Pipeline
import intake.poller
import intake.prepare
import time
intake.poller.BATCH = 4  # many commits per pass, so the kills land between (and inside) batches
intake.prepare.MIN_PARALLEL = 2  # and the batches are parsed by worker processes, as big ones are


class Paced(Pipeline):
    def process_batch(self, items, **kwargs):
        # batches are fast: without a pause the whole pass fits before the kill (0-0.5 s after
        # the first commit), and the test would prove nothing
        time.sleep(0.05)
        return super().process_batch(items, **kwargs)


settings = Settings(_env_file=None)
engine = make_engine(settings.database_url)
pipeline = Paced(settings, engine)
print("ready", flush=True)
print(poll_once(settings, engine, pipeline=pipeline), flush=True)
"""


def count_logged(engine: Engine) -> int:
    with session_scope(engine) as session:
        messages = session.execute(select(func.count()).select_from(Message)).scalar_one()
        held = session.execute(select(func.count()).select_from(QuarantinedMessage)).scalar_one()
    return int(messages) + int(held)


def test_sigkill_at_random_moments_loses_and_doubles_nothing(
    dovecot: Dovecot, settings: Settings, engine: Engine
) -> None:
    raws = [make_message(i, tag="crash") for i in range(MESSAGES)]
    for raw in raws:
        dovecot.deliver(raw)
    env = {
        **os.environ,
        **dovecot.env(settings.database_url),
    }
    rng = random.Random()  # truly random moments; the seed is printed on failure below
    seed = rng.randrange(1 << 30)
    rng.seed(seed)

    kills, partial_kills, finished = 0, 0, False
    while not finished and kills < MAX_KILLS:
        before = count_logged(engine)
        proc = subprocess.Popen([sys.executable, "-c", ENTRY], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)  # fmt: skip
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready", f"entry failed to start (seed {seed})"
        # Wait for this run's first commit (loading the classifier takes a while), then kill
        # it a random moment later: the kills land while it is ingesting.
        deadline = time.monotonic() + 30
        while proc.poll() is None and count_logged(engine) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        finished = proc.wait(timeout=30) == 0
        after = count_logged(engine)
        if kills and not finished and before < after < MESSAGES:
            partial_kills += 1

    # Restart: finish the job without interruption.
    result = subprocess.run([sys.executable, "-c", ENTRY], env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]

    expected = Counter(message_id_of(r) for r in raws)
    with session_scope(engine) as session:
        logged = Counter(m for (m,) in session.execute(select(Message.message_id)))
        held = Counter(message_id_of(r) for (r,) in session.execute(select(QuarantinedMessage.raw)))
        on_no_case = session.execute(
            select(func.count()).select_from(Message).where(Message.case_id.is_(None))  # type: ignore[union-attr]
        ).scalar_one()
        cases = session.execute(select(func.count(func.distinct(Message.case_id)))).scalar_one()
        last_uid = session.execute(select(MailboxState.last_uid)).scalar_one()
    context = f"(seed {seed}, {kills} kills, {partial_kills} mid-ingest)"
    assert logged + held == expected, f"lost or doubled messages {context}"
    assert not (set(logged) & set(held)), context
    assert on_no_case == 0, context
    assert cases == sum(logged.values()), f"each letter is its own case {context}"
    assert last_uid == MESSAGES
    with dovecot.client() as client:
        client.select_folder("INBOX", readonly=True)
        assert client.search(["NOT", "KEYWORD", settings.imap_processed_flag]) == [], context
    # The kills must really have landed in the middle of ingesting, or this proved nothing.
    assert partial_kills >= 1, f"no kill landed mid-ingest {context}"
