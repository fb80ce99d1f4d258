"""Sends queued email (outbox rows whose kind starts ``email.``) over SMTP.

Rows are claimed, sent and marked in short transactions; a failure puts the row back with a
back-off, so an SMTP outage delays mail without losing it. Settings:
``CASEWORK_SMTP_HOST``, ``_PORT``, ``_TLS`` (``none|starttls|ssl``), ``_USER``, ``_PASSWORD``,
``_FROM``.

Every row already holds its rendered message, so whatever queued it (acknowledgements in
:mod:`intake.ack`, surgery invitations) needs no code here. A reply's row names its recorded
outgoing message (``message_pk``): those bytes are sent as they are, so the case file holds
exactly what went out (:func:`store.outgoing.sent_as_recorded`). Otherwise the payload:

* ``to``, ``subject``, ``body``, ``message_id`` — required;
* ``in_reply_to`` and ``references`` (a list; In-Reply-To alone is used when absent);
* ``cc`` (a list), ``headers`` (extra header → value), ``html`` (an HTML alternative);
* ``attachments``: ``[{"filename", "content_type", "data_b64"}]``, each attached as it is
  (a ``text/calendar`` part keeps its ``method`` parameter from ``content_type``);
* ``auto_reply``: mark the message as an automatic reply (RFC 3834), as acknowledgements are.

Replies (``email.reply``) are not sent twice by a crash between the send and its record: the
row is marked *in flight* (committed) before the message goes to the server. A row claimed
again with that mark left on it was perhaps sent; it is first looked for in the office's Sent
folder (``CASEWORK_IMAP_SENT_FOLDER``) by its Message-ID and only sent if absent there (with
the same Message-ID, which receiving mail systems treat as one message). Without a Sent
folder it is sent again. See docs/lifecycle.md.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from typing import Any

from sqlalchemy import Engine

from casework.settings import Settings
from intake.sources.imap import sent_folder_has
from store.db import session_scope
from store.mail import build, sender
from store.models import Message, OutboxItem
from store.outbox import claim, mark_failed, mark_sent
from store.types import utcnow

log = logging.getLogger(__name__)

KIND = "email.ack"
#: replies to correspondents: checked against the Sent folder before a resend (see above)
REPLY_KIND = "email.reply"
#: every outbox kind this sender drains starts with this
PREFIX = "email."


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
    """Send due email of every ``email.*`` kind; returns how many were sent."""
    if not settings.smtp_enabled:
        return 0
    with session_scope(engine) as session:
        items = claim(session, limit=limit, kind_prefix=PREFIX)
    if not items:
        return 0
    sent = 0
    try:
        smtp = connect(settings)
    except (OSError, smtplib.SMTPException) as err:
        log.warning("SMTP server unavailable (%s); %d emails wait", type(err).__name__, len(items))
        with session_scope(engine) as session:
            for item in items:
                mark_failed(session, item=session.merge(item), error=f"connect: {err}")
        return 0
    with smtp:
        for item in items:
            if item.kind == REPLY_KIND and not _clear_to_send(settings, engine, item):
                continue
            try:
                _send(smtp, settings, engine, item)
            except RecordGone as gone:
                log.error("reply %s not sent: %s", item.key.rsplit(":", 1)[0], gone)
                with session_scope(engine) as session:
                    mark_sent(session, item=session.merge(item), result={"skipped": str(gone)})
                continue
            except (OSError, smtplib.SMTPException) as err:
                log.warning("email %s not sent: %s", item.key.rsplit(":", 1)[0], type(err).__name__)
                item.result = None  # refused by the server: certainly not sent
                with session_scope(engine) as session:
                    mark_failed(session, item=session.merge(item), error=str(err))
                continue
            with session_scope(engine) as session:
                mark_sent(
                    session, item=session.merge(item), result={"message_id": item.payload["message_id"]}
                )
            sent += 1
    log.info("sent %d emails", sent)
    return sent


def _clear_to_send(settings: Settings, engine: Engine, item: OutboxItem) -> bool:
    """Whether to send this reply now; marks it in flight first (see the module docstring).

    False when it turned out to be sent already (then it is recorded as sent) or when that
    cannot be told yet (the Sent folder unreachable: it is tried again later).
    """
    message_id = item.payload["message_id"]
    if isinstance(item.result, dict) and item.result.get("in_flight"):
        try:
            found = sent_folder_has(settings, message_id)
        except Exception as err:  # the IMAP server is down: do not guess, ask again later
            log.warning("reply %s in doubt and the Sent folder cannot be read (%s); waiting",
                        item.case_id, type(err).__name__)  # fmt: skip
            with session_scope(engine) as session:
                mark_failed(session, item=session.merge(item), error=f"in doubt: {err}")
            return False
        if found:
            log.info("reply %s was sent before a crash (found in Sent): not sent again", message_id)
            with session_scope(engine) as session:
                mark_sent(session, item=session.merge(item),
                          result={"message_id": message_id, "confirmed_by": "Sent folder"})  # fmt: skip
            return False
    item.result = {"in_flight": utcnow().isoformat()}
    with session_scope(engine) as session:
        session.merge(item)
    return True


class RecordGone(Exception):
    """The outgoing message a reply row sends is no longer stored (deleted with its case)."""


def _send(smtp: smtplib.SMTP, settings: Settings, engine: Engine, item: OutboxItem) -> None:
    """Send a row: a reply's recorded bytes as they are, anything else built from its payload."""
    payload = item.payload
    if payload.get("message_pk") is None:
        smtp.send_message(build(settings, _with_kind(item.kind, payload)))
        return
    with session_scope(engine) as session:
        message = session.get(Message, payload["message_pk"])
        raw = message.raw if message is not None else b""
    if not raw:
        raise RecordGone("its recorded message is no longer stored (the case was deleted)")
    envelope_from = sender(settings)
    recipients = [payload["to"], *(payload.get("cc") or [])]
    international = not all(address.isascii() for address in (envelope_from, *recipients))
    smtp.sendmail(envelope_from, recipients, raw, mail_options=["SMTPUTF8"] if international else [])


def _with_kind(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Acknowledgements queued before ``auto_reply`` existed are automatic replies all the same."""
    if kind == KIND and "auto_reply" not in payload:
        return {**payload, "auto_reply": True}
    return payload
