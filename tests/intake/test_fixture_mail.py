"""Every real-world message in ../shared/fixtures/mail is logged without a crash.

Each becomes a case, an automatic message, or is held in the quarantine with a reason — and
each is accounted for exactly once in the store.
"""

from __future__ import annotations

import csv

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from casework.settings import Settings
from store.models import Message, QuarantinedMessage
from tests.conftest import MAIL_FIXTURES, shared_or_skip
from tests.support.intake_mail import make_pipeline


def test_every_fixture_is_logged_or_held_with_a_reason(settings: Settings, engine: Engine) -> None:
    folder = shared_or_skip(MAIL_FIXTURES)
    with (folder / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        paths = [row["path"] for row in csv.DictReader(handle, delimiter="\t")]
    assert len(paths) > 250
    pipeline = make_pipeline(settings, engine)
    kinds: dict[str, int] = {}
    crashed = []
    for path in paths:
        outcome = pipeline.process((folder / path).read_bytes(), source=f"fixture:{path}")
        kinds[outcome.kind] = kinds.get(outcome.kind, 0) + 1
        if outcome.kind == "quarantined":
            assert outcome.reason, path
            if "intake failed" in outcome.reason:  # a bug in a step, not unreadable input
                crashed.append((path, outcome.reason))
    assert crashed == []
    assert kinds.get("opened", 0) > 100 and kinds.get("automatic", 0) > 10
    with Session(engine) as session:
        stored = session.execute(select(func.count()).select_from(Message)).scalar_one()
        held = session.execute(select(func.count()).select_from(QuarantinedMessage)).scalar_one()
    assert stored + held + kinds.get("duplicate", 0) == len(paths)
    assert held == kinds.get("quarantined", 0)
