"""Helpers for the intake pipeline tests: small real emails built in code, and the pipeline.

``make_pipeline`` uses engineer A's real classifier when ``intake.classify`` is present; until
it lands, a keyword stand-in (tests only, never the product) lets the grouping tests run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import Engine

from casework.settings import Settings
from intake.message import Classification, ParsedMessage
from intake.pipeline import Pipeline

BASE = datetime(2013, 3, 4, 10, 0, tzinfo=UTC)
#: the authserv-id of the office's receiving server in tests (CASEWORK_TRUSTED_AUTHSERV_ID)
TRUSTED_AUTHSERV_ID = "mx.pcc.example.gov.uk"


class StandInClassifier:
    def classify(
        self, msg: ParsedMessage, *, campaign_senders: int = 0, campaign_min_senders: int = 3
    ) -> Classification:
        if campaign_senders >= campaign_min_senders:
            return Classification("campaign", 0.9, ["campaign"])
        if "complain" in msg.body_text.lower():
            return Classification("complaint", 0.8, ["says complaint"])
        return Classification("correspondence", 0.5, ["default"], needs_triage=True)


def make_pipeline(settings: Settings, engine: Engine) -> Pipeline:
    try:
        from intake.classify import load_classifier  # noqa: F401
    except ImportError:
        return Pipeline(settings, engine, classifier=StandInClassifier())
    return Pipeline(settings, engine)


def eml(
    *,
    sender: str = "Alice Example <alice@example.org>",
    to: str = "casework@pcc.example.gov.uk",
    subject: str = "Street lighting",
    body: str = "Dear Commissioner,\n\nThe street lights on my road have been out for a month.\n",
    message_id: str | None = "<m1@example.org>",
    in_reply_to: str | None = None,
    date: datetime = BASE,
    headers: dict[str, str] | None = None,
    authenticated: bool = False,
) -> bytes:
    """A letter; ``authenticated`` adds the office server's ``dmarc=pass`` for its From domain."""
    msg = EmailMessage()
    if authenticated:
        domain = sender.rpartition("@")[2].strip(">")
        msg["Authentication-Results"] = f"{TRUSTED_AUTHSERV_ID}; dmarc=pass header.from={domain}"
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    if message_id:
        msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


def later(minutes: int) -> datetime:
    return BASE + timedelta(minutes=minutes)


CAMPAIGN_TEXT = (
    "Dear Commissioner,\n\nPlease act now to protect neighbourhood policing in the West Midlands. "
    "Neighbourhood officers and PCSOs know our streets, build trust with residents and stop problems "
    "before they grow. Cutting them would leave communities without the visible presence that keeps "
    "us safe. I am asking you to keep every neighbourhood team at full strength, to protect PCSO "
    "posts in the budget, and to publish the number of officers in each ward every year.\n\n"
    "Yours sincerely,\n"
)
