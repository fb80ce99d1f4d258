"""The one settings object.

Every setting comes from the environment (or a ``.env`` file) with the ``CASEWORK_`` prefix,
except Slack's own three variables, which keep the names Slack's documentation uses.
Nothing else in the project reads ``os.environ``: ask :func:`get_settings` instead, so that
tests can build a ``Settings(...)`` with exactly the values they need.
"""

from __future__ import annotations

from datetime import date, time
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: Values that mean "somebody copied .env.example and forgot to fill it in".
PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "xoxb-your-token", "your-signing-secret", ""})

if TYPE_CHECKING:
    from store.deadline_policy import Policy

CommaList = Annotated[list[str], NoDecode]


def _split_list(value: object) -> object:
    """Accept ``a,b c`` from the environment as well as a real list."""
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").split() if part]
    return value


class Settings(BaseSettings):
    """Configuration of one casework office; see ``.env.example`` for every key with a comment."""

    model_config = SettingsConfigDict(
        env_prefix="CASEWORK_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # --- general -------------------------------------------------------------------------
    environment: Literal["development", "production"] = "development"
    office_name: str = "Office of the Police and Crime Commissioner"
    database_url: str = "sqlite:///casework.db"
    reference_prefix: str = "WMOPC"
    log_level: str = "INFO"

    # --- deadlines -----------------------------------------------------------------------
    deadline_working_days: int = 20
    #: per-category overrides: a number of working days (``{"foi": 20, "complaint": 15}``) or an
    #: object of :data:`store.deadline_policy.POLICY_KEYS` (extension and review caps)
    deadline_policy: dict[str, Any] = Field(default_factory=dict)
    #: bank holidays the ``holidays`` package does not know yet, not working days in any nation
    extra_holidays: CommaList = Field(default_factory=list)
    #: working days a stopped clock waits before its assignee is reminded
    clock_stop_remind_working_days: int = 20
    #: working days without a clarification before "Close as lapsed" is offered
    clarification_lapse_working_days: int = 60
    #: office closure days: shown beside deadlines, never change the statutory date
    closure_days: CommaList = Field(default_factory=list)
    call_target_seconds: int = 9
    aged_days: int = 28

    # --- calls from the phone system (docs/calls.md) -------------------------------------
    #: the hunt group's DID/dst, queue name or ring-group extension; empty: every inbound call
    hunt_group: str = ""
    #: the record file ``casework serve`` follows (``casework calls follow``); empty: none
    calls_path: str = ""
    calls_format: str = "auto"
    #: the zone of the phone system's local timestamps
    calls_timezone: str = "Europe/London"
    calls_max_line_bytes: int = 65536
    calls_max_file_bytes: int = 1024 * 1024 * 1024
    #: a call is counted once no leg has been added to it for this long (legs arrive apart)
    calls_settle_seconds: int = 30
    calls_poll_seconds: float = 2.0

    # --- intake: IMAP --------------------------------------------------------------------
    imap_host: str = ""
    imap_port: int = 993
    imap_user: str = ""
    imap_password: SecretStr = SecretStr("")
    imap_tls: Literal["none", "starttls", "ssl"] = "ssl"
    imap_folder: str = "INBOX"
    #: how a logged message is marked on the server: a keyword flag, or a move to a folder
    imap_mark: Literal["flag", "move"] = "flag"
    imap_processed_flag: str = "$CaseworkLogged"
    imap_processed_folder: str = "Casework/Logged"
    imap_idle: bool = True
    imap_poll_seconds: int = 60
    imap_ca_file: str = ""
    #: the office's Sent folder, read for replies sent from elsewhere (empty: not read)
    imap_sent_folder: str = ""

    # --- intake: classification and campaigns --------------------------------------------
    force_domains: CommaList = Field(default_factory=lambda: ["west-midlands.pnn.police.uk"])
    consultation_addresses: CommaList = Field(default_factory=list)
    office_addresses: CommaList = Field(default_factory=list)
    campaign_min_senders: int = 3
    campaign_similarity: float = 0.6
    triage_confidence: float = 0.6
    attachment_max_bytes: int = 5 * 1024 * 1024
    #: processes that parse and classify big batches in parallel (None: one per CPU; 0: none)
    intake_workers: int | None = None

    # --- intake: acknowledgements over SMTP (off unless smtp_host is set) ----------------
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_tls: Literal["none", "starttls", "ssl"] = "none"
    smtp_from: str = ""
    ack_template_dir: str = ""

    # --- the case lifecycle: drafting, sign-off, dispatch, captured replies ---------------
    #: the office's own response templates, one ``<category>.txt`` each (empty: the built-in ones)
    response_template_dir: str = ""
    #: Slack user IDs (U…) or user-group IDs (S…) who sign replies off
    approvers: CommaList = Field(default_factory=list)
    #: categories whose final replies need sign-off (empty: every category; ``none``: none)
    signoff_categories: CommaList = Field(default_factory=list)
    #: what a reply captured from the office's mail does: ask in Slack, close, or nothing
    close_on_response: Literal["ask", "always", "never"] = "ask"
    #: working days from receipt by which a reply should be drafted (warns the assignee)
    draft_working_days: int = 15

    # --- Slack ---------------------------------------------------------------------------
    slack_bot_token: SecretStr = Field(
        default=SecretStr(""), validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_signing_secret: SecretStr = Field(
        default=SecretStr(""), validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    slack_app_token: SecretStr = Field(
        default=SecretStr(""), validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token")
    )
    slack_api_url: str = "https://slack.com/api/"
    triage_channel: str = ""
    alerts_channel: str = ""
    #: Slack user IDs (U…) or user-group IDs (S…) allowed to see and act on cases
    caseworkers: CommaList = Field(default_factory=list)
    #: Slack user IDs or user-group IDs who may also see summaries
    managers: CommaList = Field(default_factory=list)

    # --- scheduler -----------------------------------------------------------------------
    warning_thresholds: CommaList = Field(default_factory=lambda: ["5", "2", "0"])
    digest_time: time = time(9, 0)
    weekly_summary_day: Literal["mon", "tue", "wed", "thu", "fri"] = "mon"
    weekly_summary_time: time = time(9, 0)
    retrain_time: time = time(2, 30)

    # --- personal data (docs/data-protection.md) ------------------------------------------
    #: what a post to the triage or alerts channel shows; more than "minimal" only while the
    #: channel passes the privacy check (private, not shared outside, caseworkers only)
    channel_detail: Literal["minimal", "subject", "full"] = "minimal"
    #: category → period after closure before a case is anonymised ("6y", "18m", "90d")
    retention: dict[str, str] = Field(default_factory=lambda: {"default": "6y"})
    automatic_retention_days: int = 90
    quarantine_retention_days: int = 90
    audit_retention_days: int = 2190
    # --- the web front door and hardening (docs/security.md) ---------------------------
    #: largest request body accepted (413 above it, checked before the body is read)
    http_max_body_bytes: int = 1_000_000
    #: seconds a client has to send its request headers, and again to send its body
    http_read_timeout_seconds: float = 10.0
    #: open connections at once; more are closed as soon as they connect
    http_max_connections: int = 1000
    #: largest request line plus headers (bytes); larger is answered 400
    http_max_header_bytes: int = 16 * 1024
    #: on SIGTERM, how long requests in flight may take to finish
    http_shutdown_seconds: float = 20.0
    #: bearer token for GET /metrics (empty: /metrics is off)
    metrics_token: SecretStr = SecretStr("")
    #: HTML bodies larger than this are not converted to text (kept as an attachment)
    html_max_bytes: int = 512 * 1024
    #: a message that takes longer than this to parse and classify is quarantined
    message_time_budget_seconds: float = 10.0
    #: mail larger than this (RFC822.SIZE) is logged as a case from its headers, the body left unread
    max_message_bytes: int = 25 * 1000 * 1000
    #: acknowledge only senders the office's own server authenticated (Authentication-Results)
    ack_require_auth: bool = True
    #: the authserv-id the office's receiving server writes in Authentication-Results
    trusted_authserv_id: str = ""
    #: acknowledgements one address can receive per day
    ack_max_per_address_per_day: int = 3
    # --- surgeries and casework meetings -------------------------------------------------
    #: hours before an appointment that its reminder email goes out
    surgery_reminder_hours: int = 48
    #: a cancellation made less than this many hours before the slot counts as late
    surgery_late_cancel_hours: int = 48
    #: how long the first person on a waiting list holds the offer of a freed slot
    surgery_offer_hours: int = 24
    #: Slack user IDs of the hosts, who get each session's briefing pack the working day before
    surgery_hosts: CommaList = Field(default_factory=list)
    #: the secret in the calendar feed's address, ``/calendar/<token>.ics`` (empty: no feed)
    calendar_token: SecretStr = SecretStr("")

    _split = field_validator(
        "closure_days",
        "extra_holidays",
        "force_domains",
        "consultation_addresses",
        "office_addresses",
        "caseworkers",
        "managers",
        "warning_thresholds",
        "approvers",
        "signoff_categories",
        "surgery_hosts",
        mode="before",
    )(_split_list)

    @field_validator("retention")
    @classmethod
    def _check_retention(cls, value: dict[str, str]) -> dict[str, str]:
        """Periods are ``N`` then ``d``, ``m`` or ``y``; ``default`` covers unnamed categories."""
        from store.retention import parse_period

        for key, period in value.items():
            parse_period(period, key=key)
        return {"default": "6y", **value}

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        """Accept the ``postgresql://`` URLs people paste, and use psycopg 3 for them."""
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @field_validator("deadline_policy")
    @classmethod
    def _check_deadline_policy(cls, value: dict[str, Any]) -> dict[str, Any]:
        from store.deadline_policy import check_policy

        return check_policy(value)

    @field_validator("extra_holidays")
    @classmethod
    def _check_extra_holidays(cls, value: list[str]) -> list[str]:
        for day in value:
            try:
                date.fromisoformat(day)
            except ValueError:
                raise ValueError(f"CASEWORK_EXTRA_HOLIDAYS: {day!r} is not a date (YYYY-MM-DD)") from None
        return value

    # --- derived -------------------------------------------------------------------------
    @property
    def closure_dates(self) -> frozenset[date]:
        return frozenset(date.fromisoformat(day) for day in self.closure_days)

    @property
    def extra_holiday_dates(self) -> frozenset[date]:
        return frozenset(date.fromisoformat(day) for day in self.extra_holidays)

    def policy(self, category: str) -> Policy:
        """The deadline policy of ``category`` (:mod:`store.deadline_policy`)."""
        from store.deadline_policy import policy_for

        return policy_for(self.deadline_policy, category, default_days=self.deadline_working_days)

    @property
    def thresholds(self) -> list[int]:
        return sorted({int(t) for t in self.warning_thresholds}, reverse=True)

    @property
    def smtp_enabled(self) -> bool:
        return bool(self.smtp_host)

    @property
    def imap_enabled(self) -> bool:
        return bool(self.imap_host)

    def deadline_days(self, category: str) -> int:
        return self.policy(category).working_days

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite or self.database_url in ("sqlite://", "sqlite:///:memory:"):
            return None
        return Path(self.database_url.split("sqlite:///", 1)[1])

    def problems(self) -> list[str]:
        """What is wrong with this configuration for running in production (empty: fine)."""
        found = []
        if self.environment == "production":
            for name in ("slack_bot_token", "slack_signing_secret"):
                secret: SecretStr = getattr(self, name)
                if secret.get_secret_value().lower() in PLACEHOLDER_SECRETS:
                    found.append(f"{name.upper()} is empty or still the placeholder from .env.example")
        return found


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
