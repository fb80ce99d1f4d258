"""Step 1 of intake: raw bytes → :class:`~intake.message.ParsedMessage`, whatever the bytes are.

Parsed once with ``BytesParser(policy=email.policy.default)``. Header values are read raw and
decoded by :mod:`intake.headers` (a malformed header must not raise from a header class), text
parts are decoded by :mod:`intake.charsets` (unknown charsets fall back safely), and the MIME tree
is walked by :mod:`intake.mime_body` (what is body, what is attachment; HTML-only mail becomes
text, ``winmail.dat`` is read) using the part readers of :mod:`intake.mime_parts`.

:func:`parse_message` never raises, except :class:`Unparseable` for input that is not an email at
all (the pipeline quarantines it with the reason). Any other surprise inside the parser degrades
to a message holding the raw bytes as text, with the surprise listed in ``defects``.
"""

from __future__ import annotations

import logging
import re
from email.parser import BytesParser
from email.policy import EmailPolicy
from functools import lru_cache

from intake import headers as hdr
from intake.charsets import decode_text
from intake.message import ParsedMessage
from intake.mime_body import walk
from intake.mime_parts import Collected, part_type

log = logging.getLogger(__name__)

_HEADER_LINE = re.compile(rb"^(From |>?From |[\x21-\x39\x3b-\x7e]+[ \t]*:)")
_CONTROL_BYTES = bytes([*range(9), *range(14, 32)])
_BLANKS = re.compile(r"\n{3,}")


class Unparseable(Exception):
    """The input is not an email at all; ``reason`` says why (shown in the quarantine)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _check_is_mail(raw: bytes) -> None:
    if not raw or not raw.strip():
        raise Unparseable("empty message: no bytes at all")
    head = raw.lstrip(b"\xef\xbb\xbf").lstrip(b"\r\n")
    first_lines = [line for line in re.split(rb"\r\n|\r|\n", head[:4096])[:8] if line.strip()]
    # a message may start with a stray continuation line; the first real line must be a header
    real = [line for line in first_lines if line[:1] not in (b" ", b"\t")]
    if not real or not _HEADER_LINE.match(real[0]):
        raise Unparseable("not an email: the data does not start with mail headers")
    header_block = re.split(rb"\r?\n\r?\n|\r\r", head, maxsplit=1)[0][:8192]
    controls = len(header_block) - len(header_block.translate(None, _CONTROL_BYTES))
    if controls > len(header_block) // 20:
        raise Unparseable("not an email: the header block is binary data")


def parse_message(
    raw: bytes, *, attachment_max_bytes: int = 5 * 1024 * 1024, html_max_bytes: int = 512 * 1024
) -> ParsedMessage:
    """Parse ``raw`` into a :class:`ParsedMessage`; see the module docstring for the guarantees."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise Unparseable(f"not an email: expected bytes, got {type(raw).__name__}")
    raw = bytes(raw)
    _check_is_mail(raw)
    try:
        return _parse(raw, attachment_max_bytes, html_max_bytes)
    except RecursionError:
        return _degraded(raw, "nesting too deep to parse")
    except Exception as err:  # never lose a message to a parser bug: degrade, and say so
        log.warning("parser fault, degraded parse (%s)", type(err).__name__)
        return _degraded(raw, f"parser fault: {type(err).__name__}")


def _degraded(raw: bytes, reason: str) -> ParsedMessage:
    text = decode_text(raw, None)[0]
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    return ParsedMessage(
        raw=raw,
        message_id=None,
        subject="",
        from_addr="",
        from_name="",
        to_addrs=[],
        cc_addrs=[],
        date=None,
        in_reply_to=None,
        references=[],
        body_text=body.strip() or head,
        defects=[reason],
    )


