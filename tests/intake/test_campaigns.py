"""Campaigns: near-identical text from >= N different senders is one case in category campaign."""

from __future__ import annotations

import hashlib
import re
import sys

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from casework.settings import Settings
from intake import campaigns
from intake.parse import parse_message
from store.cases import history
from store.models import Campaign, Case, CaseParticipant, Correspondent, FingerprintBand, Message, OutboxItem
from tests.conftest import CORPUS, make_settings, shared_or_skip
from tests.support.intake_mail import CAMPAIGN_TEXT, eml, later, make_pipeline

SENDERS = ["ann@example.org", "bob@example.net", "cat@example.com", "dev@example.org", "eve@example.net"]


def campaign_mail(index: int, extra: str = "") -> bytes:
    name = SENDERS[index].split("@")[0].title()
    text = CAMPAIGN_TEXT + extra + f"\n{name}\nPostcode: B{index + 10}\n"
    if index % 2:  # copied into a mail client, with a typo
        text = text.replace("neighbourhood team", "neighborhood team")
    return eml(
        sender=f"{name} <{SENDERS[index]}>",
        subject="Protect neighbourhood policing",
        body=text,
        message_id=f"<c{index}@example>",
        date=later(60 * index),
    )


def test_third_sender_turns_earlier_cases_into_one_campaign(settings: Settings, engine: Engine) -> None:
    pipeline = make_pipeline(settings, engine)
    first = pipeline.process(campaign_mail(0), source="a")
    second = pipeline.process(campaign_mail(1, "My own street lost its PCSO last year.\n"), source="a")
    assert second.kind == "opened" and second.case_reference != first.case_reference  # 2 < 3 senders
    third = pipeline.process(campaign_mail(2), source="a")
    assert third.kind == "attached" and third.case_reference == first.case_reference
    fourth = pipeline.process(campaign_mail(3), source="a")
    assert fourth.case_reference == first.case_reference  # later members join directly
    with Session(engine) as session:
        case = session.execute(select(Case)).scalar_one()  # the second case was merged away
        assert case.category == "campaign" and case.campaign_id is not None
        assert session.get(Campaign, case.campaign_id).case_id == case.id  # type: ignore[union-attr]
        emails = set(
            session.execute(
                select(Correspondent.email)  # type: ignore[call-overload]
                .join(CaseParticipant, CaseParticipant.correspondent_id == Correspondent.id)
                .where(CaseParticipant.case_id == case.id)
            ).scalars()
        )
        assert emails == set(SENDERS[:4])
        assert {m.case_id for m in session.execute(select(Message)).scalars()} == {case.id}
        notes = [e.note for e in history(session, case=case)]
        assert second.case_reference is not None
        assert any(second.case_reference in note and "merged" in note for note in notes)
        # the merged-away case's triage row stays, without a case, for the Slack sender to skip
        orphan = session.execute(
            select(OutboxItem).where(OutboxItem.key == f"triage:{second.case_reference}")  # type: ignore[arg-type]
        )
        assert orphan.scalar_one().case_id is None


def test_two_senders_are_not_yet_a_campaign(settings: Settings, engine: Engine) -> None:
    pipeline = make_pipeline(settings, engine)
    pipeline.process(campaign_mail(0), source="a")
    pipeline.process(campaign_mail(1), source="a")
    with Session(engine) as session:
        assert [c.category for c in session.execute(select(Case)).scalars()].count("campaign") == 0
        assert session.execute(select(Campaign)).first() is None


def test_one_sender_three_times_is_not_a_campaign(settings: Settings, engine: Engine) -> None:
    pipeline = make_pipeline(settings, engine)
    for day in range(3):  # days apart, so not "sent twice" either
        raw = eml(
            sender="ann@example.org",
            subject="Protect neighbourhood policing",
            body=CAMPAIGN_TEXT,
            message_id=f"<a{day}@example>",
            date=later(60 * 24 * 3 * day),
        )
        pipeline.process(raw, source="a")
    with Session(engine) as session:
        assert session.execute(select(Campaign)).first() is None


def test_minimum_senders_is_a_setting(database_url: str, engine: Engine) -> None:
    settings = make_settings(database_url, campaign_min_senders=2)
    pipeline = make_pipeline(settings, engine)
    first = pipeline.process(campaign_mail(0), source="a")
    assert pipeline.process(campaign_mail(1), source="a").case_reference == first.case_reference


def test_same_topic_in_own_words_is_not_a_campaign(settings: Settings, engine: Engine) -> None:
    # corpus d034/d037: people asking about PCSOs in their own words stay separate cases
    letters = [
        "I am worried about the future of PCSOs in Walsall. Will you keep funding them? Ours is the only "
        "officer we ever see on the estate and she knows every family by name.",
        "What is your position on police community support officers? I read in the paper that numbers "
        "may fall next year and I would like to know whether that is true and what you intend to do.",
        "Please could you tell me how many PCSOs will be kept after the budget. Our neighbourhood team "
        "has shrunk and the youths by the shops have noticed.",
    ]
    pipeline = make_pipeline(settings, engine)
    for index, text in enumerate(letters):
        pipeline.process(
            eml(
                sender=SENDERS[index],
                subject="PCSOs",
                body=text,
                message_id=f"<t{index}@x>",
                date=later(index),
            ),
            source="a",
        )
    with Session(engine) as session:
        assert len(session.execute(select(Case)).all()) == 3
        assert session.execute(select(Campaign)).first() is None


