"""parse_message: every shared real-world fixture parses, and each notable quirk reads right."""

from __future__ import annotations

import csv
import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.parse import Unparseable, parse_message
from intake.tnef import SIGNATURE, read_tnef
from tests.conftest import CORPUS, MAIL_FIXTURES, shared_or_skip


def _manifest() -> list[str]:
    path = MAIL_FIXTURES / "MANIFEST.tsv"
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [row["path"] for row in csv.DictReader(handle, delimiter="\t")]


#: fixtures that are not email at all: quarantined with a reason, never crash
NOT_MAIL = {"enmime/mail/erroneous.raw", "cpython/msg_19.txt"}


def fixture(path: str) -> bytes:
    return shared_or_skip(MAIL_FIXTURES / path).read_bytes()


@pytest.mark.parametrize("path", _manifest() or ["(no manifest)"])
def test_every_fixture_parses_without_a_crash(path: str) -> None:
    """Every file in the shared MANIFEST becomes a ParsedMessage, or Unparseable with a reason."""
    raw = fixture(path)
    if path in NOT_MAIL:
        with pytest.raises(Unparseable) as caught:
            parse_message(raw)
        assert caught.value.reason
        return
    msg = parse_message(raw)
    assert msg.raw == raw
    assert not any(defect.startswith("parser fault") for defect in msg.defects), msg.defects
    assert isinstance(msg.body_text, str) and isinstance(msg.subject, str)
    assert msg.from_addr == msg.from_addr.lower()
    assert msg.date is None or msg.date.tzinfo is not None
    for attachment in msg.attachments:
        assert attachment.size >= 0 and attachment.filename


def test_manifest_is_not_empty() -> None:
    """The parametrised test above really ran over the fixtures."""
    shared_or_skip(MAIL_FIXTURES / "MANIFEST.tsv")
    assert len(_manifest()) > 250


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \r\n\r\n",
        b"\x00\x01\x02\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        b"// Not an RFC-822 Document",
    ],
)
def test_not_an_email_is_unparseable_with_a_reason(raw: bytes) -> None:
    """Empty bytes and binary junk raise Unparseable (the pipeline quarantines them)."""
    with pytest.raises(Unparseable, match=r"empty|not an email"):
        parse_message(raw)


def test_legacy_charset_body_is_decoded() -> None:
    """windows-1252 quoted-printable body and RFC 2047 windows-1252 subject come out as text."""
    msg = parse_message(shared_or_skip(CORPUS / "d104.eml").read_bytes())
    assert "–" in msg.subject and "=?" not in msg.subject
    assert "=E2" not in msg.body_text and "=9" not in msg.body_text
    assert msg.from_name and "=?" not in msg.from_name


def test_koi8r_and_latin2_parts() -> None:
    """koi8-r and iso-8859-2 parts decode to Cyrillic / Latin-2 letters."""
    raw = (
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
        b"Content-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\xd2\xc9\xd7\xc5\xd4\r\n--B\r\n"
        b"Content-Type: text/plain; charset=iso-8859-2\r\n\r\nZa\xbf\xf3\xb3\xe6\r\n--B--\r\n"
    )
    msg = parse_message(raw)
    assert "Привет" in msg.body_text
    assert "Zażółć" in msg.body_text


def test_shift_jis_body() -> None:
    """An 8-bit Shift_JIS body is decoded with its charset."""
    msg = parse_message(fixture("mikel-mail/multi_charset/japanese_shift_jis.eml"))
    assert "あいうえお" in msg.body_text


def test_unknown_charset_falls_back_and_is_recorded() -> None:
    """A bogus charset ('fakescii') still gives the text, and the defect says so."""
    msg = parse_message(fixture("enmime/low-quality/unk-charset-part.raw"))
    assert "A text section" in msg.body_text
    assert any("fakescii" in defect for defect in msg.defects)


def test_charset_param_that_is_literally_charset_equals() -> None:
    """charset="charset=us-ascii" (a LookupError for Python) is read as us-ascii."""
    msg = parse_message(fixture("enmime/mail/html-mime-bad-charset-inline.raw"))
    assert msg.body_text.strip()


