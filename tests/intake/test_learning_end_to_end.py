"""Corrections made on real logged cases teach the classifier: pipeline → set-category → retrain.

Pins down that a label points at its message, and that retraining reads the message as the
classifier does (sender-domain and recipient markers included), so a correction such as "mail
from this neighbouring force is officer correspondence" generalises to new letters from it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from casework.settings import Settings
from intake.classify import load_classifier
from intake.parse import parse_message
from intake.pipeline import Pipeline
from store.db import session_scope
from store.models import ClassifierLabel
from tests.support.cli import run_cli

NEIGHBOUR = "staffordshire.pnn.police.uk"
TOPICS = [
    "the car park barrier at the station",
    "my locker being moved",
    "the canteen closing early",
    "the new radio handsets",
    "parking permits for night shift",
    "the gym opening hours",
    "the lift at headquarters",
    "the printer on our floor",
]
#: each officer writes in their own words, so the pipeline sees letters, not a campaign
BODIES = [
    "Since last month {t} has been a nuisance for everyone on my team and nobody seems to own it.",
    "Quick one: {t}. I have asked facilities twice without reply. Any chance of a nudge?",
    "I am writing because {t} keeps coming up at briefings and I said I would pass it on.",
    "Could someone look at {t}? It costs us time every single day and it would be easy to fix.",
    "Not urgent, but {t} is getting worse and I would rather flag it before winter.",
    "Apologies for writing directly. Regarding {t}, the workaround we use is not safe.",
    "On behalf of response team C: {t} is the thing people grumble about most this year.",
    "I was told to email you about {t}. Happy to explain more if it helps.",
]


def raw(n: int) -> bytes:
    return (
        f"From: Officer {n} <officer{n}@{NEIGHBOUR}>\r\nTo: casework@pcc.example.gov.uk\r\n"
        f"Subject: A note about {TOPICS[n % len(TOPICS)]}\r\nDate: Tue, 2 Apr 2013 10:0{n % 10}:00 +0100\r\n"
        f"Message-ID: <learn-{n}@{NEIGHBOUR}>\r\n\r\n"
        f"{BODIES[n % len(BODIES)].format(t=TOPICS[(n * 3) % len(TOPICS)])}\r\nOfficer {n}\r\n"
    ).encode()


def test_corrections_on_logged_cases_teach_the_sender_domain(
    engine: Engine,
    settings: Settings,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pipeline = Pipeline(settings, engine)
    taught = [pipeline.process(raw(n), source="test") for n in range(8)]
    assert all(o.kind == "opened" for o in taught)
    held_out = [parse_message(raw(n)) for n in range(100, 108)]
    with session_scope(engine) as session:
        before = load_classifier(session, settings)
    right_before = sum(before.classify(m).category == "officer_correspondence" for m in held_out)

    for outcome in taught:
        result = run_cli(
            [
                "case",
                "set-category",
                outcome.case_reference or "",
                "officer_correspondence",
                "--actor",
                "U42",
            ],
            database_url=database_url,
            monkeypatch=monkeypatch,
            capsys=capsys,
        )
        assert result.exit_code == 0, result.stderr
    with session_scope(engine) as session:
        labels = list(session.execute(select(ClassifierLabel)).scalars())
    assert labels and all(label.message_pk is not None and label.actor == "U42" for label in labels)

    result = run_cli(["retrain"], database_url=database_url, monkeypatch=monkeypatch, capsys=capsys)
    assert result.exit_code == 0 and "retrained" in result.stdout, result.stderr
    result = run_cli(["retrain"], database_url=database_url, monkeypatch=monkeypatch, capsys=capsys)
    assert "unchanged" in result.stdout
    with session_scope(engine) as session:
        after = load_classifier(session, settings)
    right_after = sum(after.classify(m).category == "officer_correspondence" for m in held_out)
    assert right_before <= 4 < right_after, (right_before, right_after)
