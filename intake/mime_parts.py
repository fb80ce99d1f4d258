"""Reading one MIME part safely: its type, charset, disposition, filename, payload and text.

The type, charset and disposition are read from the raw header rather than through the policy's
header classes, which re-parse a header on every access (most of the parse time) and raise on some
real-world values. Every function here answers something for any part; none raises.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field
from email.message import Message
from email.policy import default as default_policy

from intake import headers as hdr
from intake.charsets import decode_text, normalise_charset
from intake.message import AttachmentInfo


@dataclass
class Collected:
    """What the walk over a message's parts has found so far."""

    texts: list[str] = field(default_factory=list)
    attachments: list[AttachmentInfo] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    #: HTML over this many characters is converted only this far (``CASEWORK_HTML_MAX_BYTES``)
    html_max: int = 512 * 1024
    #: inside a forwarded message already kept whole as an attachment: read text, store nothing
    keep_attachments: bool = True


_MIME_TYPE = re.compile(r"\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)/([!#$%&'*+.^_`|~0-9A-Za-z-]+)")
_CHARSET = re.compile(r";\s*charset\s*=\s*\"?\s*([^\";\s]*)", re.IGNORECASE)


def raw_value(part: Message, name: str) -> str | None:
    for key, value in part.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def part_type(part: Message) -> str:
    raw = raw_value(part, "content-type")
    if raw is None:
        return part.get_default_type()  # text/plain, or message/rfc822 inside multipart/digest
    match = _MIME_TYPE.match(hdr.unfold(raw))
    # an unreadable Content-Type means text/plain (RFC 2045 §5.2), as the stdlib also decides
    return f"{match.group(1)}/{match.group(2)}".lower() if match else "text/plain"


def part_charset(part: Message) -> str | None:
    raw = raw_value(part, "content-type")
    match = _CHARSET.search(hdr.unfold(raw)) if raw else None
    return match.group(1) if match and match.group(1) else None


def part_disposition(part: Message) -> str:
    raw = raw_value(part, "content-disposition")
    return hdr.unfold(raw).split(";", 1)[0].strip().lower() if raw else ""


def part_filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        location = part.get("content-location") if "content-location" in part else None
        name = str(location).rsplit("/", 1)[-1] if location else None
    return hdr.decode_words(str(name)) if name else ""


def payload_bytes(part: Message, collected: Collected) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        collected.defects.append("undecodable part payload")
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    if isinstance(payload, list):  # message/delivery-status: a list of header blocks
        return b"\n".join(message_bytes(block) for block in payload if isinstance(block, Message))
    return b""


def part_text(part: Message, collected: Collected, data: bytes) -> str:
    charset = part_charset(part)
    if not charset and part_type(part) == "text/html":
        sniffed = re.search(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_.:-]+)", data[:4096], re.I)
        charset = sniffed.group(1).decode("ascii") if sniffed else None
    text, trusted = decode_text(data, charset)
    if charset and not normalise_charset(charset):
        collected.defects.append(f"unknown charset {charset[:40]!r}")
    elif not trusted:
        collected.defects.append("text did not match its declared charset")
    return text


def attach(
    part: Message,
    collected: Collected,
    max_bytes: int,
    data: bytes | None = None,
    filename: str = "",
    content_type: str = "",
) -> None:
    if not collected.keep_attachments:
        return
    if data is None:
        data = payload_bytes(part, collected)
    content_type = content_type or part_type(part)
    if not filename:
        filename = part_filename(part)
    if not filename and content_type == "message/delivery-status":
        filename = "delivery-status.txt"
    if not filename:
        extension = mimetypes.guess_extension(content_type) or ".bin"
        filename = f"part-{len(collected.attachments) + 1}{extension}"
    size = len(data)
    keep = size <= max_bytes
    collected.attachments.append(
        AttachmentInfo(
            filename=filename,
            content_type=content_type,
            size=size,
            content=data if keep else None,
            truncated=not keep,
        )
    )


def inner_message(part: Message) -> Message | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    if isinstance(payload, Message):
        return payload
    return None


def message_bytes(message: Message) -> bytes:
    try:
        return message.as_bytes()
    except Exception:  # policy.default refuses to re-fold some malformed headers
        try:
            return message.as_bytes(policy=default_policy.clone(refold_source="none"))
        except Exception:
            return b""