def test_html_only_is_converted_to_readable_text() -> None:
    """An HTML-only message gives text without tags, with paragraphs kept apart."""
    raw = (
        b"From: Sam <sam@example.org>\r\nTo: casework@example.gov.uk\r\nSubject: hi\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><style>p {color: red}</style><title>T</title></head><body>"
        b"<p>First &amp; foremost</p><p>Second<br>line</p><script>alert(1)</script></body></html>"
    )
    msg = parse_message(raw)
    assert msg.body_text == "First & foremost\n\nSecond\nline"


def test_alternative_prefers_plain_text() -> None:
    """multipart/alternative: the text/plain version is the body, not both versions."""
    msg = parse_message(fixture("enmime/mail/quoted-printable-mime.raw"))
    assert "<" not in msg.body_text[:200]
    assert msg.content_type == "multipart/alternative"


def test_alternative_with_only_html_and_inline_image() -> None:
    """alternative > related > html + png: HTML converted, the image kept as an attachment."""
    msg = parse_message(fixture("enmime/low-quality/html-only-inline.raw"))
    assert msg.body_text == "Test of HTML section"
    assert [a.content_type for a in msg.attachments] == ["image/png"]


def test_rfc2047_subject_is_decoded() -> None:
    """A UTF-8 RFC 2047 subject is decoded."""
    msg = parse_message(shared_or_skip(CORPUS / "d115.eml").read_bytes())
    assert "–" in msg.subject and "=?" not in msg.subject


def test_malformed_rfc2047_does_not_raise() -> None:
    """An encoded word that decodes to invalid UTF-8 still gives a readable subject."""
    msg = parse_message(fixture("alaveteli/subject-bad-utf-8-trailing-base64.eml"))
    assert msg.subject.startswith("hello")


def test_encoded_word_with_crlf_inside_from_name() -> None:
    """An RFC 2047 display name with CR/LF inside (policy.default raises on it) is read."""
    msg = parse_message(fixture("enmime/mail/qp-utf8-header-recursed.raw"))
    assert msg.from_addr == "jamehi03@jamehi03lx.noa.com"
    assert msg.subject.startswith("MIME UTF8 Test")


def test_encoded_comma_in_display_name_stays_one_address() -> None:
    """An encoded comma in a display name does not split the From address."""
    msg = parse_message(fixture("mail-parser/mail_test_18"))
    assert msg.from_addr == "comma.name@example.com"
    assert "," in msg.from_name


def test_missing_message_id_is_none() -> None:
    """No Message-ID header → message_id None (the pipeline dedupes on the raw hash instead)."""
    msg = parse_message(fixture("cpython-main/msg_47.txt"))
    assert msg.message_id is None
    assert "no Message-ID" in msg.defects


def test_impossible_date_is_none() -> None:
    """A Date with hour 27 is not a date: None, not an exception."""
    msg = parse_message(fixture("cpython-main/msg_47.txt"))
    assert msg.date is None


def test_headers_and_ids() -> None:
    """Addresses lower-cased, ids with brackets, references in order, date aware."""
    raw = (
        b'From: "Jo Bloggs" <Jo.Bloggs@Example.ORG>\r\nTo: a@x.org, "B" <B@x.org>\r\nCc: c@x.org\r\n'
        b"Subject: Re: thing\r\nDate: Mon, 4 Mar 2013 09:30:00 +0000\r\nMessage-ID: <m2@x.org>\r\n"
        b"In-Reply-To: <m1@x.org>\r\nReferences: <m0@x.org>\r\n <m1@x.org>\r\n\r\nhello\r\n"
    )
    msg = parse_message(raw)
    assert (msg.from_name, msg.from_addr) == ("Jo Bloggs", "jo.bloggs@example.org")
    assert msg.to_addrs == ["a@x.org", "b@x.org"] and msg.cc_addrs == ["c@x.org"]
    assert (msg.message_id, msg.in_reply_to, msg.references) == (
        "<m2@x.org>",
        "<m1@x.org>",
        ["<m0@x.org>", "<m1@x.org>"],
    )
    assert msg.date == datetime(2013, 3, 4, 9, 30, tzinfo=UTC)
    assert msg.headers["subject"] == "Re: thing"


def test_duplicate_from_takes_the_real_address() -> None:
    """Two From headers (a placeholder prepended): the first one with an address wins."""
    msg = parse_message(fixture("alaveteli/empty-return-path.eml"))
    assert msg.from_addr == "mailer-daemon@sandwich.com"
    assert "duplicate From headers" in msg.defects


