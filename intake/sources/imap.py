"""Reading one IMAP folder: connect, find the messages not yet logged, fetch them, mark them.

The rule that keeps mail safe: a message is marked on the server (a keyword flag, or a move to
the processed folder, per ``CASEWORK_IMAP_MARK``) only **after** the pipeline has committed it.
A crash between the commit and the mark leaves the message unmarked; the next pass fetches it
again and the pipeline answers "duplicate", after which it is marked. So a crash at any moment
costs at most a re-read, never a lost or doubled message.

How far the poller has read is kept in the ``mailbox_state`` table (UIDVALIDITY and the last
UID marked). When the server's UIDVALIDITY changes (the folder was rebuilt or re-created), the
old UIDs mean nothing any more: the folder is read again from the start and deduplication in
the pipeline makes the second reading harmless.

Fetching uses ``BODY.PEEK[]``, so the ``\\Seen`` flag people see in their mail client is left
alone. Each batch's ``RFC822.SIZE`` is asked first: a message over ``CASEWORK_MAX_MESSAGE_BYTES``
is never downloaded. Only its header is, and it is logged as a case whose body is a note saying
it is too large to read automatically and where it is in the mailbox (the message stays there,
marked like any other). A case rather than the quarantine: the sender still gets a reference and
a caseworker sees it in triage, where a quarantined message waits for someone to look.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError
from imapclient.imapclient import SocketTimeout
from sqlalchemy import Engine, select

from casework.errors import UserError
from casework.settings import Settings
from store.db import session_scope
from store.models import MailboxState
from store.types import utcnow

log = logging.getLogger(__name__)

#: messages fetched per FETCH command: few round trips, bounded memory
FETCH_BATCH = 50
#: leave IDLE and look again this often even when the server says nothing (RFC 2177: < 29 min)
IDLE_RENEW_SECONDS = 9 * 60

#: what a dropped connection, a restarting server or a network fault looks like
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OSError, IMAPClientAbortError, EOFError)


class ImapSettingsMissing(UserError):
    """The IMAP settings needed to connect are not set."""


class ImapRefused(UserError):
    """The server answered but refused us (login, certificate, permission)."""


class ImapUnavailable(UserError):
    """The server could not be reached, or the connection dropped; worth retrying."""


def require_imap_settings(settings: Settings) -> None:
    """Raise a clear :class:`ImapSettingsMissing` naming every IMAP variable that is not set."""
    missing = [
        name
        for name, value in (
            ("CASEWORK_IMAP_HOST", settings.imap_host),
            ("CASEWORK_IMAP_USER", settings.imap_user),
            ("CASEWORK_IMAP_PASSWORD", settings.imap_password.get_secret_value()),
        )
        if not value
    ]
    if missing:
        raise ImapSettingsMissing(
            f"IMAP is not configured: set {', '.join(missing)} (and CASEWORK_IMAP_PORT, "
            "CASEWORK_IMAP_TLS=none|starttls|ssl, CASEWORK_IMAP_FOLDER if not the defaults) "
            "in the environment or .env."
        )
    if settings.imap_mark == "flag" and not settings.imap_processed_flag.strip():
        raise ImapSettingsMissing("CASEWORK_IMAP_MARK is 'flag' but CASEWORK_IMAP_PROCESSED_FLAG is empty.")
    if settings.imap_mark == "move" and not settings.imap_processed_folder.strip():
        raise ImapSettingsMissing("CASEWORK_IMAP_MARK is 'move' but CASEWORK_IMAP_PROCESSED_FOLDER is empty.")


def mailbox_key(settings: Settings) -> str:
    """The ``mailbox_state`` row of the configured folder (not the port: TLS mode may change)."""
    return f"{settings.imap_user}@{settings.imap_host}/{settings.imap_folder}"[:500]


# --- the poller's place in the folder --------------------------------------------------------


@dataclass
class Position:
    uidvalidity: int
    last_uid: int


def _state_query(key: str) -> Any:
    return select(MailboxState).where(MailboxState.mailbox == key)  # type: ignore[arg-type]


def load_position(engine: Engine, key: str, uidvalidity: int) -> Position:
    """Where to go on from; UID 0 when the folder is new to us or its UIDVALIDITY changed."""
    with session_scope(engine) as session:
        row = session.execute(_state_query(key)).scalar_one_or_none()
        if row is None:
            session.add(MailboxState(mailbox=key, uidvalidity=uidvalidity, last_uid=0))
            return Position(uidvalidity, 0)
        if row.uidvalidity != uidvalidity:
            log.warning(
                "IMAP folder %s: UIDVALIDITY changed from %s to %s; reading the whole folder again "
                "(messages already logged are recognised as duplicates)",
                key, row.uidvalidity, uidvalidity,
            )  # fmt: skip
            row.uidvalidity, row.last_uid, row.updated_at = uidvalidity, 0, utcnow()
        return Position(row.uidvalidity, row.last_uid)


def save_position(engine: Engine, key: str, position: Position) -> None:
    with session_scope(engine) as session:
        row = session.execute(_state_query(key)).scalar_one()
        if row.uidvalidity == position.uidvalidity and position.last_uid > row.last_uid:
            row.last_uid, row.updated_at = position.last_uid, utcnow()


# --- the connection --------------------------------------------------------------------------


def sent_settings(settings: Settings) -> Settings:
    """The settings for reading the office's Sent folder: that folder, marked by keyword only.

    Sent items are the office's record of what it sent: they are flagged, never moved away.
    """
    return settings.model_copy(update={"imap_folder": settings.imap_sent_folder, "imap_mark": "flag"})


def is_sent_source(settings: Settings, source: str) -> bool:
    """Whether ``source`` (an :meth:`ImapFolder.source` URL) names a message of the Sent folder."""
    folder = settings.imap_sent_folder
    return bool(folder) and source.startswith("imap://") and f"/{folder};UIDVALIDITY=" in source


def sent_folder_has(settings: Settings, message_id: str) -> bool | None:
    """Whether the Sent folder holds a message with this Message-ID (None: no Sent folder to ask)."""
    if not settings.imap_sent_folder or not settings.imap_enabled:
        return None
    folder = ImapFolder(settings, sent=True)
    folder.connect()
    try:
        found = folder._c().search(["HEADER", "Message-ID", message_id])
        return bool(found)
    finally:
        folder.close()


class ImapFolder:
    """One logged-in connection with the configured folder selected (or, ``sent``, the Sent folder)."""

    def __init__(self, settings: Settings, *, sent: bool = False) -> None:
        require_imap_settings(settings)
        self.sent = sent
        #: whether logged messages are marked with the processed keyword (a Sent folder may refuse it)
        self._keyword = True
        self.folder_setting = "CASEWORK_IMAP_SENT_FOLDER" if sent else "CASEWORK_IMAP_FOLDER"
        settings = sent_settings(settings) if sent else settings
        self.settings = settings
        self.key = mailbox_key(settings)
        self.client: IMAPClient | None = None
        self.uidvalidity = 0
        self._can_move = False
        self._can_idle = False

    # connect / close ---------------------------------------------------------------------
    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.imap_ca_file or None)

    def connect(self) -> None:
        from casework.transport import require_tls_for_passwords

        s = self.settings
        require_tls_for_passwords(s, only="IMAP")
        where = f"{s.imap_host}:{s.imap_port} (CASEWORK_IMAP_TLS={s.imap_tls})"
        timeout = SocketTimeout(connect=15, read=120)
        try:
            if s.imap_tls == "ssl":
                client = IMAPClient(s.imap_host, port=s.imap_port, ssl=True, ssl_context=self._context(),
                                    timeout=timeout)  # fmt: skip
            else:
                client = IMAPClient(s.imap_host, port=s.imap_port, ssl=False, timeout=timeout)
                if s.imap_tls == "starttls":
                    client.starttls(self._context())
        except ssl.SSLCertVerificationError as err:
            raise ImapRefused(
                f"The IMAP server {where} has a certificate we cannot verify ({err.verify_message}). "
                "Set CASEWORK_IMAP_CA_FILE to the CA certificate that signed it."
            ) from err
        except (*TRANSIENT_ERRORS, IMAPClientError) as err:
            raise ImapUnavailable(
                f"Cannot reach the IMAP server {where}: {err}. Check CASEWORK_IMAP_HOST, "
                "CASEWORK_IMAP_PORT and CASEWORK_IMAP_TLS, and that the server is running."
            ) from err
        try:
            client.login(s.imap_user, s.imap_password.get_secret_value())
        except LoginError as err:
            _close_quietly(client)
            raise ImapRefused(
                f"The IMAP server {where} refused the login for CASEWORK_IMAP_USER: "
                "check CASEWORK_IMAP_USER and CASEWORK_IMAP_PASSWORD."
            ) from err
        except TRANSIENT_ERRORS as err:
            _close_quietly(client)
            raise ImapUnavailable(f"The IMAP connection to {where} dropped during login: {err}") from err
        self.client = client
        caps = set(client.capabilities())
        self._can_move = b"MOVE" in caps
        self._can_idle = b"IDLE" in caps
        try:
            selected = client.select_folder(s.imap_folder)
        except IMAPClientError as err:
            if isinstance(err, IMAPClientAbortError):
                raise
            self.close()
            raise ImapRefused(
                f"Cannot open the IMAP folder {s.imap_folder!r}: {err}. Check {self.folder_setting}."
            ) from err
        self.uidvalidity = int(selected[b"UIDVALIDITY"])
        if s.imap_mark == "flag":
            permanent = {bytes(f) for f in selected.get(b"PERMANENTFLAGS", ())}
            allowed = b"\\*" in permanent or s.imap_processed_flag.encode() in permanent
            if not allowed and self.sent:
                # the office's Sent items are never moved: the saved position (and dedupe) is enough
                log.warning("IMAP %s: the Sent folder takes no keyword; read by position only", self.key)
                self._keyword = False
            elif not allowed:
                self.close()
                raise ImapRefused(
                    f"The folder {s.imap_folder!r} does not allow the keyword {s.imap_processed_flag!r}. "
                    "Use CASEWORK_IMAP_MARK=move with CASEWORK_IMAP_PROCESSED_FOLDER instead."
                )
        elif not client.folder_exists(s.imap_processed_folder):
            client.create_folder(s.imap_processed_folder)
        log.info("IMAP %s: connected, UIDVALIDITY %s", self.key, self.uidvalidity)

    def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            _close_quietly(client)

    @property
    def can_idle(self) -> bool:
        return self._can_idle

    def _c(self) -> IMAPClient:
        if self.client is None:
            raise ImapUnavailable("not connected to the IMAP server")
        return self.client

    # reading -----------------------------------------------------------------------------
    def pending(self, after_uid: int) -> list[int]:
        """UIDs above ``after_uid`` not yet marked, in ascending order."""
        client = self._c()
        client.noop()  # let the server notice mail delivered since the last command
        criteria: list[str] = ["UID", f"{after_uid + 1}:*"]
        if self.settings.imap_mark == "flag" and self._keyword:
            criteria += ["NOT", "KEYWORD", self.settings.imap_processed_flag]
        # "n:*" always matches the highest UID, even when it is below n: filter here.
        return sorted(uid for uid in client.search(criteria) if uid > after_uid)

    def fetch(self, uids: list[int]) -> Iterator[tuple[int, bytes]]:
        """``(uid, raw bytes)`` of each message still there, in UID order, a batch at a time."""
        client = self._c()
        limit = self.settings.max_message_bytes
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            sizes = client.fetch(batch, ["RFC822.SIZE"])
            big = [uid for uid in batch if int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0)) > limit]
            small = [uid for uid in batch if uid in sizes and uid not in big]
            found = client.fetch(small, ["BODY.PEEK[]"]) if small else {}
            heads = client.fetch(big, ["BODY.PEEK[HEADER]"]) if big else {}
            for uid in batch:
                if uid in heads and b"BODY[HEADER]" in heads[uid]:
                    size = int(sizes[uid][b"RFC822.SIZE"])
                    log.warning("IMAP uid %d: %d bytes, over the size limit; header only", uid, size)
                    yield uid, too_large(bytes(heads[uid][b"BODY[HEADER]"]), size, self.source(uid))
                    continue
                data = found.get(uid)
                if data is None or b"BODY[]" not in data:
                    continue  # expunged by someone else meanwhile
                yield uid, bytes(data[b"BODY[]"])

    def source(self, uid: int) -> str:
        """An IMAP URL (RFC 5092 style) naming the message, kept with it as its source."""
        s = self.settings
        return f"imap://{s.imap_user}@{s.imap_host}/{s.imap_folder};UIDVALIDITY={self.uidvalidity}/;UID={uid}"

    # marking -----------------------------------------------------------------------------
    def mark(self, uids: list[int]) -> None:
        """Mark messages as logged. Call only once their pipeline transaction committed."""
        if not uids:
            return
        client = self._c()
        s = self.settings
        if s.imap_mark == "flag" and not self._keyword:
            return
        if s.imap_mark == "flag":
            client.add_flags(uids, [s.imap_processed_flag.encode()], silent=True)
        elif self._can_move:
            client.move(uids, s.imap_processed_folder)
        else:
            client.copy(uids, s.imap_processed_folder)
            client.add_flags(uids, [b"\\Deleted"], silent=True)
            if b"UIDPLUS" in set(client.capabilities()):
                client.uid_expunge(uids)
            else:
                client.expunge()

    # waiting -----------------------------------------------------------------------------
    def wait_for_mail(self, stop: threading.Event, *, seconds: float) -> None:
        """Return when the server reports new mail, ``seconds`` pass, or ``stop`` is set (IDLE)."""
        client = self._c()
        client.idle()
        deadline = time.monotonic() + seconds
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                started = time.monotonic()
                responses = client.idle_check(timeout=1.0)
                if not responses and time.monotonic() - started < 0.5:
                    # imapclient's idle_check swallows EOF and returns [] at once: a dropped
                    # connection looks like this. Leave IDLE; the next command finds out.
                    return
                kinds = {r[1] if isinstance(r[1], bytes) else r[0] for r in responses if len(r) > 1}
                if any(isinstance(r, tuple) and r and r[0] == b"BYE" for r in responses):
                    raise ImapUnavailable("the IMAP server closed the connection (BYE)")
                if b"EXISTS" in kinds or b"RECENT" in kinds:
                    return
        finally:
            if self.client is not None:
                try:
                    client.idle_done()
                except (*TRANSIENT_ERRORS, IMAPClientError) as err:
                    raise ImapUnavailable(f"IMAP connection dropped while idling: {err}") from err


TOO_LARGE_NOTE = "too large to read automatically, open it in the mailbox"
_BODY_HEADERS = (b"content-type:", b"content-transfer-encoding:", b"mime-version:")


def too_large(header: bytes, size: int, source: str) -> bytes:
    """A message of ``header`` (its own, kept) and a short note in place of the body."""
    kept: list[bytes] = []
    dropping = False
    for line in header.replace(b"\r\n", b"\n").split(b"\n"):
        if not line.strip():
            continue
        if line[:1] in (b" ", b"\t"):  # a folded continuation of the field before
            if not dropping:
                kept.append(line)
            continue
        dropping = line.lower().startswith(_BODY_HEADERS)
        if not dropping:
            kept.append(line)
    kept += [b"MIME-Version: 1.0", b"Content-Type: text/plain; charset=utf-8", b"X-Casework-Too-Large: yes"]
    note = (
        f"[This message is {size / 1_000_000:.1f} MB, over CASEWORK_MAX_MESSAGE_BYTES: {TOO_LARGE_NOTE}. "
        f"It is at {source}]"
    )
    return b"\r\n".join(kept) + b"\r\n\r\n" + note.encode() + b"\r\n"


def _close_quietly(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # already broken: close the socket, and nothing more can be done
        with contextlib.suppress(Exception):
            client.shutdown()


def is_transient(err: BaseException) -> bool:
    """True for errors that a reconnect after a pause can cure."""
    return isinstance(err, (ImapUnavailable, socket.timeout, IMAPClientAbortError, *TRANSIENT_ERRORS))
