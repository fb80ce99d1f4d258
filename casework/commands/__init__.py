"""Command groups of the ``casework`` CLI, one module each (see :mod:`casework.cli`)."""

from casework.commands import case, classify, data, db, intake, report, scheduler, serve, stats

ALL = (db, data, stats, case, classify, intake, serve, scheduler, report)
