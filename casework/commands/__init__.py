"""Command groups of the ``casework`` CLI, one module each (see :mod:`casework.cli`)."""

from casework.commands import case, data, db, intake, report, scheduler, serve, stats

ALL = (db, data, stats, case, intake, serve, scheduler, report)
