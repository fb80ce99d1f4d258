"""Command groups of the ``casework`` CLI, one module each (see :mod:`casework.cli`)."""

from casework.commands import (
    case,
    classify,
    data,
    db,
    demo,
    intake,
    poll,
    report,
    scheduler,
    serve,
    stats,
    surgery,
)

ALL = (db, demo, data, stats, case, classify, intake, poll, serve, scheduler, report, surgery)
