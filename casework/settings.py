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
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: Values that mean "somebody copied .env.example and forgot to fill it in".
PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "xoxb-your-token", "your-signing-secret", ""})

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
    #: per-category overrides, e.g. ``{"foi": 20, "complaint": 15}``
    deadline_policy: dict[str, int] = Field(default_factory=dict)
    #: office closure days: shown beside deadlines, never change the statutory date
    closure_days: CommaList = Field(default_factory=list)
    call_target_seconds: int = 9
    aged_days: int = 28

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
        "force_domains",
        "consultation_addresses",
        "office_addresses",
        "caseworkers",
        "managers",
        "warning_thresholds",
        "surgery_hosts",
        mode="before",
    )(_split_list)

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        """Accept the ``postgresql://`` URLs people paste, and use psycopg 3 for them."""
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    # --- derived -------------------------------------------------------------------------
    @property
    def closure_dates(self) -> frozenset[date]:
        return frozenset(date.fromisoformat(day) for day in self.closure_days)

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
        return self.deadline_policy.get(category, self.deadline_working_days)

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
