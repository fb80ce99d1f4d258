"""The scheduler: deadline warnings, the daily digest, the weekly summary, IMAP polling and
classifier retraining, each a plain job that recomputes from the store and records what it
sends in the outbox before it is sent (see :mod:`casework.scheduler.jobs`)."""

from casework.scheduler.runner import start

__all__ = ["start"]
