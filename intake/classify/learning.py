"""Learning from caseworkers: load the newest stored model, retrain from the stored labels.

Labels are :class:`store.models.ClassifierLabel` rows, written by ``store.cases.set_category``
whenever a person corrects a category (Slack or ``casework case set-category``). ``retrain`` is
cheap (naive Bayes counts), so the scheduler can run it nightly and a command can run it on demand.
"""

from __future__ import annotations

import logging

from sqlmodel import Session, col, select

from casework.settings import Settings
from intake.classify.classifier import Classifier, train
from intake.classify.text import model_text
from intake.parse import Unparseable, parse_message
from store.models import ClassifierLabel, ClassifierModel, Message

log = logging.getLogger(__name__)


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
    # label_count counts label rows (what the scheduler compares with); the model's own
    # data["label_count"] counts the distinct examples it learned from
    stored = ClassifierModel(label_count=len(labels), data=data)
    session.add(stored)
    session.flush()
    log.info("classifier retrained on %d labels (model %s)", len(examples), stored.id)
    return stored
