"""Where raw mail comes from: local mailbox files (:mod:`intake.sources.files`) and IMAP.

A source yields ``(raw bytes, source label)`` pairs; the label (``maildir:…/cur/123``,
``mbox:…#4``, ``eml:…/a.eml``, ``imap:INBOX/UID``) is stored with the message and used in logs
instead of anything a person wrote.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of up to ``size`` items, read lazily, so memory stays flat whatever the mailbox.

    (``itertools.batched`` arrives in Python 3.12; casework supports 3.11.)
    """
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
