"""Outgoing email rendered from an outbox payload: one function for the sender and the store.

The SMTP sender (:mod:`intake.smtp_sender`) sends what :func:`build` makes of a row's payload;
the store keeps the same bytes as the outgoing :class:`store.models.Message` of a reply
(:mod:`store.outgoing`), so the case file holds exactly what went out.
"""

from __future__ import annotations

import base64
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from typing import Any

from casework.settings import Settings


def sender(settings: Settings) -> str:
    """The From address of the office's outgoing mail (and the envelope sender of a reply)."""
    return settings.smtp_from or f"casework@{settings.smtp_host}"


def build(settings: Settings, payload: dict[str, Any]) -> EmailMessage:
    """The message a row's ``payload`` describes (see the module's docstring)."""
    message = EmailMessage()
    message["From"] = sender(settings)
    message["To"] = payload["to"]
    if payload.get("cc"):
        message["Cc"] = ", ".join(payload["cc"])
    message["Subject"] = payload["subject"]
    message["Date"] = payload.get("date") or formatdate(localtime=False)
    message["Message-ID"] = payload["message_id"]
    if payload.get("in_reply_to"):
        message["In-Reply-To"] = payload["in_reply_to"]
        message["References"] = " ".join(payload.get("references") or [payload["in_reply_to"]])
    if payload.get("auto_reply"):
        message["Auto-Submitted"] = "auto-replied"  # RFC 3834: other robots must not answer it
        message["X-Auto-Response-Suppress"] = "All"
    for name, value in (payload.get("headers") or {}).items():
        message[name] = value
    message.set_content(payload["body"])
    if payload.get("html"):
        message.add_alternative(payload["html"], subtype="html")
    for part in payload.get("attachments") or []:
        maintype, _, rest = part.get("content_type", "application/octet-stream").partition("/")
        subtype, _, params = rest.partition(";")
        extra = dict(p.strip().split("=", 1) for p in params.split(";") if "=" in p)
        message.add_attachment(
            base64.b64decode(part["data_b64"]),
            maintype=maintype or "application",
            subtype=subtype.strip() or "octet-stream",
            filename=part.get("filename") or None,
            params={k: v.strip('"') for k, v in extra.items()},
        )
    return message


def render(settings: Settings, payload: dict[str, Any]) -> bytes:
    """The message's bytes as they go on the wire (CRLF line ends)."""
    return build(settings, payload).as_bytes(policy=SMTP)
