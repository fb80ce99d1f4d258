"""Walking a message's MIME tree: which parts are the sender's words, which are attachments.

``multipart/alternative``: the plain version unless it is empty, else the HTML as text (only
its first ``CASEWORK_HTML_MAX_BYTES`` characters; a longer HTML part is also kept whole as an
attachment so nothing is lost).
``related``/``signed``/``encrypted``/``report``: the first part is read, the rest are attachments
(images, signatures, delivery status, the returned message). ``message/rfc822`` in mixed: its text
joins the body under a "Forwarded message" banner and the message is kept as one attachment; the
parts inside it (attachments, messages forwarded within it) are in that attachment already and
are not stored again, so nested forwards cost their size once, not once per level.
TNEF ``winmail.dat``: kept, and its body text and files read by :mod:`intake.tnef`.
"""

from __future__ import annotations

import mimetypes
from email.message import Message

from intake import headers as hdr
from intake.html_text import html_to_text
from intake.mime_parts import (
    Collected,
    attach,
    inner_message,
    message_bytes,
    part_disposition,
    part_filename,
    part_text,
    part_type,
    payload_bytes,
)
from intake.tnef import read_tnef

MAX_DEPTH = 30


def walk(part: Message, collected: Collected, max_bytes: int, *, depth: int, forwarded: bool) -> None:
    if depth > MAX_DEPTH:
        collected.defects.append("nesting too deep; inner parts skipped")
        return
    ctype = part_type(part)
    maintype, _, subtype = ctype.partition("/")
    payload = part.get_payload()

    if maintype == "multipart":
        if not isinstance(payload, list):
            # the boundary is missing or never used: read the body as text rather than lose it
            text = part_text(part, collected, payload_bytes(part, collected))
            if text.strip():
                collected.texts.append(text)
            return
        children = [child for child in payload if isinstance(child, Message)]
        if subtype == "alternative":
            alternative(children, collected, max_bytes, depth)
        elif subtype in ("related", "signed", "encrypted", "report"):
            # the first part is the readable one; the rest are images, signatures, status, the
            # returned message: kept as attachments, not read as the sender's words
            for number, child in enumerate(children):
                if number == 0:
                    walk(child, collected, max_bytes, depth=depth + 1, forwarded=forwarded)
                else:
                    as_attachment(child, collected, max_bytes, depth)
        else:
            for child in children:
                walk(child, collected, max_bytes, depth=depth + 1, forwarded=forwarded)
        return

    if maintype == "message" and subtype in ("rfc822", "global"):
        inner = inner_message(part)
        if inner is None:
            attach(part, collected, max_bytes)
            return
        if collected.keep_attachments:
            attach(
                part,
                collected,
                max_bytes,
                data=message_bytes(inner),
                filename=part_filename(part) or "forwarded-message.eml",
                content_type=ctype,
            )
        # a forwarded message is usually the point of the mail (an MP forwarding a constituent)
        sub = Collected(
            attachments=collected.attachments,
            defects=collected.defects,
            html_max=collected.html_max,
            keep_attachments=False,
        )
        walk(inner, sub, max_bytes, depth=depth + 1, forwarded=True)
        banner = ["---------- Forwarded message ----------"]
        for name in ("From", "Date", "Subject"):
            value = raw_header(inner, name)
            if value:
                banner.append(f"{name}: {value}")
        collected.texts.append("\n".join(banner) + "\n\n" + "\n\n".join(sub.texts))
        return

    disposition = part_disposition(part)
    if maintype == "text" and subtype in ("plain", "html") and disposition != "attachment":
        data = payload_bytes(part, collected)
        text = part_text(part, collected, data)
        if subtype == "html" and len(text) > collected.html_max:
            attach(part, collected, max_bytes, data=data, filename="message.html", content_type="text/html")
            collected.defects.append(f"HTML over {collected.html_max} characters; only its start was read")
            text = html_to_text(text[: collected.html_max])
            collected.texts.append(text + "\n\n[The rest is in the attachment message.html]")
            return
        collected.texts.append(html_to_text(text) if subtype == "html" else text)
        return
    if ctype == "application/ms-tnef" or part_filename(part).lower() == "winmail.dat":
        data = payload_bytes(part, collected)
        attach(part, collected, max_bytes, data=data, filename=part_filename(part) or "winmail.dat")
        content = read_tnef(data)
        text = content.body or (html_to_text(content.html[: collected.html_max]) if content.html else "")
        if text.strip():
            collected.texts.append(text)
        for item in content.files:
            ftype = mimetypes.guess_type(item.filename)[0] or "application/octet-stream"
            attach(part, collected, max_bytes, data=item.data, filename=item.filename, content_type=ftype)
        return
    attach(part, collected, max_bytes)


def raw_header(message: Message, name: str) -> str:
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return hdr.decode_words(str(value))
    return ""


def as_attachment(part: Message, collected: Collected, max_bytes: int, depth: int) -> None:
    if part_type(part).startswith("multipart/") and part.is_multipart():
        payload = part.get_payload()
        for child in payload if isinstance(payload, list) else []:
            if isinstance(child, Message):
                as_attachment(child, collected, max_bytes, depth + 1)
        return
    ctype = part_type(part)
    if ctype in ("message/rfc822", "message/global") and inner_message(part) is not None:
        inner = inner_message(part)
        assert inner is not None
        attach(
            part,
            collected,
            max_bytes,
            data=message_bytes(inner),
            filename=part_filename(part) or "returned-message.eml",
            content_type=ctype,
        )
        return
    attach(part, collected, max_bytes)


def alternative(children: list[Message], collected: Collected, max_bytes: int, depth: int) -> None:
    """Read every alternative, keep the text of the best: plain with words in it, else HTML."""
    versions: list[tuple[str, Collected]] = []

    def read(child: Message) -> None:
        sub = Collected(html_max=collected.html_max, keep_attachments=collected.keep_attachments)
        walk(child, sub, max_bytes, depth=depth + 1, forwarded=False)
        versions.append((part_type(child), sub))
        collected.defects.extend(sub.defects)

    # A lone HTML part is only read when no plain version has words in it: converting HTML to
    # text is the dearest thing a parse does, and most clients send both. (An HTML part carries
    # no attachments of its own; a multipart/related one is still read for its images.)
    html_leaves = [c for c in children if part_type(c) == "text/html"]
    for child in children:
        if child not in html_leaves:
            read(child)
    if not any(ctype == "text/plain" and any(t.strip() for t in sub.texts) for ctype, sub in versions):
        for child in html_leaves:
            read(child)
    best: Collected | None = None
    for wanted in ("text/plain", "text/html", ""):
        for ctype, sub in versions:
            if (not wanted or ctype == wanted) and any(text.strip() for text in sub.texts):
                best = sub
                break
        if best is not None:
            break
    if best is not None:
        collected.texts.extend(best.texts)
    for _ctype, sub in versions:
        collected.attachments.extend(sub.attachments)
