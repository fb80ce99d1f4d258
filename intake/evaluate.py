"""``casework eval``: how well intake does on a labelled folder of mail.

The folder holds ``*.eml`` files and a ``labels.tsv`` (columns ``file``, ``message_id``,
``category``, ``case_key``, ``notes``; ``category`` is ``auto`` for automatic mail, which must
open no case). The messages are run through the real pipeline, in Date order, into a throw-away
SQLite store, and the result is compared with the labels: per-category precision, recall and
F1 (a message's predicted category is that of the case it ended on), macro-F1 over the six
categories, and grouping — every case_key on exactly one case, and no case holding messages of
two case_keys (replies, re-sends and campaigns on the right case).

Confidence is scored too (``calibration``): for every case the mail opened, the confidence it was
opened with against whether its category is right — the expected calibration error over 10%
bands, the reliability table of those bands, and ``held_out_ece``, the error when the folder's
own raw confidences are calibrated by maps fitted on the other four of five folds (what a map
fitted on this office's labels would achieve on letters it never saw).
"""

from __future__ import annotations

import csv
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from casework.errors import UserError
from casework.settings import Settings
from intake.pipeline import Outcome, Pipeline
from intake.steps import ClassifierLike
from store.db import make_engine, upgrade
from store.enums import Category
from store.models import Case, Message

AUTO = "auto"
COLUMNS = ("file", "category", "case_key")


@dataclass
class Label:
    file: str
    category: str
    case_key: str


