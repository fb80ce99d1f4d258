"""A real, throwaway Dovecot IMAP server for tests (recipe: ../shared/notes/dovecot-for-tests.md).

Free ports, a config rendered into a temp dir, ``dovecot -F -c CONF`` as a child process, ready
when the ``* OK`` greeting arrives; users in a passwd-file, Maildir in the temp dir; a
self-signed certificate for STARTTLS and implicit TLS. Tests deliver mail fast by writing files
into ``Maildir/new`` (or APPEND over IMAP when the test is about IMAP itself).

Skips with a clear reason when the ``dovecot`` binary is missing, and fails instead in CI.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient

from casework.settings import Settings
from tests.support.databases import IN_CI

USER = "alice"
PASSWORD = "alicepw"

_CONFIG = """\
base_dir      = {d}/run
state_dir     = {d}/state
instance_name = dovetest-{port}
protocols     = imap
listen        = 127.0.0.1
log_path      = {d}/dovecot.log
info_log_path = {d}/dovecot.log

ssl      = yes
ssl_cert = <{d}/cert.pem
ssl_key  = <{d}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_max_userip_connections = 100
mail_fsync = never

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = {uidgid}home={d}/mail/%u
}}
mail_location = maildir:~/Maildir

namespace inbox {{
  inbox = yes
  separator = /
  mailbox Archive {{
    auto = create
    special_use = \\Archive
  }}
  mailbox Trash {{
    auto = create
    special_use = \\Trash
  }}
}}

service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
  }}
{login_extra}}}
{rootless_extra}"""

_ROOTLESS = """\
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
service anvil {{
  chroot =
}}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.path.exists(p)), None
    )