class _SharedHeadersPolicy(EmailPolicy):
    """``email.policy.default``, except that a header value seen before is not parsed again.

    The parser itself asks every part for its Content-Type (several times), and the default
    policy builds a new header object through the header registry on each ask — a quarter of
    the parse. Header objects are read-only, so one built for ``("content-type", "text/plain;
    charset=utf-8")`` can serve every message that has that very header; an LRU cache bounds
    the memory. Anything else (refolding, generating) is the default policy's own behaviour.
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        if hasattr(value, "name") or len(value) > 300:
            return super().header_fetch_parse(name, value)  # type: ignore[no-any-return]
        return _shared_header(self, name, value)


@lru_cache(maxsize=2048)
def _shared_header(policy: EmailPolicy, name: str, value: str) -> str:
    return EmailPolicy.header_fetch_parse(policy, name, value)  # type: ignore[no-any-return]


PARSE_POLICY = _SharedHeadersPolicy()


def _parse(raw: bytes, max_bytes: int, html_max: int = 512 * 1024) -> ParsedMessage:
    msg = BytesParser(policy=PARSE_POLICY).parsebytes(raw)
    raw_headers: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        raw_headers.setdefault(name.lower().strip(), []).append(str(value))
    if not raw_headers:
        raise Unparseable("not an email: no header could be read")

    def first(name: str) -> str | None:
        values = raw_headers.get(name)
        return values[0] if values else None

    decoded = {name: hdr.decode_words(values[0]) for name, values in raw_headers.items()}
    defects: list[str] = []

    # With duplicate From headers (a placeholder prepended by a gateway) take the first real one.
    sender = hdr.addresses(raw_headers.get("from", []))
    if not sender:
        sender = hdr.addresses(raw_headers.get("sender", []) + raw_headers.get("reply-to", []))
    from_name, from_addr = sender[0] if sender else ("", "")
    if not from_addr:
        defects.append("no usable From")
    if len(raw_headers.get("from", [])) > 1:
        defects.append("duplicate From headers")

    message_id = hdr.message_id(first("message-id"))
    if message_id is None:
        defects.append("no Message-ID")
    date = hdr.parse_date(first("date"))
    if date is None:
        defects.append("no usable Date")

    collected = Collected(html_max=html_max)
    walk(msg, collected, max_bytes, depth=0, forwarded=False)
    body = "\n\n".join(text.strip("\n") for text in collected.texts if text.strip())
    body = _BLANKS.sub("\n\n", body.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", ""))

    for part in msg.walk() if msg.is_multipart() else [msg]:
        defects.extend(_defect_name(defect) for defect in getattr(part, "defects", []))
    defects.extend(collected.defects)

    return ParsedMessage(
        raw=raw,
        message_id=message_id,
        subject=decoded.get("subject", ""),
        from_addr=from_addr,
        from_name=from_name,
        to_addrs=_unique(addr for _, addr in hdr.addresses(raw_headers.get("to", []))),
        cc_addrs=_unique(addr for _, addr in hdr.addresses(raw_headers.get("cc", []))),
        date=date,
        in_reply_to=hdr.message_id(first("in-reply-to")),
        references=hdr.message_ids(" ".join(raw_headers.get("references", []))),
        body_text=body.strip(),
        attachments=collected.attachments,
        headers=decoded,
        content_type=part_type(msg),
        defects=_unique(defects),
        auth_results=[hdr.unfold(v) for v in raw_headers.get("authentication-results", [])][:20],
    )


def _unique(items: object) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:  # type: ignore[attr-defined]
        if item:
            seen.setdefault(item, None)
    return list(seen)


_DEFECT_NAMES = {
    "StartBoundaryNotFoundDefect": "broken boundary: start boundary not found",
    "CloseBoundaryNotFoundDefect": "broken boundary: closing boundary not found",
    "NoBoundaryInMultipartDefect": "broken boundary: multipart without a boundary",
    "MultipartInvariantViolationDefect": "broken boundary: multipart body is not in parts",
    "MissingHeaderBodySeparatorDefect": "no blank line between headers and body",
    "FirstHeaderLineIsContinuationDefect": "first header line is a continuation",
    "InvalidBase64PaddingDefect": "bad base64 padding",
    "InvalidBase64CharactersDefect": "bad base64 characters",
    "InvalidBase64LengthDefect": "bad base64 length",
    "MisplacedEnvelopeHeaderDefect": "misplaced envelope header",
}


def _defect_name(defect: object) -> str:
    name = type(defect).__name__
    return _DEFECT_NAMES.get(name, name)


# The three header reads below look at the raw value instead of asking the policy's header
# classes: those re-parse the header on every access and were most of the parse time.
