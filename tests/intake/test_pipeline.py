"""The pipeline's contract: one message → one case (or the quarantine), committed, idempotent."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from casework.settings import Settings
from intake.pipeline import STEPS, Pipeline
from intake.steps import Context
from intake.steps import store as store_step
from store.enums import Status
from store.models import Case, CaseParticipant, Message, OutboxItem, QuarantinedMessage
from tests.support.intake_mail import eml, make_pipeline


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_steps_are_named_in_order() -> None:
    # the pipeline is a tuple of step names (Mailman style), parse → … → acknowledge
    assert STEPS == (
        "outgoing", "dedupe", "thread", "automatic", "campaign", "classify", "store", "propose", "surgery",
        "acknowledge",
    )  # fmt: skip


def test_new_message_opens_case_with_triage_outbox_row(settings: Settings, engine: Engine) -> None:
    raw = eml()
    outcome = make_pipeline(settings, engine).process(raw, source="test:1")
    assert (
        outcome.kind == "opened"
        and outcome.case_reference
        and outcome.case_reference.startswith("WMOPC-2013-")
    )
    with Session(engine) as session:
        case = session.execute(select(Case)).scalar_one()
        message = session.get(Message, outcome.message_pk)
        assert message is not None and message.case_id == case.id and message.raw == raw
        assert message.source == "test:1" and message.automatic is None
        row = session.execute(select(OutboxItem)).scalar_one()
        assert (row.key, row.kind, row.payload, row.case_id) == (
            f"triage:{case.reference}",
            "slack.triage",
            {"reference": case.reference},
            case.id,
        )
        assert case.received_on.isoformat() == "2013-03-04"  # date of receipt comes from the message
        assert session.execute(select(func.count()).select_from(CaseParticipant)).scalar_one() == 1


def test_same_bytes_twice_is_a_duplicate_and_changes_nothing(settings: Settings, engine: Engine) -> None:
    pipeline = make_pipeline(settings, engine)
    first = pipeline.process(eml(), source="a")
    before = [count(engine, m) for m in (Case, Message, OutboxItem, QuarantinedMessage)]
    again = pipeline.process(eml(), source="a")
    assert again.kind == "duplicate" and again.case_reference == first.case_reference
    assert again.message_pk == first.message_pk
    assert [count(engine, m) for m in (Case, Message, OutboxItem, QuarantinedMessage)] == before


def test_same_message_id_with_other_bytes_is_a_duplicate(settings: Settings, engine: Engine) -> None:
    # a restart may fetch the message again with a different Received: header in front
    pipeline = make_pipeline(settings, engine)
    pipeline.process(eml(), source="a")
    outcome = pipeline.process(b"Received: from relay\r\n" + eml(), source="b")
    assert outcome.kind == "duplicate"
    assert count(engine, Message) == 1


def test_reused_message_id_on_a_different_letter_is_not_lost(settings: Settings, engine: Engine) -> None:
    # some mailers stamp every message with the same Message-ID; the second letter must be logged
    pipeline = make_pipeline(settings, engine)
    pipeline.process(eml(), source="a")
    other = eml(sender="bob@example.net", subject="Burglary", body="My shed was broken into last night.\n")
    assert pipeline.process(other, source="b").kind == "opened"
    assert count(engine, Message) == 2


def test_without_message_id_dedupe_uses_the_raw_bytes(settings: Settings, engine: Engine) -> None:
    pipeline = make_pipeline(settings, engine)
    assert pipeline.process(eml(message_id=None), source="a").kind == "opened"
    assert pipeline.process(eml(message_id=None), source="a").kind == "duplicate"
    assert (
        pipeline.process(
            eml(message_id=None, body="Another letter entirely, about parking.\n"), source="a"
        ).kind
        == "opened"
    )
    assert count(engine, Case) == 2


def test_a_failing_step_shunts_to_quarantine_and_stores_nothing(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(ctx: object) -> None:
        raise RuntimeError("bug in a step")

    monkeypatch.setattr(store_step, "run", broken)
    raw = eml()
    outcome = make_pipeline(settings, engine).process(raw, source="imap:INBOX/7")
    assert outcome.kind == "quarantined" and "RuntimeError: bug in a step" in outcome.reason
    assert count(engine, Case) == count(engine, Message) == count(engine, OutboxItem) == 0
    with Session(engine) as session:
        held = session.execute(select(QuarantinedMessage)).scalar_one()
        assert held.raw == raw and held.source == "imap:INBOX/7" and "bug in a step" in held.reason


def test_not_an_email_is_quarantined_with_a_reason(settings: Settings, engine: Engine) -> None:
    outcome = make_pipeline(settings, engine).process(b"\x00\x01\x02 binary junk", source="x")
    assert outcome.kind == "quarantined" and "not an email" in outcome.reason
    assert count(engine, QuarantinedMessage) == 1 and count(engine, Message) == 0


def test_out_of_office_without_a_case_is_stored_alone(settings: Settings, engine: Engine) -> None:
    raw = eml(
        subject="Automatic reply: Meeting",
        body="I am out of the office until Monday.\n",
        headers={"Auto-Submitted": "auto-replied"},
    )
    outcome = make_pipeline(settings, engine).process(raw, source="a")
    assert outcome.kind == "automatic" and outcome.case_reference is None
    with Session(engine) as session:
        message = session.get(Message, outcome.message_pk)
        assert message is not None and message.case_id is None and message.automatic
    assert count(engine, Case) == 0 and count(engine, OutboxItem) == 0


def test_automatic_reply_on_a_closed_case_is_kept_there_without_reopening(
    settings: Settings, engine: Engine
) -> None:
    pipeline = make_pipeline(settings, engine)
    opened = pipeline.process(eml(), source="a")
    with Session(engine) as session:
        case = session.execute(select(Case)).scalar_one()
        case.status = Status.CLOSED.value
        session.add(case)
        session.commit()
    auto = eml(
        sender="Alice Example <alice@example.org>",
        subject="Automatic reply: Street lighting",
        message_id="<ooo@example.org>",
        in_reply_to="<m1@example.org>",
        body="I am away until Monday.\n",
        headers={"Auto-Submitted": "auto-replied"},
    )
    outcome = pipeline.process(auto, source="a")
    assert outcome.kind == "automatic" and outcome.case_reference == opened.case_reference
    with Session(engine) as session:
        status = session.execute(select(Case.status)).scalar_one()  # type: ignore[call-overload]
        assert status == Status.CLOSED.value


def test_bounce_quoting_the_original_joins_its_case(settings: Settings, engine: Engine) -> None:
    pipeline = make_pipeline(settings, engine)
    opened = pipeline.process(eml(), source="a")
    bounce = (
        b"From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\r\n"
        b"To: casework@pcc.example.gov.uk\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Date: Mon, 4 Mar 2013 11:00:00 +0000\r\nMessage-ID: <bounce1@mx.example.org>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n"
        b"Final-Recipient: rfc822; alice@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: casework@pcc.example.gov.uk\r\n"
        b"To: alice@example.org\r\nMessage-ID: <m1@example.org>\r\nSubject: Street lighting\r\n"
        b"--B--\r\n"
    )
    outcome = pipeline.process(bounce, source="a")
    assert outcome.kind == "automatic" and outcome.case_reference == opened.case_reference
    assert count(engine, Case) == 1


def test_pipeline_with_given_steps_runs_only_those(settings: Settings, engine: Engine) -> None:
    # the step tuple is the pipeline: without "store" nothing is written, and the outcome says so
    pipeline = Pipeline(settings, engine, steps=("dedupe",))
    assert pipeline.process(eml(), source="a").kind == "quarantined"
    assert count(engine, Message) == 0 and count(engine, QuarantinedMessage) == 1


def test_a_running_pipeline_picks_up_a_newly_trained_model(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import intake.classify
    import intake.pipeline
    from store.models import ClassifierModel
    from tests.support.intake_mail import StandInClassifier

    loads: list[int] = []

    def fake_load(session: Session, settings: Settings, model_id: int | None = None) -> StandInClassifier:
        loads.append(1)
        return StandInClassifier()

    monkeypatch.setattr(intake.classify, "load_classifier", fake_load)
    monkeypatch.setattr(intake.pipeline, "MODEL_CHECK_SECONDS", 0.0)
    pipeline = Pipeline(settings, engine)
    pipeline.process(eml(), source="a")
    pipeline.process(eml(message_id="<n2@x>", body="Second letter about the bins.\n"), source="a")
    assert len(loads) == 1  # no new model: the loaded classifier is kept
    with Session(engine) as session:
        session.add(ClassifierModel(label_count=1, data={"counts": {}}))
        session.commit()
    pipeline.process(eml(message_id="<n3@x>", body="Third letter about the parking.\n"), source="a")
    assert len(loads) == 2


def test_a_parser_bug_is_quarantined_not_raised(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import intake.prepare

    def broken(raw: bytes, **limits: int) -> None:
        raise IndexError("parser bug")

    monkeypatch.setattr(intake.prepare, "parse_message", broken)
    outcome = make_pipeline(settings, engine).process(eml(), source="a")
    assert outcome.kind == "quarantined" and "the parser failed: IndexError: parser bug" in outcome.reason
    assert count(engine, QuarantinedMessage) == 1


def test_nul_characters_in_the_text_are_stored(settings: Settings, engine: Engine) -> None:
    # PostgreSQL refuses NUL in text columns; broken mailers send it
    raw = eml(body="Dear Commissioner,\nmy letter\x00 has a NUL in it.\n", subject="Nul\x00 subject")
    outcome = make_pipeline(settings, engine).process(raw, source="a")
    assert outcome.kind == "opened", outcome.reason
    with Session(engine) as session:
        message = session.get(Message, outcome.message_pk)
        assert message is not None and "has a NUL" in message.body_text and "\x00" not in message.body_text


def test_race_with_another_process_logging_the_same_message_is_a_duplicate(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # two instances fetch the same message: both pass dedupe, the second insert hits the
    # unique raw_sha256 at commit — that must read as "duplicate", not an error or quarantine
    from intake.steps import dedupe

    pipeline = make_pipeline(settings, engine)
    first = pipeline.process(eml(), source="a")
    monkeypatch.setattr(dedupe, "run", lambda ctx: None)  # as if the other commit came just after
    second = pipeline.process(eml(), source="b")
    assert (second.kind, second.message_pk, second.case_reference) == (
        "duplicate",
        first.message_pk,
        first.case_reference,
    )
    assert count(engine, Message) == 1 and count(engine, Case) == 1 and count(engine, QuarantinedMessage) == 0


def test_a_fault_is_logged_with_the_message_id_but_not_the_mail(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(ctx: Context) -> None:
        raise ValueError(f"could not handle {ctx.msg.from_addr}: {ctx.msg.body_text}")

    monkeypatch.setattr(store_step, "run", broken)
    with caplog.at_level("INFO"):
        make_pipeline(settings, engine).process(eml(), source="imap:INBOX/9")
    assert "<m1@example.org>" in caplog.text and "ValueError" in caplog.text and "in broken" in caplog.text
    assert "alice@example.org" not in caplog.text and "street lights" not in caplog.text