def test_bands_are_stored_and_short_texts_have_none(settings: Settings, engine: Engine) -> None:
    assert campaigns.bands(campaigns.shingles("Thank you!")) == []
    outcome = make_pipeline(settings, engine).process(campaign_mail(0), source="a")
    with Session(engine) as session:
        rows = session.execute(
            select(FingerprintBand).where(FingerprintBand.message_pk == outcome.message_pk)  # type: ignore[arg-type]
        )
        assert len(rows.all()) == campaigns.BANDS


def test_similarity_ignores_quoted_text_and_signatures() -> None:
    own = campaigns.shingles("I would like to meet you about the closure of the front counter at Bloxwich.")
    quoted = campaigns.shingles(
        "I would like to meet you about the closure of the front counter at Bloxwich.\n"
        "-- \nJohn Smith, Chair of the residents' association, with a very long signature indeed\n"
        "> quoted earlier text that must not count at all in the comparison of the two texts\n"
    )
    assert campaigns.similarity(own, quoted) == 1.0


def test_reply_quoting_a_merged_away_reference_reaches_the_campaign(
    settings: Settings, engine: Engine
) -> None:
    # the second sender was acknowledged as WMOPC-…-000002 before the campaign was recognised
    pipeline = make_pipeline(settings, engine)
    first = pipeline.process(campaign_mail(0), source="a")
    second = pipeline.process(campaign_mail(1), source="a")
    pipeline.process(campaign_mail(2), source="a")
    reply = eml(
        sender=SENDERS[1],
        subject=f"Re: [{second.case_reference}] Your message",
        message_id="<rr@x>",
        body="Thank you for the acknowledgement, I look forward to a reply.\n",
        date=later(60 * 24),
    )
    outcome = pipeline.process(reply, source="a")
    assert (outcome.kind, outcome.case_reference) == ("attached", first.case_reference)


# --- shingles and bands: the same values as the plain definitions ----------------------------------
def plain_shingles(body: str) -> set[int]:
    """Shingles as defined: each three words of own_text, the first 4 bytes of its BLAKE2b."""
    words = re.findall(r"[a-z0-9]+(?:'[a-z]+)?", campaigns.own_text(body).lower())
    grams = (" ".join(words[i : i + 3]) for i in range(len(words) - 2))
    return {int.from_bytes(hashlib.blake2b(g.encode(), digest_size=4).digest(), "big") for g in grams}


def plain_bands(grams: set[int]) -> list[str]:
    """MinHash with multiply-shift hashes, 24 bands of 3 rows, each band's BLAKE2b."""
    if len(grams) < campaigns.MIN_SHINGLES:
        return []
    a = [int(x) for x in campaigns._A]
    b = [int(x) for x in campaigns._B]
    signature = [min(((ai * g + bi) % 2**64) >> 32 for g in grams) for ai, bi in zip(a, b, strict=True)]
    rows = b"".join(value.to_bytes(8, sys.byteorder) for value in signature)
    return [
        f"{band:02d}:{hashlib.blake2b(rows[band * 24 : band * 24 + 24], digest_size=16).hexdigest()}"
        for band in range(campaigns.BANDS)
    ]


SHINGLE_TEXTS = [
    CAMPAIGN_TEXT,
    "It's the officers' job, isn't it? Don't forget o'clock, rock'n'roll, 'quoted' and 2013's figures.",
    "Café crème — naïve résumé; SECOND Line\r\nthird\u2028line\x0bfourth line of it all\n",
    "My reply is here\n> quoted line one\n>quoted two\nand more of my own words after the quote",
    "My own words before the signature block, long enough\n-- \nName\nTitle of the sender",
    "Words before the quote of the letter\nOn 1 May 2013, Ann Smith wrote:\nquoted body that is cut",
    "My own words come first in this letter\n\u017fent from my phone\nand nothing after it",  # ſ is s to re.I
    "UPPER CASE WORDS are lower cased before they are hashed 42",
    "Thank you!",
    "",
]


@pytest.mark.parametrize("body", SHINGLE_TEXTS)
def test_shingles_are_the_blake2b_of_each_three_words(body: str) -> None:
    assert campaigns.shingles(body) == plain_shingles(body)


def test_corpus_shingles_and_bands_are_the_plain_ones() -> None:
    for path in sorted(shared_or_skip(CORPUS).glob("*.eml")):
        body = parse_message(path.read_bytes()).body_text
        grams = campaigns.shingles(body)
        assert grams == plain_shingles(body), path
        assert campaigns.bands(grams) == plain_bands(grams), path


def test_bands_of_a_known_text_never_change() -> None:
    """Bands are stored and compared with later mail's: the campaign text's are pinned."""
    keys = campaigns.bands(campaigns.shingles(CAMPAIGN_TEXT))
    assert keys[0] == "00:32e2c9ff822822e1e561f859d68ea018"
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()
    assert digest == "817a45023f31a21a1238fd37a964bc0dd214faf27e3baf926a01ce8a04b0a706"
