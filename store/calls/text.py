"""Bytes of a record file to numbered lines of text, however dirty the file is.

Real exports start with a byte-order mark, mix UTF-8 with Windows-1252 caller names, end lines
with CR alone (old Mac tools, some PBX web exports) and, after a crash, carry NUL padding.
Each line is decoded on its own (UTF-8 first, Windows-1252 where that fails) so one bad caller
name costs nothing, and lines longer than the configured limit are reported rather than read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from store.imports import RowError

BOM = b"\xef\xbb\xbf"
_BREAK = re.compile(rb"\r\n|\r|\n")


@dataclass
class Decoded:
    lines: list[tuple[int, str]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    #: byte offset (in the data given) where each line starts, for ``calls follow``'s position
    offsets: dict[int, int] = field(default_factory=dict)


def decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def split(data: bytes, *, first_line: int = 1, max_line_bytes: int = 65536) -> Decoded:
    """Every non-empty line of ``data`` with its number (``first_line`` for the first)."""
    skip = len(BOM) if data.startswith(BOM) else 0
    found = Decoded()
    for number, start, raw in _numbered(data, first_line, skip):
        if len(raw) > max_line_bytes:
            found.errors.append(
                RowError(
                    number,
                    f"the line is {len(raw):,} bytes long, more than CASEWORK_CALLS_MAX_LINE_BYTES "
                    f"({max_line_bytes:,}); this is not a call record",
                )
            )
            continue
        raw = raw.replace(b"\x00", b"")
        if raw.strip():
            found.lines.append((number, decode(raw)))
            found.offsets[number] = start
    return found


def _numbered(data: bytes, first_line: int, pos: int) -> Iterator[tuple[int, int, bytes]]:
    number = first_line
    for match in _BREAK.finditer(data, pos):
        yield number, pos, data[pos : match.start()]
        number += 1
        pos = match.end()
    if pos < len(data):
        yield number, pos, data[pos:]


def complete_part(data: bytes, *, idle: bool = False) -> int:
    """How many leading bytes of ``data`` are whole lines (for a file still being written).

    A final CR is held back while the file is still growing: it may be the first half of a CRLF
    whose LF is not written yet. Once the file has stopped growing (``idle``) it ends the line.
    """
    cut = max(data.rfind(b"\n"), data.rfind(b"\r"))
    if cut < 0:
        return 0
    if cut == len(data) - 1 and data[cut:] == b"\r" and not idle:
        earlier = max(data.rfind(b"\n", 0, cut), data.rfind(b"\r", 0, cut))
        return earlier + 1
    return cut + 1


def count_breaks(data: bytes) -> int:
    return len(_BREAK.findall(data))
