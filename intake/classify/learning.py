"""Learning from caseworkers: load the newest stored model, retrain from the stored labels.

Labels are :class:`store.models.ClassifierLabel` rows, written by ``store.cases.set_category``
whenever a person corrects a category (Slack or ``casework case set-category``). ``retrain`` is
cheap (naive Bayes counts), so the scheduler can run it nightly and a command can run it on demand.
"""

from __future__ import annotations

import logging

from sqlmodel import Session, col, select

from casework.settings import Settings
from intake.classify import calibration
from intake.classify.classifier import Classifier, train
from intake.classify.text import model_text
from intake.message import ParsedMessage
from intake.parse import Unparseable, parse_message
from store.enums import Category, Status
from store.models import Case, ClassifierLabel, ClassifierModel, Message

log = logging.getLogger(__name__)

#: closed cases needed before the office's own mail replaces the shipped calibration map
CALIBRATION_MIN_CASES = 200
#: the newest closed cases read to fit it (bounded: retraining runs nightly)
CALIBRATION_MAX_CASES = 2000
_FOLDS = 5


def _message_texts(session: Session, message_pks: set[int]) -> dict[int, str]:
    """What the model reads for each labelled message, rebuilt from its raw bytes.

    A label points at the message it is about; re-parsing it gives the model the same text it
    sees when classifying (sender-domain and recipient markers included), which the plain
    subject-and-body text stored on the label lacks.
    """
    found: dict[int, str] = {}
    for pk in sorted(message_pks):
        message = session.get(Message, pk)
        if message is None:
            continue
        try:
            found[pk] = model_text(parse_message(message.raw))
        except Unparseable:
            continue
    return found


def newest_model(session: Session) -> ClassifierModel | None:
    statement = select(ClassifierModel).order_by(col(ClassifierModel.id).desc()).limit(1)
    return session.exec(statement).first()


def load_classifier(session: Session, settings: Settings, model_id: int | None = None) -> Classifier:
    """The classifier with stored model ``model_id`` (default: the newest), or the seed-only model
    when there is none (an intake worker asks for the model its pipeline uses, by id)."""
    row = newest_model(session) if model_id is None else session.get(ClassifierModel, model_id)
    data = row.data if row is not None and isinstance(row.data, dict) and row.data.get("counts") else None
    return Classifier.from_settings(settings, model=data)


def retrain(session: Session, settings: Settings, *, force: bool = False) -> ClassifierModel | None:
    """Train on every label and store a new model; None when no label is newer than the newest model."""
    labels = session.exec(select(ClassifierLabel).order_by(col(ClassifierLabel.id))).all()
    last_label_id = max((label.id or 0 for label in labels), default=0)
    row = newest_model(session)
    trained_up_to = int((row.data or {}).get("last_label_id", 0)) if row is not None else 0
    if not force and (not labels or (row is not None and last_label_id <= trained_up_to)):
        return None
    # a case corrected twice: the latest decision about the same text is the truth
    latest: dict[tuple[int | None, str], str] = {}
    texts = _message_texts(session, {label.message_pk for label in labels if label.message_pk})
    for label in labels:
        text = texts.get(label.message_pk or 0) or label.text
        if text.strip():
            latest[(label.case_id, text)] = label.category
    examples = [(text, category) for (_case, text), category in latest.items()]
    data = train(examples)
    data["last_label_id"] = last_label_id
    decided = _decided(session, CALIBRATION_MAX_CASES)
    if len(decided) >= CALIBRATION_MIN_CASES:
        by_case = [(case or 0, text, category) for (case, text), category in latest.items()]
        data["calibration"] = {**_office_calibration(settings, by_case, decided), "source": "closed cases"}
    # label_count counts label rows (what the scheduler compares with); the model's own
    # data["label_count"] counts the distinct examples it learned from
    stored = ClassifierModel(label_count=len(labels), data=data)
    session.add(stored)
    session.flush()
    log.info("classifier retrained on %d labels (model %s)", len(examples), stored.id)
    return stored


def _decided(session: Session, limit: int) -> list[tuple[int, ParsedMessage, str]]:
    """The newest closed cases (not campaigns) as (case id, first message, final category)."""
    cases = session.execute(
        select(Case.id, Case.category)  # type: ignore[call-overload]
        .where(Case.status == Status.CLOSED.value, Case.category != Category.CAMPAIGN.value)
        .order_by(col(Case.id).desc())
        .limit(limit)
    ).all()
    final: dict[int, str] = {int(case_id): str(category) for case_id, category in cases}
    found: dict[int, ParsedMessage] = {}
    ids = sorted(final)
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(Message.case_id, Message.raw)  # type: ignore[call-overload]
            .where(col(Message.case_id).in_(ids[start : start + 500]), Message.direction == "in")
            .order_by(col(Message.received_at), col(Message.id))
        ).all()
        for case_id, raw in rows:
            if int(case_id) in found:
                continue
            try:
                found[int(case_id)] = parse_message(raw, attachment_max_bytes=0)
            except Unparseable:
                continue
    return [(case_id, msg, final[case_id]) for case_id, msg in found.items()]


def _office_calibration(
    settings: Settings, labelled: list[tuple[int, str, str]], decided: list[tuple[int, ParsedMessage, str]]
) -> dict:
    """A map fitted on the office's closed cases, each scored by a model that never learnt its label.

    A closed case's category is what a person saw it through as (corrected or not), so "right"
    is the classifier agreeing with it. Five folds by case: the model scoring a fold is trained
    on the labels of the other folds only, so no raw score comes from a model that knew the answer.
    """
    pairs: list[calibration.Pair] = []
    for fold in range(_FOLDS):
        model = train((text, category) for case, text, category in labelled if case % _FOLDS != fold)
        scorer = Classifier.from_settings(settings, model=model)
        scorer.calibration = None  # raw scores: what the map is fitted on
        for case_id, msg, category in decided:
            if case_id % _FOLDS == fold:
                result = scorer.classify(msg, campaign_min_senders=settings.campaign_min_senders)
                pairs.append((result.raw_confidence or result.confidence, result.category == category))
    return calibration.fit(pairs)
