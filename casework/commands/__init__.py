"""Command groups of the ``casework`` CLI, one module each (see :mod:`casework.cli`)."""

from casework.commands import (
    calls,
    case,
    classify,
    clocks,
    data,
    db,
    demo,
    intake,
    poll,
    privacy,
    report,
    scheduler,
    serve,
    stats,
    surgery,
)

ALL = (
    db, demo, data, calls, stats, case, clocks, classify, intake, poll, serve, scheduler, report, privacy,
    surgery,
)  # fmt: skip
