"""TLS or refuse: a mail password is never sent over a connection without TLS.

``CASEWORK_IMAP_TLS=none`` or ``CASEWORK_SMTP_TLS=none`` with a password set would send that
password in clear to anyone on the path. In ``CASEWORK_ENVIRONMENT=production`` that is refused
at start (``casework serve`` and ``casework poll``) and again when connecting, with the setting
to change; a server on the loopback interface (a local relay, a tunnel's end) is the exception,
since nothing outside the machine sees that traffic. Outside production it is a warning, once.
"""

from __future__ import annotations

import ipaddress
import logging

from casework.errors import UserError
from casework.settings import Settings

log = logging.getLogger(__name__)

_warned: set[str] = set()


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cleartext_passwords(settings: Settings) -> list[str]:
    """What would send a password without TLS, one sentence each (empty: nothing)."""
    found = []
    if (
        settings.imap_enabled
        and settings.imap_tls == "none"
        and settings.imap_password.get_secret_value()
        and not is_loopback(settings.imap_host)
    ):
        found.append(
            f"CASEWORK_IMAP_TLS=none would send the IMAP password to {settings.imap_host} in clear: "
            "set CASEWORK_IMAP_TLS=ssl (port 993) or starttls (port 143)"
        )
    if (
        settings.smtp_enabled
        and settings.smtp_tls == "none"
        and settings.smtp_user
        and settings.smtp_password.get_secret_value()
        and not is_loopback(settings.smtp_host)
    ):
        found.append(
            f"CASEWORK_SMTP_TLS=none would send the SMTP password to {settings.smtp_host} in clear: "
            "set CASEWORK_SMTP_TLS=starttls (port 587) or ssl (port 465)"
        )
    return found


def require_tls_for_passwords(settings: Settings, *, only: str | None = None) -> None:
    """Refuse (production) or warn once (elsewhere); ``only``: "IMAP" or "SMTP"."""
    problems = [p for p in cleartext_passwords(settings) if only is None or f"_{only}_" in p]
    if not problems:
        return
    if settings.environment == "production":
        raise UserError("Refusing to start: " + "; ".join(problems) + ".")
    for problem in problems:
        if problem not in _warned:
            _warned.add(problem)
            log.warning("%s (refused when CASEWORK_ENVIRONMENT=production)", problem)
