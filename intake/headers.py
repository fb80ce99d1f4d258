"""Decoding header values: RFC 2047 encoded words (also malformed ones), addresses, ids, dates.

The parser reads the raw header strings (``Message.raw_items()``) and decodes them here, so that a
malformed header (an encoded word with a CR/LF inside, a bogus charset, two mailboxes with no
comma) yields the best readable value instead of an exception from the header classes.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime

from intake.charsets import decode_text, header_text

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?(.*?)\?=", re.DOTALL)
_FOLD = re.compile(r"\r?\n(?=[ \t])|\r(?=[ \t])")
_BETWEEN_WORDS = re.compile(r"(\?=)\s+(=\?)")
_MSGID = re.compile(r"<[^<>\s]+>")
_BARE_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
#: separators that can never be inside a bare address: the fallback splits on them first
_NOT_IN_ADDRESS = re.compile(r"[\s<>,;:\"()\[\]\\]+")
#: an address header longer than this is cut before parsing (a real one with 100 recipients
#: is about 5 KB); the stdlib parser and any regex fallback then stay fast whatever arrives
ADDRESS_HEADER_MAX = 16 * 1024


def unfold(value: str) -> str:
    return _FOLD.sub("", value).replace("\r", " ").replace("\n", " ")


def _word_bytes(encoding: str, text: str) -> bytes | None:
    try:
        if encoding in "Bb":
            text = re.sub(r"[^A-Za-z0-9+/]", "", text)
            text += "=" * (-len(text) % 4)
            if len(text) % 4 == 1:  # an extra trailing character: drop it rather than fail
                text = text[:-2] + "=="
            return base64.b64decode(text)
        return binascii.a2b_qp(text.replace("_", " ").encode("ascii", "replace"), header=True)
    except (binascii.Error, ValueError):
        return None


def decode_words(value: str) -> str:
    """Unfold ``value`` and decode its RFC 2047 encoded words; never raises."""
    value = header_text(unfold(value))
    if "=?" not in value:
        return value.strip()
    # whitespace between two adjacent encoded words is not part of the text (RFC 2047 §6.2)
    value = _BETWEEN_WORDS.sub(r"\1\2", value)
    out: list[str] = []
    pending: bytes = b""
    pending_charset = ""
    pos = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            out.append(decode_text(pending, pending_charset)[0])
        pending, pending_charset = b"", ""

    for match in _ENCODED_WORD.finditer(value):
        if match.start() > pos:
            flush()
            out.append(value[pos : match.start()])
        charset = match.group(1).split("*", 1)[0]
        data = _word_bytes(match.group(2), match.group(3))
        if data is None:
            flush()
            out.append(match.group(0))
        else:
            # adjacent words of one charset are joined first: a multi-byte character may be split
            if pending and charset.lower() != pending_charset.lower():
                flush()
            pending += data
            pending_charset = charset
        pos = match.end()
    flush()
    out.append(value[pos:])
    text = "".join(out)
    return " ".join(text.replace("\x00", "").split())


def addresses(values: list[str]) -> list[tuple[str, str]]:
    """``(display name, lower-cased address)`` pairs from raw address headers, best effort."""
    found: list[tuple[str, str]] = []
    for raw in values:
        value = header_text(unfold(raw[: ADDRESS_HEADER_MAX * 2]))[:ADDRESS_HEADER_MAX]
        try:
            pairs = getaddresses([value])
        except Exception:  # the stdlib address parser has raised on odd input before
            pairs = []
        good = [(name, addr) for name, addr in pairs if "@" in addr and " " not in addr.strip()]
        if not good:
            # e.g. two mailboxes with no comma, or a display name that is itself an address
            bracketed = re.findall(r"<([^<>\s]+@[^<>\s]+)>", value)
            bare = bracketed or _bare_addresses(value)
            name = value.split("<", 1)[0].strip().strip('"') if bracketed else ""
            good = [(name, addr) for addr in bare]
        for name, addr in good:
            found.append((decode_words(name).strip().strip("\"'").strip(), addr.strip().lower()))
    return found


def _bare_addresses(value: str) -> list[str]:
    """Addresses written without brackets, in linear time.

    Searching the whole value with :data:`_BARE_ADDRESS` retries the local part from every
    position, which is quadratic on a long run of letters with no ``@`` (20 KB took a second).
    Splitting on characters no address contains, and matching only tokens that have an ``@``,
    reads each character a bounded number of times.
    """
    found: list[str] = []
    for token in _NOT_IN_ADDRESS.split(value):
        if "@" in token:
            match = _BARE_ADDRESS.search(token)
            if match:
                found.append(match.group(0))
    return found


def message_id(value: str | None) -> str | None:
    """The first ``<id>`` in a Message-ID / In-Reply-To value (a bare id gets its brackets)."""
    if not value:
        return None
    value = header_text(unfold(value))
    match = _MSGID.search(value)
    if match:
        return match.group(0)
    token = value.strip().split()
    if token and "@" in token[0]:
        return f"<{token[0].strip('<>')}>"
    return None


def message_ids(value: str | None) -> list[str]:
    if not value:
        return []
    return _MSGID.findall(header_text(unfold(value)))


def parse_date(value: str | None) -> datetime | None:
    """An aware datetime (UTC when the header gives no zone), or None for a missing/impossible date."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(header_text(unfold(value)).strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