def test_two_mailboxes_without_comma() -> None:
    """From with two mailboxes and no comma still yields the first address."""
    msg = parse_message(fixture("enmime/mail/malformed-multiple-address-header-values.raw"))
    assert msg.from_addr == "bob@extern"


def test_broken_boundary_keeps_the_text() -> None:
    """multipart without a usable boundary: the body is kept as text and the defect recorded."""
    msg = parse_message(fixture("enmime/mail/multipart-wo-boundary.raw"))
    assert "multipart message without boundary" in msg.body_text
    assert any(defect.startswith("broken boundary") for defect in msg.defects)


def test_missing_closing_boundary() -> None:
    """A multipart whose closing boundary never comes still gives its first part's text."""
    msg = parse_message(fixture("enmime/parts/multimixed-no-closing-boundary.raw"))
    assert msg.body_text.strip()


def test_forwarded_message_text_is_included_and_kept() -> None:
    """A forwarded message/rfc822 part: its text is in the body and the message is an attachment."""
    inner = b"From: orig@example.net\r\nSubject: Original words\r\n\r\nThe constituent's own letter.\r\n"
    raw = (
        b"From: mp@example.org\r\nTo: casework@example.gov.uk\r\nSubject: Fwd: Original words\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\n"
        b"Content-Type: text/plain\r\n\r\nPlease see below.\r\n--X\r\nContent-Type: message/rfc822\r\n\r\n"
        + inner
        + b"--X--\r\n"
    )
    msg = parse_message(raw)
    assert "Please see below." in msg.body_text
    assert "The constituent's own letter." in msg.body_text and "Subject: Original words" in msg.body_text
    assert msg.attachments[0].content_type == "message/rfc822"
    assert msg.attachments[0].content is not None and b"Original words" in msg.attachments[0].content


def test_bounce_returned_message_is_not_read_as_the_body() -> None:
    """multipart/report: the human part is the body; status and returned mail are attachments."""
    msg = parse_message(fixture("cpython/msg_16.txt"))
    assert msg.content_type == "multipart/report"
    types = [a.content_type for a in msg.attachments]
    assert "message/delivery-status" in types


def test_base64_attachment_metadata_and_size_limit() -> None:
    """Attachments keep filename, type and size; content is dropped above the limit."""
    raw = fixture("cpython/msg_07.txt")
    full = parse_message(raw)
    gif = next(a for a in full.attachments if a.content_type == "image/gif")
    assert gif.content is not None and gif.content.startswith(b"GIF8") and gif.size == len(gif.content)
    small = parse_message(raw, attachment_max_bytes=10)
    clipped = next(a for a in small.attachments if a.content_type == "image/gif")
    assert clipped.content is None and clipped.truncated and clipped.size == gif.size


def test_rfc2231_and_encoded_filenames() -> None:
    """A Japanese RFC 2231 filename is decoded."""
    msg = parse_message(fixture("mikel-mail/multi_charset/japanese_attachment_long_name.eml"))
    names = [a.filename for a in msg.attachments] or [""]
    assert all("=?" not in name and "%" not in name for name in names)


def test_tnef_attachment_is_kept_and_its_text_read() -> None:
    """winmail.dat stays an attachment, and its body text is extracted into body_text."""
    msg = parse_message(fixture("alaveteli/tnef-attachment-empty.eml"))
    assert any(a.filename == "winmail.dat" for a in msg.attachments)
    assert "THE BILL OF RIGHTS" in msg.body_text


def test_truncated_tnef_does_not_raise() -> None:
    """A truncated winmail.dat is kept; reading it gives what it can without an exception."""
    msg = parse_message(fixture("alaveteli/tnef-attachment-truncated.eml"))
    assert any(a.content_type == "application/ms-tnef" for a in msg.attachments)


