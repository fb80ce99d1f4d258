"""Acknowledgements: the email each person gets when their case is logged.

The text comes from two plain files the office can edit, ``ack_subject.txt`` and
``ack_body.txt``, in ``CASEWORK_ACK_TEMPLATE_DIR`` when set, else the defaults in
``intake/templates/``. Placeholders use ``{name}`` syntax: ``reference``, ``name``, ``subject``,
``received_on``, ``due_on``, ``office_name``, ``category``. The subject must keep ``{reference}``
so that replies thread back to the case.

The message is rendered when it is enqueued, so the outbox row records exactly what is sent
(RFC 3834: ``Auto-Submitted: auto-replied``, ``In-Reply-To`` the person's message, and a
Message-ID that carries the case reference, which the thread step also recognises).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from casework.errors import UserError
from casework.settings import Settings

DEFAULT_TEMPLATES = Path(__file__).with_name("templates")
PLACEHOLDERS = ("reference", "name", "subject", "received_on", "due_on", "office_name", "category")


def template_dir(settings: Settings) -> Path:
    return Path(settings.ack_template_dir) if settings.ack_template_dir else DEFAULT_TEMPLATES


def _read(settings: Settings, name: str) -> str:
    path = template_dir(settings) / name
    try:
        return path.read_text(encoding="utf-8")
    except OSError as err:
        raise UserError(
            f"Cannot read the acknowledgement template {path}: {err.strerror}. "
            "Check CASEWORK_ACK_TEMPLATE_DIR, or unset it to use the built-in templates."
        ) from err


def render(settings: Settings, values: dict[str, str]) -> tuple[str, str]:
    """The (subject, body) of an acknowledgement for ``values``."""
    fields = {key: values.get(key, "") for key in PLACEHOLDERS}
    try:
        subject = _read(settings, "ack_subject.txt").strip().format(**fields)
        body = _read(settings, "ack_body.txt").format(**fields)
    except (KeyError, IndexError, ValueError) as err:
        raise UserError(
            f"An acknowledgement template uses an unknown placeholder or a stray brace ({err}). "
            f"Use only {{{'}, {'.join(PLACEHOLDERS)}}}; write {{{{ and }}}} for literal braces."
        ) from err
    if values["reference"] not in subject:
        subject = f"[{values['reference']}] {subject}"  # replies must be able to thread back
    return " ".join(subject.split()), body


def own_addresses(settings: Settings) -> set[str]:
    """The office's own addresses: never acknowledged (no mail loops with ourselves)."""
    found = {
        *settings.office_addresses,
        *settings.consultation_addresses,
        settings.imap_user,
        settings.smtp_from,
    }
    return {a.strip().lower() for a in found if a and "@" in a}


def ack_message_id(reference: str, settings: Settings) -> str:
    domain = (settings.smtp_from.rpartition("@")[2] or "casework.invalid").strip(">")
    return f"<{reference}.{uuid.uuid4().hex[:16]}@{domain}>"


def payload(
    settings: Settings, *, to: str, in_reply_to: str | None, values: dict[str, str]
) -> dict[str, Any]:
    subject, body = render(settings, values)
    return {
        "to": to,
        "subject": subject,
        "body": body,
        "message_id": ack_message_id(values["reference"], settings),
        "in_reply_to": in_reply_to,
        "reference": values["reference"],
    }
