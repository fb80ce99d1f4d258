"""Local mailboxes: a Maildir, an mbox file, a folder of ``.eml`` files, or one ``.eml`` file.

Used by ``casework ingest`` to back-fill an exported mailbox. Messages are logged in the order
of their ``Date:`` header, not the order of the files: an exported folder of ``.eml`` files is
often named by subject, and a reply logged before the message it answers would open a case of
its own. Only the keys and dates are held in memory, and messages are read one at a time (a
generator), so memory stays flat whatever the size of the mailbox.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from casework.errors import UserError

#: how much of a message to read to find its Date header
HEAD_BYTES = 64 * 1024
_LAST = datetime.max.replace(tzinfo=UTC)


@dataclass
class LocalMailbox:
    path: Path
    kind: str  # "maildir", "mbox", "eml-folder", "eml"

    def _keys(self) -> list[str]:
        if self.kind == "maildir":
            return sorted(mailbox.Maildir(self.path, factory=None, create=False).iterkeys())
        if self.kind == "mbox":
            return [str(key) for key in mailbox.mbox(self.path, factory=None, create=False).iterkeys()]
        if self.kind == "eml-folder":
            return [str(p.relative_to(self.path)) for p in _eml_files(self.path)]
        return [self.path.name]

    def count(self) -> int:
        return len(self._keys())

    def _box(self) -> mailbox.Mailbox:  # type: ignore[type-arg]
        if self.kind == "maildir":
            return mailbox.Maildir(self.path, factory=None, create=False)
        return mailbox.mbox(self.path, factory=None, create=False)

    def _read(self, box: mailbox.Mailbox | None, key: str, limit: int = -1) -> bytes:  # type: ignore[type-arg]
        """The message ``key`` (or its first ``limit`` bytes)."""
        if box is not None:
            box_key: Any = int(key) if self.kind == "mbox" else key  # mbox keys are ints
            if limit < 0:
                return box.get_bytes(box_key)
            proxy = box.get_file(box_key)
            try:
                return proxy.read(limit)
            finally:
                proxy.close()
        path = self.path / key if self.kind == "eml-folder" else self.path
        with path.open("rb") as handle:
            return handle.read(limit)

    def _label(self, key: str, position: int) -> str:
        if self.kind == "maildir":
            return f"maildir:{self.path.name}/{key}"
        if self.kind == "mbox":
            return f"mbox:{self.path.name}#{position + 1}"
        return f"eml:{key}"

    def __iter__(self) -> Iterator[tuple[bytes, str]]:
        box = self._box() if self.kind in ("maildir", "mbox") else None
        dated = sorted(
            (_date_of(self._read(box, key, HEAD_BYTES)), position, key)
            for position, key in enumerate(self._keys())
        )
        for _date, position, key in dated:
            yield self._read(box, key), self._label(key, position)


def _date_of(head: bytes) -> datetime:
    """The message's Date (UTC), or a date after all others when it has none we can read."""
    try:
        value = BytesHeaderParser().parsebytes(head).get("Date")
        moment = parsedate_to_datetime(str(value)) if value else None
    except (TypeError, ValueError, IndexError):
        moment = None
    if moment is None:
        return _LAST
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _eml_files(folder: Path) -> Iterator[Path]:
    return iter(sorted(p for p in folder.rglob("*.eml") if p.is_file()))


def _looks_like_mbox(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(5) == b"From "


def open_local(path: Path) -> LocalMailbox:
    """Recognise what ``path`` is; a clear :class:`UserError` when it is none of the kinds."""
    if not path.exists():
        raise UserError(
            f"{path} does not exist. Give a Maildir folder, an mbox file or a folder of .eml files."
        )
    if path.is_dir():
        if all((path / sub).is_dir() for sub in ("cur", "new")):
            return LocalMailbox(path, "maildir")
        if next(_eml_files(path), None) is not None:
            return LocalMailbox(path, "eml-folder")
        raise UserError(
            f"{path} is a folder but neither a Maildir (no cur/ and new/ inside) nor a folder of .eml files."
        )
    try:
        if _looks_like_mbox(path):
            return LocalMailbox(path, "mbox")
    except OSError as err:
        raise UserError(f"Cannot read {path}: {err.strerror}.") from err
    if path.suffix.lower() == ".eml":
        return LocalMailbox(path, "eml")
    raise UserError(
        f"{path} is not an mbox file (it does not start with a 'From ' line) and not an .eml file. "
        "Give a Maildir folder, an mbox file or a folder of .eml files."
    )
