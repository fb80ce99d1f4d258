"""Batches: many messages in one transaction, each in its own SAVEPOINT, seeing each other."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from casework.settings import Settings
from intake.evaluate import evaluate
from intake.steps import Batch, Context
from intake.steps import store as store_step
from store.models import Case, CaseParticipant, Correspondent, Message, OutboxItem, QuarantinedMessage
from tests.conftest import CORPUS, make_settings, shared_or_skip
from tests.intake.test_campaigns import SENDERS, campaign_mail
from tests.support.intake_mail import eml, later, make_pipeline


def count(engine: Engine, model: Any) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_a_reply_in_the_same_batch_as_its_original_joins_it(settings: Settings, engine: Engine) -> None:
    reply = eml(subject="Re: Street lighting", message_id="<m2@example.org>", in_reply_to="<m1@example.org>",
                body="Still out, a week later.\n", date=later(60))  # fmt: skip
    first, second = make_pipeline(settings, engine).process_batch([(eml(), "a"), (reply, "a")])
    assert first.kind == "opened"
    assert (second.kind, second.case_reference) == ("attached", first.case_reference)
    assert count(engine, Case) == 1 and count(engine, Message) == 2


def test_sent_twice_and_same_bytes_in_one_batch(settings: Settings, engine: Engine) -> None:
    # the same letter again with a new Message-ID is "sent twice"; the same bytes are a duplicate
    again = eml(message_id="<m1-again@example.org>", date=later(2))
    outcomes = make_pipeline(settings, engine).process_batch([(eml(), "a"), (again, "a"), (eml(), "b")])
    assert [o.kind for o in outcomes] == ["opened", "attached", "duplicate"]
    assert len({o.case_reference for o in outcomes}) == 1
    assert count(engine, Message) == 2


def test_a_campaign_within_one_batch_is_one_case(settings: Settings, engine: Engine) -> None:
    outcomes = make_pipeline(settings, engine).process_batch([(campaign_mail(i), "a") for i in range(4)])
    # as one at a time: the second opened a case of its own, merged when the third came in
    assert outcomes[1].kind == "opened" and outcomes[1].case_reference != outcomes[0].case_reference
    assert outcomes[2].kind == outcomes[3].kind == "attached"
    assert outcomes[0].case_reference == outcomes[2].case_reference == outcomes[3].case_reference
    with Session(engine) as session:
        case = session.execute(select(Case)).scalar_one()  # the second case was merged away
        assert case.category == "campaign"
        participants = session.execute(select(CaseParticipant).where(CaseParticipant.case_id == case.id))  # type: ignore[arg-type]
        assert len(participants.all()) == 4 == len(SENDERS[:4])


def test_one_failing_message_is_quarantined_and_the_rest_kept(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = store_step.run

    def sometimes_broken(ctx: Context) -> None:
        real(ctx)  # writes first, so the SAVEPOINT really has something to roll back
        if "broken" in ctx.msg.subject:
            raise RuntimeError("bug in a step")

    monkeypatch.setattr(store_step, "run", sometimes_broken)
    items = [
        (eml(sender=f"p{i} <p{i}@example.org>", subject=f"letter {i}" + (" broken" if i == 1 else ""),
             message_id=f"<b{i}@example.org>"), "a")
        for i in range(3)
    ]  # fmt: skip
    outcomes = make_pipeline(settings, engine).process_batch([*items, (b"\x00\x01 not mail", "junk")])
    assert [o.kind for o in outcomes] == ["opened", "quarantined", "opened", "quarantined"]
    assert "RuntimeError: bug in a step" in outcomes[1].reason
    assert count(engine, Case) == 2 and count(engine, Message) == 2
    assert count(engine, QuarantinedMessage) == 2
    with Session(engine) as session:  # nothing of the failed message is left: no case, no outbox row
        keys = set(session.execute(select(OutboxItem.key)).scalars())  # type: ignore[call-overload]
    assert keys == {f"triage:{outcomes[0].case_reference}", f"triage:{outcomes[2].case_reference}"}
    # the references handed out stay unique and the failed message took none for good
    assert outcomes[0].case_reference != outcomes[2].case_reference


def test_a_batch_read_again_changes_nothing(settings: Settings, engine: Engine) -> None:
    # what a crash between the commit and the IMAP mark leads to
    pipeline = make_pipeline(settings, engine)
    items = [(campaign_mail(i), "a") for i in range(2)] + [(eml(), "a")]
    pipeline.process_batch(items)
    again = pipeline.process_batch(items)
    assert [o.kind for o in again] == ["duplicate"] * 3
    assert count(engine, Message) == 3


def test_a_row_another_instance_wrote_meanwhile_costs_a_retry_not_a_quarantine(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The batch believes alice has no correspondent row, but another instance wrote one after
    # the batch looked: the insert fails, and the message is done again without the caches.
    with Session(engine) as session:
        session.add(Correspondent(email="alice@example.org", name="Alice"))
        session.commit()
    real = Batch.prefetch

    def stale(self: Batch, session: Session, messages: list[Any]) -> None:
        real(self, session, messages)
        self.correspondents.clear()
        self.no_correspondent.add("alice@example.org")

    monkeypatch.setattr(Batch, "prefetch", stale)
    (outcome,) = make_pipeline(settings, engine).process_batch([(eml(), "a")])
    assert outcome.kind == "opened"
    assert count(engine, Correspondent) == 1 and count(engine, QuarantinedMessage) == 0


def test_the_dev_corpus_in_batches_groups_and_classifies_as_one_by_one() -> None:
    # replies, re-sends, duplicates, campaigns and automatic mail meet their originals inside
    # batches of 40 here (the corpus is logged in date order, as `casework eval` does)
    folder = shared_or_skip(CORPUS)
    result = evaluate(folder, make_settings("sqlite://"), batch_size=40)
    assert result["grouping"]["correct"] is True, result["grouping"]["errors"]
    assert result["macro_f1"] >= 0.99


def letter(n: int, **kwargs: Any) -> bytes:
    defaults = {
        "sender": f"Writer {n} <writer{n}@example.org>",
        "message_id": f"<w{n}@example.org>",
        "subject": f"Letter {n}",
        "body": f"Dear Commissioner,\n\nLetter number {n} about my road.\n",
    }
    return eml(**{**defaults, **kwargs})


def test_references_in_a_batch_are_consecutive_and_unused_numbers_go_back(
    settings: Settings, engine: Engine
) -> None:
    """A batch claims reference numbers ahead; what automatic mail and duplicates left unused
    is given back, so the next case (in the next batch) takes the next number: no gaps."""
    auto = letter(9, headers={"Auto-Submitted": "auto-replied"}, subject="Out of office")
    pipeline = make_pipeline(settings, engine)
    first = pipeline.process_batch(
        [(letter(1), "a"), (auto, "a"), (letter(2), "a"), (letter(1), "b"), (letter(3), "a")]
    )
    assert [o.kind for o in first] == ["opened", "automatic", "opened", "duplicate", "opened"]
    second = pipeline.process_batch([(letter(4), "a")])
    numbers = [int(str(o.case_reference).rsplit("-", 1)[1]) for o in [*first, *second] if o.kind == "opened"]
    assert numbers == [1, 2, 3, 4]
    with Session(engine) as session:
        # every held-back row went in with the ids it refers to
        for outcome in [*first, *second]:
            if outcome.kind != "opened":
                continue
            message = session.get(Message, outcome.message_pk)
            assert message is not None and message.case_id is not None
            case = session.get(Case, message.case_id)
            assert case is not None and case.reference == outcome.case_reference
            assert case.correspondent_id == message.correspondent_id is not None
            triage = session.execute(
                select(OutboxItem).where(OutboxItem.key == f"triage:{case.reference}")  # type: ignore[arg-type]
            ).scalar_one()
            assert triage.case_id == case.id


def test_a_new_sender_named_later_in_the_batch_gets_the_name(settings: Settings, engine: Engine) -> None:
    unnamed = letter(1, sender="writer1@example.org")
    named = letter(2, sender="Wendy Writer <writer1@example.org>")
    outcomes = make_pipeline(settings, engine).process_batch([(unnamed, "a"), (named, "a")])
    assert [o.kind for o in outcomes] == ["opened", "opened"]
    with Session(engine) as session:
        person = session.execute(select(Correspondent)).scalar_one()
        assert (person.email, person.name) == ("writer1@example.org", "Wendy Writer")
        assert {m.correspondent_id for m in session.execute(select(Message)).scalars()} == {person.id}


def test_acknowledgements_queued_in_a_batch_point_at_their_cases(database_url: str, engine: Engine) -> None:
    settings = make_settings(
        database_url,
        smtp_host="127.0.0.1",
        smtp_port=2525,
        smtp_from="casework@pcc.example.gov.uk",
        ack_require_auth=False,  # the point here is which case each row names
    )
    outcomes = make_pipeline(settings, engine).process_batch([(letter(n), "a") for n in range(1, 4)])
    with Session(engine) as session:
        acks = session.execute(select(OutboxItem).where(OutboxItem.kind == "email.ack")).scalars().all()  # type: ignore[arg-type]
        assert len(acks) == 3
        by_case = {session.get(Case, ack.case_id).reference: ack.target for ack in acks}  # type: ignore[union-attr]
        assert by_case == {o.case_reference: f"writer{n}@example.org" for n, o in enumerate(outcomes, 1)}
