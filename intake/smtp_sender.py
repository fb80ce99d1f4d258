"""Sends queued acknowledgements (outbox rows of kind ``email.ack``) over SMTP.

Rows are claimed, sent and marked in short transactions; a failure puts the row back with a
back-off, so an SMTP outage delays acknowledgements without losing them. Settings:
``CASEWORK_SMTP_HOST``, ``_PORT``, ``_TLS`` (``none|starttls|ssl``), ``_USER``, ``_PASSWORD``,
``_FROM``. The outbox row already holds the rendered message (see :mod:`intake.ack`).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from sqlalchemy import Engine

from casework.settings import Settings
from store.db import session_scope
from store.outbox import claim, mark_failed, mark_sent

log = logging.getLogger(__name__)

KIND = "email.ack"


def build(settings: Settings, payload: dict[str, Any]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from or f"casework@{settings.smtp_host}"
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = payload["message_id"]
    if payload.get("in_reply_to"):
        message["In-Reply-To"] = payload["in_reply_to"]
        message["References"] = payload["in_reply_to"]
    message["Auto-Submitted"] = "auto-replied"  # RFC 3834: other robots must not answer it
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(payload["body"])
    return message


def connect(settings: Settings) -> smtplib.SMTP:
    from casework.transport import require_tls_for_passwords

    require_tls_for_passwords(settings, only="SMTP")
    timeout = 30
    if settings.smtp_tls == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        if settings.smtp_tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if settings.smtp_user:
        smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
    return smtp


def drain(settings: Settings, engine: Engine, *, limit: int = 50) -> int:
    """Send due acknowledgements; returns how many were sent."""
    if not settings.smtp_enabled:
        return 0
    with session_scope(engine) as session:
        items = claim(session, limit=limit, kinds=(KIND,))
    if not items:
        return 0
    sent = 0
    try:
        smtp = connect(settings)
    except (OSError, smtplib.SMTPException) as err:
        log.warning("SMTP server unavailable (%s); %d acknowledgements wait", type(err).__name__, len(items))
        with session_scope(engine) as session:
            for item in items:
                mark_failed(session, item=session.merge(item), error=f"connect: {err}")
        return 0
    with smtp:
        for item in items:
            try:
                smtp.send_message(build(settings, item.payload))
            except (OSError, smtplib.SMTPException) as err:
                log.warning("acknowledgement %s not sent: %s", item.key.rsplit(":", 1)[0], type(err).__name__)
                with session_scope(engine) as session:
                    mark_failed(session, item=session.merge(item), error=str(err))
                continue
            with session_scope(engine) as session:
                mark_sent(
                    session, item=session.merge(item), result={"message_id": item.payload["message_id"]}
                )
            sent += 1
    log.info("sent %d acknowledgements", sent)
    return sent
