"""What every listener needs: settings, the store's engine, the access rules and today's date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine

from bot.access import Access
from casework.settings import Settings
from store.workdays import LONDON


@dataclass(frozen=True)
class Deps:
    settings: Settings
    engine: Engine
    access: Access

    def today(self) -> date:
        """Today in London: deadlines and reports are counted in the office's days."""
        return datetime.now(LONDON).date()
