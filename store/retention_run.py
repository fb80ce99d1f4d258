"""One retention run or erasure, start to finish: remove, retrain, clear the file.

Shared by ``casework retention apply`` and the managers' *Confirm anonymisation* button, so
both do exactly the same, and both only after a person has seen the list (:func:`review`);
``casework person erase`` uses :func:`erase`. When classifier labels went, the classifier's
stored models still hold word counts learned from their text, so the model is retrained from
the labels left and every older snapshot is deleted (:func:`forget_in_models`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine, delete, func, select
from sqlmodel import Session, col

from casework.settings import Settings
from store import audit
from store.anonymise import Removal, anonymise_cases, clear_file, erase_person
from store.db import session_scope
from store.models import ClassifierLabel, ClassifierModel
from store.retention import Due, MailPurge, purge_mail, review


@dataclass
class RetentionRun:
    as_of: date
    anonymised: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    mail: MailPurge = field(default_factory=MailPurge)
    audit_rows_deleted: int = 0
    cleared: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "anonymised": self.anonymised,
            "held": self.held,
            "automatic_mail_deleted": self.mail.automatic,
            "quarantined_mail_deleted": self.mail.quarantined,
            "audit_rows_deleted": self.audit_rows_deleted,
            "file_cleared_with": self.cleared,
        }


def apply_retention(engine: Engine, settings: Settings, *, as_of: date, actor: str) -> RetentionRun:
    """Anonymise every case due by ``as_of`` that is not on hold, then clear the file."""
    run = RetentionRun(as_of=as_of)
    removal = Removal()
    with session_scope(engine) as session:
        due: list[Due] = review(session, schedule=settings.retention, as_of=as_of)
        run.held = [d.reference for d in due if d.held is not None]
        ids = [d.case_id for d in due if d.held is None]
        removal = anonymise_cases(session, case_ids=ids, actor=actor, reason="retention")
        run.anonymised = removal.cases
        run.mail = purge_mail(
            session,
            automatic_days=settings.automatic_retention_days,
            quarantine_days=settings.quarantine_retention_days,
        )
        run.audit_rows_deleted = audit.purge(session, days=settings.audit_retention_days)
        if removal.rows.get("classifier_labels") and forget_in_models(session, settings):
            removal.tables.add("classifier_models")
    touched = set(removal.tables)
    if run.mail.automatic:
        touched |= {"messages", "attachments", "fingerprint_bands", "classifier_labels"}
    if run.mail.quarantined:
        touched.add("quarantine")
    if run.audit_rows_deleted:
        touched.add("audit")
    if touched:
        run.cleared = clear_file(engine, touched)
    return run


def forget_in_models(session: Session, settings: Settings) -> bool:
    """Retrain from the labels left and delete every older model; True when any model went."""
    old = list(session.execute(select(col(ClassifierModel.id))).scalars())
    if not old:
        return False
    left = session.execute(select(func.count()).select_from(ClassifierLabel)).scalar_one()
    if left:
        try:
            from intake.classify.learning import retrain
        except ImportError:  # no classifier on this installation: nothing learned to keep
            pass
        else:
            retrain(session, settings, force=True)
    session.execute(delete(ClassifierModel).where(col(ClassifierModel.id).in_(old)))
    return True


def erase(engine: Engine, settings: Settings, *, email: str, actor: str) -> Removal:
    """Erase one person (:func:`store.anonymise.erase_person`), then clear the file."""
    with session_scope(engine) as session:
        removal = erase_person(session, email=email, actor=actor)
        if removal.rows.get("classifier_labels") and forget_in_models(session, settings):
            removal.tables.add("classifier_models")
    clear_file(engine, removal.tables | {"correspondents"})
    return removal