class Dovecot:
    """One running Dovecot with one user (``alice``) and her Maildir."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.ssl_port = _free_port()
        self.user = USER
        self.password = PASSWORD
        self.cert_file = directory / "cert.pem"
        self.proc: subprocess.Popen[bytes] | None = None
        self._seq = 0
        self._is_root = os.geteuid() == 0
        self._setup()

    # --- setup ---------------------------------------------------------------------------
    def _setup(self) -> None:
        d = self.dir
        for sub in ("run", "state", "mail"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        (d / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
            check=True, capture_output=True,
        )  # fmt: skip
        if self._is_root:
            uidgid, login_extra, rootless_extra = "uid=nobody gid=nogroup ", "", ""
        else:
            user = pwd.getpwuid(os.getuid()).pw_name
            import grp

            group = grp.getgrgid(os.getgid()).gr_name
            uidgid, login_extra = "", "  chroot =\n"
            rootless_extra = _ROOTLESS.format(user=user, group=group)
        self.conf = d / "dovecot.conf"
        self.conf.write_text(
            _CONFIG.format(
                d=d, port=self.port, ssl_port=self.ssl_port, uidgid=uidgid,
                login_extra=login_extra, rootless_extra=rootless_extra,
            )
        )  # fmt: skip
        # Make the Maildir ourselves so tests can deliver into it before the first login.
        self.maildir(create=True)
        if self._is_root:
            os.chmod(d, 0o711)  # noqa: S103 - Dovecot's auth and mail users must reach it
            self._chown_tree(d / "mail")

    def _chown_tree(self, root: Path) -> None:
        nobody = pwd.getpwnam("nobody")
        for path in [root, *root.rglob("*")]:
            os.chown(path, nobody.pw_uid, nobody.pw_gid)

    def maildir(self, folder: str = "INBOX", *, create: bool = False) -> Path:
        """The Maildir directory of ``folder`` (``INBOX`` or a sub-folder such as ``Intake``)."""
        base = self.dir / "mail" / USER / "Maildir"
        path = base if folder.upper() == "INBOX" else base / ("." + folder.replace("/", "."))
        if create:
            for sub in ("cur", "new", "tmp"):
                (path / sub).mkdir(parents=True, exist_ok=True)
            if self._is_root:
                self._chown_tree(self.dir / "mail")
        return path

    # --- running -------------------------------------------------------------------------
    def start(self) -> None:
        out = open(self.dir / "dovecot.stdout", "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen([dovecot_binary() or "dovecot", "-F", "-c", str(self.conf)],
                                     stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)  # fmt: skip
        out.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited at start:\n{self.log()}")
            if self._greets():
                return
            time.sleep(0.05)
        raise RuntimeError(f"dovecot did not greet within 15 s:\n{self.log()}")

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1) as sock:
                return sock.recv(64).startswith(b"* OK")
        except OSError:
            return False

    def stop(self, *, fast: bool = True) -> None:
        """Stop the server: SIGKILL to every process (a crash) or SIGTERM (about 1 s, a clean shutdown)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            if fast:
                # The whole process group: a killed master's imap children would otherwise
                # go on serving connections already open.
                os.killpg(self.proc.pid, signal.SIGKILL)
            else:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if fast:
            # The children of a killed master exit by themselves within milliseconds; wait
            # until the port is free so a restart can bind it again.
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and self._greets():
                time.sleep(0.02)

    def restart(self, *, down_seconds: float = 0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def log(self) -> str:
        path = self.dir / "dovecot.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    # --- clients and mail ----------------------------------------------------------------
    def client(self, *, tls: str = "none") -> IMAPClient:
        """A logged-in IMAPClient; ``tls`` is none, starttls or ssl."""
        context = ssl.create_default_context(cafile=str(self.cert_file))
        if tls == "ssl":
            client = IMAPClient(self.host, port=self.ssl_port, ssl=True, ssl_context=context, timeout=10)
        else:
            client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
            if tls == "starttls":
                client.starttls(context)
        client.login(self.user, self.password)
        return client

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Drop a message into the folder's Maildir/new, as a local delivery agent does."""
        path = self.maildir(folder)
        self._seq += 1
        name = f"{int(time.time())}.M{self._seq}P{os.getpid()}.casework-test"
        tmp = path / "tmp" / name
        tmp.write_bytes(raw)
        if self._is_root:
            os.chown(tmp, pwd.getpwnam("nobody").pw_uid, -1)
        os.rename(tmp, path / "new" / name)

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """APPEND over IMAP (slow, but what a remote sender's server does)."""
        with self.client() as client:
            client.append(folder, raw)

    def settings(self, database_url: str, *, tls: str = "none", **overrides: Any) -> Settings:
        """Settings pointing at this server (and ``database_url``) for the code under test."""
        from tests.conftest import make_settings

        values: dict[str, Any] = {
            "imap_host": self.host,
            "imap_port": self.ssl_port if tls == "ssl" else self.port,
            "imap_user": self.user,
            "imap_password": self.password,
            "imap_tls": tls,
            "imap_ca_file": str(self.cert_file),
        }
        values.update(overrides)
        return make_settings(database_url, **values)

    def env(self, database_url: str, *, tls: str = "none", **overrides: str) -> dict[str, str]:
        """The same settings as environment variables, for a subprocess."""
        env = {
            "CASEWORK_DATABASE_URL": database_url,
            "CASEWORK_IMAP_HOST": self.host,
            "CASEWORK_IMAP_PORT": str(self.ssl_port if tls == "ssl" else self.port),
            "CASEWORK_IMAP_USER": self.user,
            "CASEWORK_IMAP_PASSWORD": self.password,
            "CASEWORK_IMAP_TLS": tls,
            "CASEWORK_IMAP_CA_FILE": str(self.cert_file),
        }
        env.update({f"CASEWORK_{k.upper()}": v for k, v in overrides.items()})
        return env


def require_dovecot() -> None:
    if dovecot_binary() is None:
        reason = "the dovecot binary is not installed (apt-get install dovecot-imapd)"
        if IN_CI:
            pytest.fail(f"CI must run the IMAP tests, but {reason}")
        pytest.skip(reason)


@pytest.fixture(name="dovecot")
def dovecot_fixture() -> Iterator[Dovecot]:
    """A started throwaway Dovecot; stopped (and its files removed) after the test."""
    require_dovecot()
    # Not under pytest's tmp_path: its parents are 0700, and Dovecot's auth and mail
    # processes run as other users and must be able to reach the files.
    directory = Path(tempfile.mkdtemp(prefix="casework-dovecot-"))
    server = Dovecot(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


# --- test mail -----------------------------------------------------------------------------

_WORDS = (  # noqa: SIM905 - easier to read as prose
    "street lighting burglary neighbour speeding parking school bus station patrol response "
    "officer complaint thanks community meeting budget precept council drugs noise youths park "
    "shop theft bicycle van motorway camera hate crime victim support custody delay letter phone "
    "call report investigation witness court evidence property damage graffiti dog fireworks "
    "garden fence window door car alarm market pub licence taxi cycle path canal bridge estate "
    "tenant landlord housing library hospital clinic pharmacy church mosque temple festival "
    "football match stadium concert"
).split()


def make_message(i: int, *, tag: str = "t", seed: int = 0) -> bytes:
    """A plausible, distinct letter from a distinct person (no two are near-duplicates)."""
    import random

    rng = random.Random(f"{seed}:{tag}:{i}")
    body = " ".join(rng.choice(_WORDS) for _ in range(60))
    return (
        f"From: Person {i} <person{i}.{tag}@example.org>\r\n"
        f"To: casework@opcc.example\r\n"
        f"Subject: Letter {i} about {rng.choice(_WORDS)}\r\n"
        f"Date: Mon, 01 Jul 2013 10:{i % 60:02d}:00 +0100\r\n"
        f"Message-ID: <{tag}-{i}-{seed}@example.org>\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Dear Commissioner,\r\n\r\nI am writing about {body}.\r\n\r\nYours, Person {i}\r\n"
    ).encode()


def message_id_of(raw: bytes) -> str:
    for line in raw.split(b"\r\n"):
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode()
    raise ValueError("no Message-ID")


# --- the pipeline the poller feeds -----------------------------------------------------------


def pipeline_for(settings: Settings, engine: Any) -> Any:
    """The real intake pipeline (one per test, so its classifier is loaded once)."""
    from intake.pipeline import Pipeline

    return Pipeline(settings, engine)
