"""``casework calls follow PATH``: count calls as the phone system appends their records.

Each poll re-reads the file from the remembered position (where the oldest call not yet counted
starts) to the last whole line, merges legs as an import does and writes the calls that are
complete; the new position is stored in the same transaction as those calls, so a crash
re-reads a little and, calls being keyed by the format's ids, never counts one twice.

A call is complete when no more legs can join it: a row written at least ``settle`` seconds
(of record time) after its last leg has been read, or the file has not changed for ``settle``
seconds of wall-clock time. A queue_log call must also have its end event, unless it has been
silent for :data:`STALE` (a crash lost it), when it is counted as it stands.

Rotation: a file replaced under the same path (new inode) is read to its end first, then the
new file from its start; a truncated file (shorter than the position, or different first bytes)
is read from its start. A call still open when its file was rotated may have legs still to come,
now written to the new file: its rows are carried over (``calls_follow.carried``, in the same
transaction as the position) and read again with the new file's, so the call is counted once,
whole, when it settles there. A truncated file's open calls are carried the same way, from the
rows the last round read (rows written between that round and the truncation are gone with
the old content).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from store.calls import asterisk_queue_log, text
from store.calls.base import Context, Skip, split_csv
from store.calls.importer import HEADERED, READERS, choose, items
from store.calls.legs import Call, Merger
from store.db import session_scope
from store.imports import RowError, import_calls
from store.models import CallsFollow

log = logging.getLogger("casework.calls.follow")
HEAD_BYTES = 256
STALE = timedelta(hours=4)
CHUNK = 16 * 1024 * 1024
#: rows of open calls carried across a rotation beyond this are counted as they stand instead
MAX_CARRIED_BYTES = 1024 * 1024


@dataclass
class Poll:
    """What one look at the file found."""

    lines: int = 0
    calls_new: int = 0
    pending: int = 0
    bad: int = 0


def _head(data: bytes) -> str:
    return hashlib.sha256(data[:HEAD_BYTES]).hexdigest()


class Follower:
    """Follows one file; :meth:`poll` does one round, :meth:`run` polls until ``stop`` is set."""

    def __init__(
        self,
        engine: Engine,
        *,
        path: Path,
        fmt: str,
        context: Callable[[], Context],
        settle: float = 30.0,
        max_line_bytes: int = 65536,
    ) -> None:
        self.engine = engine
        self.path = path.absolute()
        self.fmt = fmt
        self.context = context
        self.settle = settle
        self.max_line_bytes = max_line_bytes
        self.handle: BinaryIO | None = None
        #: the rows of the calls still open after the last round (JSON for ``carried``), kept in
        #: case the file is truncated under them before they settle (copytruncate)
        self._open = ""

    # --- state ---------------------------------------------------------------------------

    def _state(self, session: Session) -> CallsFollow:
        found = session.execute(
            select(CallsFollow).where(col(CallsFollow.path) == str(self.path))
        ).scalar_one_or_none()
        if found is None:
            found = CallsFollow(path=str(self.path))
            session.add(found)
            session.flush()
        return found

    # --- one round -----------------------------------------------------------------------

    def poll(self) -> Poll:
        """Read what is new, write the complete calls, remember the position."""
        result = Poll()
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            current = None
        with session_scope(self.engine) as session:
            state = self._state(session)
            if self.handle is None:
                if current is None:
                    return result
                self.handle = open(self.path, "rb")  # noqa: SIM115 - kept open across polls on purpose
            opened = os.fstat(self.handle.fileno())
            if state.inode and state.inode != opened.st_ino:
                self._restart(state, "a different file is at the path")
            replaced = current is not None and current.st_ino != opened.st_ino
            if opened.st_size < state.offset:
                self._restart(state, "the file is shorter than the position (truncated)", carry=True)
            elif state.head and opened.st_size >= HEAD_BYTES:
                self.handle.seek(0)
                if _head(self.handle.read(HEAD_BYTES)) != state.head:
                    self._restart(state, "the file's first bytes changed (rewritten)", carry=True)
            state.inode = opened.st_ino
            # A file replaced under the path is read to its end now: nothing else will ever read
            # it. It is not idle: its open calls' next legs go to the new file, so they are carried.
            idle = not replaced and time.time() - opened.st_mtime >= self.settle
            while not self._round(session, state, result, idle=idle, final=replaced) and replaced:
                pass
            if replaced:
                log.info("calls follow: %s was rotated; reading the new file from its start", self.path)
                self.handle.close()
                self.handle = None
                self._restart(state, "rotated")
                state.inode = 0
        return result

    def _restart(self, state: CallsFollow, why: str, *, carry: bool = False) -> None:
        """Read from the start of the file; ``carry``: the open calls' rows went with the old
        content, so they are carried to join the legs still to come."""
        if state.offset:
            log.info("calls follow: %s: %s; reading from the start", self.path, why)
        if carry and self._open:
            state.carried = self._open
        state.offset, state.line, state.head, state.header = 0, 1, "", ""

    def _round(self, session: Session, state: CallsFollow, result: Poll, *, idle: bool, final: bool) -> bool:
        """One chunk from the position; True when it reached the end of the file.

        ``final``: the file was rotated, so the calls still open at its end are carried over.
        """
        assert self.handle is not None
        self.handle.seek(0)
        head = self.handle.read(HEAD_BYTES)
        if len(head) >= HEAD_BYTES or idle:
            state.head = _head(head) if len(head) >= HEAD_BYTES else state.head
        self.handle.seek(state.offset)
        data = self.handle.read(CHUNK)
        at_end = len(data) < CHUNK
        # Calls at the end of a chunk may have legs in the next one: only the file's end is idle.
        idle, final = idle and at_end, final and at_end
        whole = text.complete_part(data, idle=idle)
        data = data[:whole]
        # numbered before the file's first line, in their order
        carried = json.loads(state.carried) if state.carried else {}
        old_header, old_rows = str(carried.get("header", "")), [str(r) for r in carried.get("rows", [])]
        old = [(n - len(old_rows), line) for n, line in enumerate(old_rows)]
        if not data and not (old and idle and at_end):
            return at_end
        decoded = text.split(data, first_line=state.line, max_line_bytes=self.max_line_bytes)
        lines = decoded.lines
        if not state.format:
            sample = lines if state.offset == 0 and lines else []
            state.format = choose(self.fmt, sample)[0] if sample else (self.fmt if self.fmt != "auto" else "")
            if state.format in ("", "casework"):
                raise ValueError(
                    f"{self.path} is not a phone system's record file that calls follow can read "
                    "(give --format; casework's own CSV is imported with casework import calls)"
                )
        fmt = state.format
        is_header = HEADERED.get(fmt)
        if state.offset == 0 and lines and is_header and is_header(text_fields(lines[0][1])):
            state.header = lines[0][1]
        head_row: list[tuple[int, str]] = []
        body = lines
        if state.header and state.offset > 0:
            head_row = [(0, state.header)]
        elif state.header and lines and lines[0][1] == state.header:
            head_row, body = lines[:1], lines[1:]
        elif old_header and not lines:  # the new file has not even its header yet
            head_row = [(0, old_header)]
        feed = [*head_row, *old, *body]
        merger = Merger()
        watermark: datetime | None = None
        for item in items(fmt, feed, self.context()):
            if isinstance(item, RowError):
                result.bad += 1
                log.warning("calls follow: %s line %s: %s (row left out)", self.path, item.line, item.message)
            elif not isinstance(item, Skip):
                merger.add(item)
                for moment in (item.end, item.answer, item.start):
                    if moment is not None and (watermark is None or moment > watermark):
                        watermark = moment
        done: list[Call] = []
        pending: list[Call] = []
        for call in merger.calls.values():
            (done if self._complete(fmt, call, watermark, idle) else pending).append(call)
        texts = dict(feed)
        open_lines = sorted(n for call in pending for n in call.lines)
        # what waits outside the file: every open call's rows when it was rotated, else the rows
        # carried before that still have no end
        carry = [texts[n] for n in open_lines if final or n < 0]
        if sum(len(line) for line in carry) > MAX_CARRIED_BYTES:
            log.warning(
                "calls follow: %s: %s open calls at rotation; counting them as they stand",
                self.path,
                len(pending),
            )
            done, pending, open_lines, carry = done + pending, [], [], []
        family = READERS[fmt].FAMILY
        rows = []
        for call in done:
            try:
                rows.append(call.row(family, fmt))
            except ValueError as err:
                log.warning("calls follow: %s line %s: %s (call left out)", self.path, call.lines[0], err)
        if rows:
            try:
                with session.begin_nested():
                    result.calls_new += import_calls(session, rows=rows).imported
            except IntegrityError:  # another importer wrote one of them first: next round sees it
                log.info("calls follow: calls were written at the same time elsewhere; retrying")
                return True
        result.lines, result.pending = len(lines), len(pending)
        header = state.header or old_header
        state.carried = _carried(header, carry)
        self._open = _carried(header, [texts[n] for n in open_lines])
        # The position moves to the first line of the oldest call still waiting in the file, else
        # past the data.
        first_pending = None if final else next((n for n in open_lines if n > 0), None)
        if first_pending is None or first_pending not in decoded.offsets:
            consumed = len(data)
        else:
            consumed = decoded.offsets[first_pending]
            if consumed == 0 and not at_end:  # one call's legs fill a whole chunk: not a real file
                log.warning(
                    "calls follow: %s: a call's rows fill %s bytes; counting it as it stands",
                    self.path,
                    CHUNK,
                )
                return self._force(session, state, pending, family, fmt, data)
        state.line += text.count_breaks(data[:consumed])
        state.offset += consumed
        state.updated_at = datetime.now(UTC)
        return at_end

    def _force(
        self, session: Session, state: CallsFollow, pending: list[Call], family: str, fmt: str, data: bytes
    ) -> bool:
        rows = []
        for call in pending:
            try:
                rows.append(call.row(family, fmt))
            except ValueError:
                continue
        import_calls(session, rows=rows)
        state.carried, self._open = "", ""
        state.line += text.count_breaks(data)
        state.offset += len(data)
        return False

    def _complete(self, fmt: str, call: Call, watermark: datetime | None, idle: bool) -> bool:
        latest = call.latest
        if latest is None:
            return idle
        settled = idle or (watermark is not None and latest + timedelta(seconds=self.settle) <= watermark)
        if fmt == asterisk_queue_log.NAME and not call.closed:
            return watermark is not None and latest + STALE <= watermark
        return settled

    # --- the loop ------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, every: float = 2.0) -> None:
        log.info("calls follow: following %s", self.path)
        while not stop.is_set():
            try:
                found = self.poll()
                if found.calls_new:
                    log.info("calls follow: %s new call(s) from %s", found.calls_new, self.path)
            except ValueError as err:
                log.error("calls follow: %s", err)
                stop.wait(max(every, 60.0))
                continue
            except Exception:  # a fault must not stop the service; the position is unchanged
                log.exception("calls follow failed; will retry")
            stop.wait(every)
        if self.handle is not None:
            self.handle.close()


def _carried(header: str, rows: list[str]) -> str:
    """``calls_follow.carried``: the rows and the header they are read with; "" for none."""
    return json.dumps({"header": header, "rows": rows}) if rows else ""


def text_fields(line: str) -> list[str]:
    return split_csv(line, lambda n: n >= 12)
