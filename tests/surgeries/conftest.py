"""Fixtures for surgeries: settings with SMTP pointed at a real aiosmtpd server, on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from casework.settings import Settings
from store.db import make_engine
from tests.conftest import make_settings
from tests.support.smtp import Inbox, smtp_server

FROM = "casework@pcc.example.gov.uk"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def surgery_settings(database_url: str, smtp: tuple[Inbox, int]) -> Settings:
    return make_settings(
        database_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp[1],
        smtp_from=FROM,
        office_addresses=["opcc@pcc.example.gov.uk"],
        alerts_channel="C_ALERTS",
        surgery_hosts=["U_PCC", "U_DPCC"],
        caseworkers=["U_CW"],
        calendar_token="feed-secret-token",
    )


@pytest.fixture
def db(surgery_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(surgery_settings.database_url)
    yield engine
    engine.dispose()
