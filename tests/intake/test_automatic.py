"""automatic_reason / is_no_reply: automatic mail is recognised, people's mail (incl. marketing) is not."""

from __future__ import annotations

import csv

import pytest

from intake.automatic import automatic_reason, is_no_reply
from intake.parse import parse_message
from tests.conftest import CORPUS, MAIL_FIXTURES, shared_or_skip


def _corpus_rows() -> list[dict[str, str]]:
    labels = CORPUS / "labels.tsv"
    if not labels.exists():
        return []
    with labels.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_corpus_auto_messages_and_only_those_are_automatic() -> None:
    """The 4 'auto' corpus messages are automatic; none of the 146 others (marketing with
    List-Unsubscribe/Precedence: bulk, campaign-site mail with Sender:) is."""
    rows = _corpus_rows() or pytest.skip("corpus not here")
    wrong = []
    for row in rows:
        reason = automatic_reason(parse_message((CORPUS / row["file"]).read_bytes()))
        if (reason is not None) != (row["category"] == "auto"):
            wrong.append((row["file"], row["category"], reason))
    assert wrong == []
    assert sum(row["category"] == "auto" for row in rows) == 4


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("sisimai/maildir/bsd/rfc3834-01.eml", "Auto-Submitted"),
        ("sisimai/maildir/bsd/rfc3834-05.eml", "Auto-Submitted"),  # meaningless subject, header only
        ("alaveteli/track-response-abcmail-oof.eml", "Auto-Submitted"),
        ("cpython/msg_16.txt", "delivery-status"),  # multipart/report DSN
        ("sisimai/maildir/bsd/rfc3834-02.eml", "null Return-Path"),  # Exchange "Automatic reply"
        ("alaveteli/empty-return-path.eml", "null Return-Path"),
        ("alaveteli/track-response-messageclass-oof.eml", "autoresponder"),
        ("sisimai/maildir/bsd/lhost-einsundeins-02.eml", "mail server"),  # non-MIME bounce from mailer-daemon
        ("alaveteli/track-response-outlook-oof.eml", "out-of-office"),  # only the subject says so
        ("sisimai/maildir/bsd/rfc3834-03.eml", "out-of-office"),  # Apple "Auto reply:"
        ("sisimai/maildir/bsd/lhost-kddi-01.eml", "no-reply"),  # Japanese bounce from no-reply@
    ],
)
def test_fixture_is_automatic_for_the_right_reason(path: str, expected: str) -> None:
    """Each kind of automatic mail is recognised, and the reason names what gave it away."""
    msg = parse_message(shared_or_skip(MAIL_FIXTURES / path).read_bytes())
    reason = automatic_reason(msg)
    assert reason is not None and expected in reason


@pytest.mark.parametrize(
    "path",
    [
        "sisimai/maildir/not/is-not-bounce-01.eml",
        "sisimai/maildir/not/is-not-bounce-02.eml",
        "cpython/msg_01.txt",
        "alaveteli/document-pdf.eml",
    ],
)
def test_personal_mail_is_not_automatic(path: str) -> None:
    """Negative controls: personal mail and a forward with a message/rfc822 attachment."""
    msg = parse_message(shared_or_skip(MAIL_FIXTURES / path).read_bytes())
    assert automatic_reason(msg) is None


def _mail(headers: str, body: str = "Hello, I am writing about the station.") -> bytes:
    base = "From: Pat <pat@example.org>\r\nTo: casework@pcc.example.gov.uk\r\nSubject: Station\r\n"
    return (base + headers + "\r\n" + body + "\r\n").encode()


@pytest.mark.parametrize(
    ("headers", "automatic"),
    [
        ("Auto-Submitted: no\r\n", False),  # RFC 3834: 'no' means a person sent it
        ("Auto-Submitted: auto-generated (vacation)\r\n", True),
        ("Precedence: junk\r\n", True),
        ("Precedence: bulk\r\nList-Unsubscribe: <mailto:u@example.org>\r\n", False),  # newsletter = marketing
        (
            "List-Id: <residents.lists.example.org>\r\nList-Post: <mailto:residents@lists.example.org>\r\n",
            True,
        ),
        ("X-Autoreply: yes\r\n", True),
        ("Sender: action@campaign.example.org\r\n", False),  # sent via a campaign website
        ("X-Auto-Response-Suppress: All\r\n", False),  # Outlook sets this on ordinary mail too
    ],
)
def test_header_rules(headers: str, automatic: bool) -> None:
    """One header at a time: which ones make mail automatic and which do not."""
    assert (automatic_reason(parse_message(_mail(headers))) is not None) is automatic


@pytest.mark.parametrize(
    ("subject", "automatic"),
    [
        ("Out of Office: Station", True),
        ("Automatic reply: Station", True),
        ("Out of office hours policing in Walsall", False),  # a person's topic, not an auto-reply
        ("Undeliverable: Station", True),
        ("Re: Station", False),
    ],
)
def test_subject_rules(subject: str, automatic: bool) -> None:
    """Subjects of auto-replies and bounces are recognised without catching people's subjects."""
    raw = _mail("").replace(b"Subject: Station", f"Subject: {subject}".encode())
    assert (automatic_reason(parse_message(raw)) is not None) is automatic


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("noreply@example.org", True),
        ("no-reply@example.org", True),
        ("No_Reply@Example.org", True),
        ("donotreply@example.org", True),
        ("MAILER-DAEMON@mx.example.org", True),
        ("postmaster@x.org", True),
        ("bounces+27344474b2e8@mailer.example.com", True),
        ("list-request@lists.example.org", True),
        ("", True),
        ("jo.bloggs@example.org", False),
        ("replies@example.org", False),
        ("noreen@example.org", False),
        ("bouncer.smith@example.org", False),
    ],
)
def test_is_no_reply(address: str, expected: bool) -> None:
    """Machine addresses are recognised; people whose names merely look similar are not."""
    assert is_no_reply(address) is expected
