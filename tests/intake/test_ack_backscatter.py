"""Acknowledgements only to real senders: the backscatter attacks from the security review.

A forged From header used to get an acknowledgement quoting the forger's chosen name and
subject, with no limit, so the office could be made to mail anyone. Each test is one attack.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session

from casework.settings import Settings
from intake.authresults import sender_authenticated
from store.models import OutboxItem
from tests.conftest import make_settings
from tests.support.intake_mail import TRUSTED_AUTHSERV_ID, eml, later, make_pipeline


def _settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": 2525,
        "smtp_from": "casework@pcc.example.gov.uk",
        "trusted_authserv_id": TRUSTED_AUTHSERV_ID,
    }
    values.update(overrides)
    return make_settings(database_url, **values)


def _acks(engine: Engine) -> list[OutboxItem]:
    with Session(engine) as session:
        return list(session.scalars(select(OutboxItem).where(OutboxItem.kind == "email.ack")))  # type: ignore[arg-type]


def _letter(n: int, **fields: Any) -> bytes:
    fields.setdefault("subject", f"Letter {n}")
    return eml(message_id=f"<b{n}@example.org>", date=later(n), **fields)


def test_a_forged_from_without_trusted_authentication_results_gets_no_acknowledgement(
    database_url: str, engine: Engine
) -> None:
    settings = _settings(database_url)
    forged = _letter(1, sender="Victim <victim@example.org>")
    outcome = make_pipeline(settings, engine).process(forged, source="a")
    assert outcome.kind == "opened"  # the letter is still logged
    assert _acks(engine) == []


def test_authentication_results_from_another_authserv_id_are_ignored(
    database_url: str, engine: Engine
) -> None:
    """The forger writes their own ``dmarc=pass`` header; only our server's id counts."""
    settings = _settings(database_url)
    forged = _letter(
        1,
        sender="Victim <victim@example.org>",
        headers={"Authentication-Results": "mx.forger.example; dmarc=pass header.from=example.org"},
    )
    make_pipeline(settings, engine).process(forged, source="a")
    assert _acks(engine) == []


def test_a_failed_or_unaligned_result_from_our_server_gets_none(database_url: str, engine: Engine) -> None:
    settings = _settings(database_url)
    pipeline = make_pipeline(settings, engine)
    for n, result in enumerate(
        (
            "dmarc=fail header.from=example.org",
            "spf=pass smtp.mailfrom=spammer.example",  # passed, but for another domain
            "dkim=pass header.d=spammer.example",
        ),
        1,
    ):
        header = {"Authentication-Results": f"{TRUSTED_AUTHSERV_ID}; {result}"}
        raw = _letter(n, sender=f"V{n} <v{n}@example.org>", headers=header)
        pipeline.process(raw, source="a")
    assert _acks(engine) == []


def test_an_authenticated_sender_is_acknowledged_with_their_name_and_subject(
    database_url: str, engine: Engine
) -> None:
    settings = _settings(database_url)
    make_pipeline(settings, engine).process(_letter(1, authenticated=True), source="a")
    [row] = _acks(engine)
    assert "Alice Example" in row.payload["body"] and "Letter 1" in row.payload["body"]


def test_at_most_three_acknowledgements_per_address_per_day(database_url: str, engine: Engine) -> None:
    """Forty letters on forty subjects (forty cases) from one address: three acknowledgements."""
    settings = _settings(database_url)
    pipeline = make_pipeline(settings, engine)
    for n in range(1, 21):  # one at a time
        pipeline.process(
            _letter(n, authenticated=True, body=f"Letter number {n} about topic {n * 7}."), source="a"
        )
    assert len(_acks(engine)) == 3
    batch = [
        (
            _letter(
                n, sender="Bob <bob@example.net>", authenticated=True, body=f"Note {n} on subject {n * 3}."
            ),
            "a",
        )
        for n in range(21, 41)
    ]
    pipeline.process_batch(batch)  # and all in one batch (rows held back until the commit)
    assert sum(1 for row in _acks(engine) if row.target == "bob@example.net") == 3


def test_without_required_auth_an_unauthenticated_sender_is_not_echoed(
    database_url: str, engine: Engine
) -> None:
    settings = _settings(database_url, ack_require_auth=False)
    forged = _letter(
        1, sender="Buy Pills Now <victim@example.org>", subject="CHEAP PILLS http://spam.example"
    )
    make_pipeline(settings, engine).process(forged, source="a")
    [row] = _acks(engine)
    text = row.payload["subject"] + row.payload["body"]
    assert "Pills" not in text and "spam.example" not in text


def test_authentication_results_parsing() -> None:
    ok = [f"{TRUSTED_AUTHSERV_ID} (comment); spf=pass smtp.mailfrom=bounce.example.org; dkim=fail"]
    assert sender_authenticated(ok, trusted_id=TRUSTED_AUTHSERV_ID, from_addr="a@example.org")
    dkim = [f"{TRUSTED_AUTHSERV_ID}; dkim=pass (good) header.d=example.org header.s=sel"]
    assert sender_authenticated(dkim, trusted_id=TRUSTED_AUTHSERV_ID, from_addr="a@mail.example.org")
    # the topmost header of our id decides; a lower (older, forged) one does not
    two = [f"{TRUSTED_AUTHSERV_ID}; dmarc=fail", f"{TRUSTED_AUTHSERV_ID}; dmarc=pass"]
    assert not sender_authenticated(two, trusted_id=TRUSTED_AUTHSERV_ID, from_addr="a@example.org")
    assert not sender_authenticated(ok, trusted_id="", from_addr="a@example.org")
