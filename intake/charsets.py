"""Turning bytes in a declared (often wrong, unknown or misspelt) charset into text, never failing.

Mail declares charsets that Python does not know (``unicode-1-1-utf-7``, ``ks_c_5601-1987``,
``fakescii``, ``charset=us-ascii``), declares ``us-ascii`` over 8-bit bytes, or declares nothing.
:func:`decode_text` maps the aliases real clients use, and falls back to UTF-8 and then to
windows-1252 (which maps every byte) so that a body is always readable text.
"""

from __future__ import annotations

import codecs
import re

#: names mail clients write that Python spells differently, or that a superset decodes better
_ALIASES = {
    "unicode-1-1-utf-7": "utf-7",
    "utf7": "utf-7",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "x-sjis": "shift_jis",
    "sjis": "shift_jis",
    "windows-31j": "cp932",
    "x-user-defined": "",
    "x-unknown": "",
    "unknown-8bit": "",
    "unknown": "",
    "default": "",
    # windows-1252 is what "latin-1" mail really is (curly quotes, the euro sign in 0x80)
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "ascii",
    "ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
}

_NAME = re.compile(r"[A-Za-z0-9_.:+-]+")


def normalise_charset(charset: str | None) -> str:
    """A Python codec name for ``charset``, or "" when it is missing or unknown."""
    if not charset:
        return ""
    name = charset.strip().strip("\"'").lower()
    if name.startswith("charset="):  # seen in the wild: charset="charset=us-ascii"
        name = name[len("charset=") :].strip("\"'")
    match = _NAME.match(name)
    if not match:
        return ""
    name = match.group(0)
    name = _ALIASES.get(name, name)
    if not name:
        return ""
    try:
        info = codecs.lookup(name)
    except LookupError:
        return ""
    # bytes-to-bytes codecs (base64, zlib, rot13 …) are not charsets
    if not getattr(info, "_is_text_encoding", True):
        return ""
    return info.name


def decode_text(data: bytes, charset: str | None) -> tuple[str, bool]:
    """``(text, trusted)``: ``trusted`` is False when the declared charset was unknown or wrong."""
    name = normalise_charset(charset)
    if name and name != "ascii":
        try:
            return data.decode(name), True
        except (UnicodeDecodeError, LookupError, ValueError):
            pass
        # a legacy charset that still fails on these bytes: UTF-8 mislabelled is the usual cause
        try:
            return data.decode("utf-8"), False
        except UnicodeDecodeError:
            try:
                return data.decode(name, "replace"), False
            except (LookupError, ValueError):
                pass
    try:
        return data.decode("ascii"), bool(name) or not charset
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("utf-8"), not charset
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace"), False


def recover_bytes(value: str) -> bytes:
    """The original bytes of a header value the parser kept as surrogate escapes."""
    return value.encode("utf-8", "surrogateescape")


def header_text(value: str) -> str:
    """A header value with any raw 8-bit bytes (no RFC 2047) turned into readable text."""
    if value.isascii():
        return value
    try:
        return recover_bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        return recover_bytes(value).decode("cp1252", "replace")
    except UnicodeEncodeError:
        return value
