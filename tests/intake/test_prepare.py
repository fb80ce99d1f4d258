"""Preparing in worker processes: the same answers as in the pipeline's own process, and no
worker outlives the process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine, select
from sqlmodel import Session

from casework.settings import Settings
from intake.classify import Classifier
from intake.pipeline import Pipeline
from intake.prepare import MIN_PARALLEL, Preparer, prepare
from store.models import Case, ClassifierModel
from tests.conftest import CORPUS, shared_or_skip

ROOT = Path(__file__).resolve().parents[2]


def corpus_raws() -> list[bytes]:
    return [path.read_bytes() for path in sorted(shared_or_skip(CORPUS).glob("*.eml"))]


def test_workers_prepare_what_the_pipeline_process_would(settings: Settings) -> None:
    raws = corpus_raws()
    assert len(raws) >= MIN_PARALLEL
    classifier = Classifier.from_settings(settings)
    preparer = Preparer(settings, workers=2)
    try:
        in_workers = preparer.start(raws, model_id=None).results()
    finally:
        preparer.close()
    for raw, got in zip(raws, in_workers, strict=True):
        here = prepare(raw, settings, classifier)
        assert got.msg is not None and here.msg is not None
        assert (got.msg.message_id, got.msg.subject, got.msg.body_text) == (
            here.msg.message_id, here.msg.subject, here.msg.body_text,
        )  # fmt: skip
        assert (got.automatic, got.grams, got.bands) == (here.automatic, here.grams, here.bands)
        assert got.classification == here.classification


def test_batches_through_workers_give_the_same_cases_as_without(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    raws = corpus_raws()
    items = [(raw, f"corpus:{n}") for n, raw in enumerate(raws)]
    batches = [items[i : i + 40] for i in range(0, len(items), 40)]
    with Pipeline(settings, engine, workers=2) as pipeline:
        parallel = [o for outcomes in pipeline.process_batches(batches) for o in outcomes]
    from store.db import make_engine, upgrade

    alone_engine = make_engine(f"sqlite:///{tmp_path / 'alone.db'}")
    upgrade(alone_engine)
    alone_settings = settings.model_copy(update={"database_url": str(alone_engine.url)})
    with Pipeline(alone_settings, alone_engine, workers=0) as pipeline:
        alone = [o for outcomes in pipeline.process_batches(batches) for o in outcomes]
    assert [(o.kind, o.case_reference) for o in parallel] == [(o.kind, o.case_reference) for o in alone]

    def categories(engine: Engine) -> list[tuple[str, str, bool]]:
        with Session(engine) as session:
            query = select(Case.reference, Case.category, Case.needs_triage).order_by(Case.reference)  # type: ignore[arg-type]
            rows = session.execute(query)
            return [tuple(row) for row in rows]  # type: ignore[misc]

    assert categories(engine) == categories(alone_engine)


def test_workers_classify_with_the_stored_model_they_are_told(settings: Settings, engine: Engine) -> None:
    """A trained model (here: one that calls every letter a consultation) reaches the workers by id."""
    from intake.classify import label_text, load_classifier, train
    from intake.parse import parse_message

    raws = corpus_raws()[:MIN_PARALLEL]
    texts = [label_text(parse_message(raw)) for raw in corpus_raws()]
    data = train([(text, "consultation") for text in texts] * 5)
    with Session(engine) as session:
        row = ClassifierModel(label_count=len(texts), data=data)
        session.add(row)
        session.commit()
        model_id = row.id
        here = load_classifier(session, settings, model_id)
    preparer = Preparer(settings, workers=2)
    try:
        in_workers = preparer.start(raws, model_id=model_id).results()
    finally:
        preparer.close()
    with_model = [p.classification for p in in_workers]
    assert with_model == [prepare(raw, settings, here).classification for raw in raws]
    seed = [prepare(raw, settings, Classifier.from_settings(settings)).classification for raw in raws]
    assert with_model != seed, "the learned model made no difference: the test proves nothing"


def test_a_dead_worker_costs_speed_not_the_batch(settings: Settings) -> None:
    """A worker killed (the OOM killer, say) between or during batches: the batch is prepared in
    the poller's own process, and the next one gets a fresh pool."""
    raws = corpus_raws()[:MIN_PARALLEL]
    expected = [prepare(raw, settings).msg for raw in raws]
    preparer = Preparer(settings, workers=2)
    try:
        preparer.warm()
        assert preparer._pool is not None
        for pid in list(preparer._pool._processes):  # type: ignore[attr-defined]
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        for in_workers in (False, True):  # the broken pool's batch, then a fresh pool's
            got = preparer.start(raws, model_id=None).results()
            assert [p.msg.message_id for p in got if p.msg] == [m.message_id for m in expected if m]
            assert all(p.msg is not None and p.msg.raw == raw for p, raw in zip(got, raws, strict=True))
            # only workers classify ahead (in the poller's process the classify step does it)
            assert all((p.classification is not None) == in_workers for p in got if not p.automatic)
    finally:
        preparer.close()


WORKER_ENTRY = """
import sys, time
from casework.settings import Settings
from intake.prepare import Preparer
preparer = Preparer(Settings(_env_file=None), workers=2)
raw = b"From: a@example.org\\r\\nSubject: hello\\r\\n\\r\\nDear Commissioner, a letter.\\r\\n"
preparer.start([raw] * 40, model_id=None).results()
print(" ".join(str(pid) for pid in preparer._pool._processes), flush=True)
time.sleep(600)
"""


def test_no_worker_outlives_a_killed_poller(database_url: str) -> None:
    env = {**os.environ, "CASEWORK_DATABASE_URL": database_url}
    command = [sys.executable, "-c", WORKER_ENTRY]
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    workers = [int(pid) for pid in proc.stdout.readline().split()]
    assert len(workers) == 2
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 15
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [pid for pid in workers if _running(pid)]
    assert not alive, f"workers {alive} still running after their parent was killed"


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing
