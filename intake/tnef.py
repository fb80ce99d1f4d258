"""What can be read out of a TNEF ``winmail.dat`` (Outlook's rich-text wrapper): body text and files.

Only the parts casework needs: the plain body (``attBody`` or the MAPI ``PR_BODY`` property, or
HTML in ``PR_BODY_HTML``) and the attached files (title + data). Anything truncated or corrupt
stops the walk and returns what was found so far; the ``winmail.dat`` itself is always kept as an
attachment by the parser, so nothing is lost when this reads nothing.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

SIGNATURE = 0x223E9F78
_ATT_BODY = 0x0002800C
_ATT_ATTACH_TITLE = 0x00018010
_ATT_ATTACH_DATA = 0x0006800F
_ATT_ATTACH_REND_DATA = 0x00069002
_ATT_MAPI_PROPS = 0x00069003
_ATT_ATTACHMENT = 0x00069005

_PR_BODY = 0x1000
_PR_BODY_HTML = 0x1013
_PR_ATTACH_LONG_FILENAME = 0x3707
_PR_ATTACH_DATA = 0x3701

_FIXED_SIZES = {
    0x0002: 4,
    0x0003: 4,
    0x0004: 4,
    0x0005: 8,
    0x0006: 8,
    0x0007: 8,
    0x000A: 4,
    0x000B: 4,
    0x0014: 8,
    0x0040: 8,
    0x0048: 16,
    0x0001: 0,
}
_VARIABLE = frozenset({0x001E, 0x001F, 0x0102, 0x000D})


@dataclass
class TnefFile:
    filename: str
    data: bytes


@dataclass
class TnefContent:
    body: str = ""
    html: str = ""
    files: list[TnefFile] = field(default_factory=list)


def is_tnef(data: bytes) -> bool:
    return len(data) >= 6 and struct.unpack_from("<I", data)[0] == SIGNATURE


def _mapi_props(data: bytes) -> dict[int, list[tuple[int, bytes]]]:
    """Property id → [(type, raw value)], for the properties we can walk to."""
    props: dict[int, list[tuple[int, bytes]]] = {}
    (count,) = struct.unpack_from("<I", data, 0)
    pos = 4
    for _ in range(min(count, 10_000)):
        ptype, pid = struct.unpack_from("<HH", data, pos)
        pos += 4
        if pid >= 0x8000:  # named property: GUID, kind, then an id or a name
            pos += 16
            (kind,) = struct.unpack_from("<I", data, pos)
            pos += 4
            if kind == 0:
                pos += 4
            else:
                (length,) = struct.unpack_from("<I", data, pos)
                pos += 4 + length + (-length % 4)
        base = ptype & 0x0FFF
        multi = bool(ptype & 0x1000)
        if base in _VARIABLE:
            (values,) = struct.unpack_from("<I", data, pos)
            pos += 4
            for _ in range(min(values, 10_000)):
                (length,) = struct.unpack_from("<I", data, pos)
                pos += 4
                props.setdefault(pid, []).append((base, data[pos : pos + length]))
                pos += length + (-length % 4)
        elif base in _FIXED_SIZES:
            values = 1
            if multi:
                (values,) = struct.unpack_from("<I", data, pos)
                pos += 4
            size = _FIXED_SIZES[base]
            pos += values * max(size, 4 if size else 0)
        else:
            break  # unknown type: its size is unknown, so stop walking
        if pos > len(data):
            break
    return props


def _string(ptype: int, raw: bytes) -> str:
    if ptype == 0x001F:
        return raw.decode("utf-16-le", "replace").rstrip("\x00")
    text = raw.rstrip(b"\x00")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        return text.decode("cp1252", "replace")


def read_tnef(data: bytes) -> TnefContent:
    """Body and files from a TNEF stream; never raises (returns what it read before any damage)."""
    content = TnefContent()
    if not is_tnef(data):
        return content
    pos = 6
    current: TnefFile | None = None
    try:
        while pos + 9 <= len(data):
            level = data[pos]
            attr_id, length = struct.unpack_from("<II", data, pos + 1)
            pos += 9
            value = data[pos : pos + length]
            pos += length + 2  # value, then a 2-byte checksum
            if len(value) < length:
                break
            if attr_id == _ATT_BODY and level == 1:
                content.body = _string(0x001E, value)
            elif attr_id == _ATT_ATTACH_REND_DATA:
                current = TnefFile(filename="", data=b"")
                content.files.append(current)
            elif attr_id == _ATT_ATTACH_TITLE and current is not None:
                current.filename = _string(0x001E, value)
            elif attr_id == _ATT_ATTACH_DATA and current is not None:
                current.data = value
            elif attr_id == _ATT_ATTACHMENT and current is not None:
                props = _mapi_props(value)
                for ptype, raw in props.get(_PR_ATTACH_LONG_FILENAME, []):
                    current.filename = _string(ptype, raw) or current.filename
                if not current.data:
                    for _ptype, raw in props.get(_PR_ATTACH_DATA, []):
                        current.data = raw
            elif attr_id == _ATT_MAPI_PROPS and level == 1:
                props = _mapi_props(value)
                for ptype, raw in props.get(_PR_BODY, []):
                    content.body = content.body or _string(ptype, raw)
                for ptype, raw in props.get(_PR_BODY_HTML, []):
                    content.html = content.html or _string(ptype, raw)
    except (struct.error, IndexError, ValueError):
        pass
    for number, item in enumerate(content.files, 1):
        item.filename = item.filename or f"tnef-attachment-{number}"
    return content