def test_tnef_reader_extracts_body_and_files() -> None:
    """A hand-built TNEF stream: attBody text and an attached file (title + data) come out."""

    def attribute(level: int, attr: int, data: bytes) -> bytes:
        return struct.pack("<BII", level, attr, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)

    stream = struct.pack("<IH", SIGNATURE, 1) + attribute(1, 0x0002800C, b"Body from Outlook\x00")
    stream += attribute(2, 0x00069002, b"\x00" * 14) + attribute(2, 0x00018010, b"notes.txt\x00")
    stream += attribute(2, 0x0006800F, b"file contents")
    content = read_tnef(stream)
    assert content.body == "Body from Outlook"
    assert [(f.filename, f.data) for f in content.files] == [("notes.txt", b"file contents")]
    assert read_tnef(stream[:30]).files == []  # truncated: no exception


def test_cr_only_line_endings() -> None:
    """Classic-Mac CR-only line endings still split headers from body."""
    msg = parse_message(fixture("sisimai/maildir/mac/lhost-postfix-01.eml"))
    assert msg.subject == "Undelivered Mail Returned to Sender"
    assert msg.from_addr.startswith("mailer-daemon@")


def test_raw_8bit_header_bytes_become_text() -> None:
    """Raw 8-bit bytes in a header (no RFC 2047) do not leak surrogates into the subject."""
    msg = parse_message(fixture("mailman2/tests/bounces/sina_01.txt"))
    msg.subject.encode("utf-8")  # raises if lone surrogates were left in


def test_corpus_messages_all_have_text(tmp_path: Path) -> None:
    """Every dev-corpus message has its headers and (except bounces) readable text."""
    corpus = shared_or_skip(CORPUS)
    for path in sorted(corpus.glob("*.eml")):
        msg = parse_message(path.read_bytes())
        assert msg.message_id and msg.from_addr and msg.date is not None, path.name
        assert msg.defects == [], (path.name, msg.defects)
        if msg.content_type != "multipart/report":
            assert len(msg.body_text) > 40, path.name


_SEED_MAIL = (
    b"From: =?utf-8?q?J=C3=B6?= <jo@example.org>\r\nTo: casework@example.gov.uk\r\n"
    b"Subject: =?iso-8859-1?q?caf=E9?=\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
    b"Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    b"=F0=D2\r\n--XX\r\nContent-Type: application/ms-tnef\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    b"eJ8+IgEA\r\n--XX--\r\n"
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(min_value=0, max_value=len(_SEED_MAIL)),
    junk=st.binary(max_size=40),
    where=st.integers(min_value=0, max_value=len(_SEED_MAIL)),
)
def test_mangled_mail_never_raises_anything_but_unparseable(cut: int, junk: bytes, where: int) -> None:
    """Truncated and byte-spliced mail: parse_message gives a message or Unparseable, nothing else."""
    raw = _SEED_MAIL[:where] + junk + _SEED_MAIL[where:cut]
    try:
        msg = parse_message(raw)
    except Unparseable as err:
        assert err.reason
        return
    assert isinstance(msg.body_text, str)
    msg.subject.encode("utf-8")  # no lone surrogates anywhere a later step will print or store
    msg.body_text.encode("utf-8")


@settings(max_examples=150, deadline=None)
@given(tail=st.binary(max_size=300))
def test_header_then_random_bytes_never_raises(tail: bytes) -> None:
    """A header line followed by arbitrary bytes is parsed or refused, never an exception."""
    try:
        msg = parse_message(b"Content-Type: multipart/mixed; boundary=a\r\n" + tail)
    except Unparseable:
        return
    msg.body_text.encode("utf-8")


ALTERNATIVE = (
    "From: a@example.org\r\nTo: b@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=b\r\n\r\n"
    "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{plain}\r\n"
    "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>From the <b>HTML</b> part</p>\r\n--b--\r\n"
)


def test_alternative_with_a_plain_text_skips_converting_the_html(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pins down the cheap path: the plain version is used and the HTML is never converted."""
    import intake.mime_body

    def refuse(_html: str) -> str:
        raise AssertionError("the HTML alternative was converted although a plain version exists")

    monkeypatch.setattr(intake.mime_body, "html_to_text", refuse)
    parsed = parse_message(ALTERNATIVE.format(plain="From the plain part").encode())
    assert "From the plain part" in parsed.body_text


def test_alternative_with_an_empty_plain_part_falls_back_to_the_html() -> None:
    parsed = parse_message(ALTERNATIVE.format(plain="   ").encode())
    assert "From the HTML part" in parsed.body_text