def read_labels(folder: Path) -> list[Label]:
    path = folder / "labels.tsv"
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder. Give a folder of .eml files with a labels.tsv.")
    if not path.is_file():
        raise UserError(f"{folder} has no labels.tsv. It needs one, with the columns {', '.join(COLUMNS)}.")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise UserError(
                f"{path} lacks the column(s) {', '.join(missing)}; it needs {', '.join(COLUMNS)}."
            )
        labels = []
        for line, row in enumerate(reader, start=2):
            category = (row["category"] or "").strip()
            if category != AUTO and category not in {c.value for c in Category}:
                raise UserError(f"{path} line {line}: unknown category {category!r}.")
            if not (folder / row["file"]).is_file():
                raise UserError(f"{path} line {line}: {row['file']} is not in {folder}.")
            labels.append(Label(row["file"], category, (row["case_key"] or "").strip()))
    return labels


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def evaluate(
    folder: Path, settings: Settings, *, classifier: ClassifierLike | None = None, batch_size: int = 1
) -> dict[str, Any]:
    """Score classification and grouping; ``batch_size`` > 1 logs the mail in batches, as the poller does."""
    labels = read_labels(folder)
    from intake.parse import parse_message

    def when(label: Label) -> tuple[datetime, str]:
        try:
            date = parse_message((folder / label.file).read_bytes(), attachment_max_bytes=0).date
        except Exception:
            date = None
        return (date if date is not None and date.tzinfo else datetime.max.replace(tzinfo=UTC), label.file)

    ordered = sorted(labels, key=when)
    with tempfile.TemporaryDirectory(prefix="casework-eval-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'eval.db'}"
        trial = settings.model_copy(update={"database_url": url, "smtp_host": ""})
        engine = make_engine(url)
        try:
            upgrade(engine)
            pipeline = Pipeline(trial, engine, classifier=classifier)
            outcomes: dict[str, Outcome] = {}
            for start in range(0, len(ordered), batch_size):
                chunk = ordered[start : start + batch_size]
                items = [((folder / label.file).read_bytes(), f"eval:{label.file}") for label in chunk]
                for label, outcome in zip(chunk, pipeline.process_batch(items), strict=True):
                    outcomes[label.file] = outcome
            placed = _placement(engine, outcomes)
            confidences = _confidences(engine, ordered, outcomes)
        finally:
            engine.dispose()
    result = _score(labels, outcomes, placed)
    result["calibration"] = _calibration(folder, trial, ordered, confidences, classifier)
    return result


def _confidences(
    engine: Any, ordered: list[Label], outcomes: dict[str, Outcome]
) -> dict[int, tuple[str, float | None, str]]:
    """case id → (file of the message that opened it, its confidence, its category), once per case."""
    found: dict[int, tuple[str, float | None, str]] = {}
    with Session(engine) as session:
        for label in ordered:
            outcome = outcomes.get(label.file)
            if outcome is None or outcome.kind != "opened" or not outcome.message_pk:
                continue
            message = session.get(Message, outcome.message_pk)
            case = session.get(Case, message.case_id) if message is not None and message.case_id else None
            if case is not None and case.id is not None and case.id not in found:
                found[case.id] = (label.file, case.confidence, case.category)
    return found


def _calibration(
    folder: Path,
    settings: Settings,
    ordered: list[Label],
    confidences: dict[int, tuple[str, float | None, str]],
    classifier: ClassifierLike | None,
) -> dict[str, Any]:
    from intake.classify import Classifier
    from intake.classify.calibration import report
    from intake.parse import parse_message

    truth = {label.file: label.category for label in ordered}
    raw_classifier = classifier or Classifier.from_settings(settings)
    pairs: list[tuple[float, bool]] = []
    raw: list[tuple[float, bool]] = []
    for file, confidence, category in confidences.values():
        right = category == truth[file]
        if confidence is None:
            continue
        pairs.append((confidence, right))
        if category == Category.CAMPAIGN.value:
            raw.append((1.0, right))  # decided by grouping many senders, not by a score
            continue
        result = raw_classifier.classify(
            parse_message((folder / file).read_bytes()), campaign_min_senders=settings.campaign_min_senders
        )
        raw.append((result.raw_confidence if result.raw_confidence is not None else result.confidence, right))
    return report(pairs, raw)


def _placement(engine: Any, outcomes: dict[str, Outcome]) -> dict[str, tuple[int | None, str | None]]:
    """file → (case id, case category) where its message ended (after any campaign merges)."""
    placed: dict[str, tuple[int | None, str | None]] = {}
    with Session(engine) as session:
        for file, outcome in outcomes.items():
            message = session.get(Message, outcome.message_pk) if outcome.message_pk else None
            case = session.get(Case, message.case_id) if message is not None and message.case_id else None
            placed[file] = (case.id, case.category) if case is not None else (None, None)
    return placed


def _score(
    labels: list[Label], outcomes: dict[str, Outcome], placed: dict[str, tuple[int | None, str | None]]
) -> dict[str, Any]:
    people = [label for label in labels if label.category != AUTO]
    categories: dict[str, dict[str, float]] = {}
    for category in Category:
        tp = sum(1 for lb in people if lb.category == category and placed[lb.file][1] == category)
        fp = sum(1 for lb in people if lb.category != category and placed[lb.file][1] == category)
        fn = sum(1 for lb in people if lb.category == category and placed[lb.file][1] != category)
        categories[category.value] = {**_prf(tp, fp, fn), "support": tp + fn}
    macro = sum(c["f1"] for c in categories.values()) / len(categories)
    errors: list[str] = []
    by_key: dict[str, set[int | None]] = defaultdict(set)
    by_case: dict[int, set[str]] = defaultdict(set)
    for label in people:
        case_id = placed[label.file][0]
        by_key[label.case_key].add(case_id)
        if case_id is None:
            errors.append(
                f"{label.file}: on no case ({outcomes[label.file].kind}: {outcomes[label.file].reason})"
            )
        else:
            by_case[case_id].add(label.case_key)
    for key, cases in sorted(by_key.items()):
        if len(cases - {None}) > 1:
            files = sorted(lb.file for lb in people if lb.case_key == key)
            errors.append(f"{key}: split over {len(cases - {None})} cases ({', '.join(files)})")
    for keys in by_case.values():
        if len(keys) > 1:
            errors.append(f"{', '.join(sorted(keys))}: on one case")
    for label in labels:
        if label.category == AUTO and outcomes[label.file].kind != "automatic":
            errors.append(f"{label.file}: automatic mail became {outcomes[label.file].kind!r}")
    kinds: dict[str, int] = defaultdict(int)
    for outcome in outcomes.values():
        kinds[outcome.kind] += 1
    return {
        "messages": len(labels),
        "outcomes": dict(sorted(kinds.items())),
        "categories": categories,
        "macro_f1": round(macro, 4),
        "grouping": {"correct": not errors, "case_keys": len(by_key), "errors": errors},
    }
