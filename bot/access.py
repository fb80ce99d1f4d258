"""Who may see what.

``CASEWORK_CASEWORKERS`` may see case details and act on cases (and see summaries);
``CASEWORK_MANAGERS`` may see summaries and call figures; ``CASEWORK_APPROVERS`` may approve
or return draft replies (sign-off). Each list may hold Slack user IDs
(``U…``/``W…``) or user-group IDs (``S…``), which are resolved with ``usergroups.users.list``
and cached for a short while, so that adding someone to the group in Slack takes effect within
a minute without a restart. Everyone else is refused politely.
"""

from __future__ import annotations

import logging
import threading
import time
from enum import IntEnum

from slack_sdk import WebClient

from casework.settings import Settings

log = logging.getLogger(__name__)

GROUP_CACHE_SECONDS = 60.0

REFUSAL = (
    "Sorry, you don't have access to casework. Case details are only shown to the casework "
    "team. If you should have access, ask the casework manager to add you."
)
SUMMARY_ONLY = (
    "Sorry, only the casework team can see or change cases. You can still ask for "
    "`/casework summary` and `/casework calls`."
)


class Role(IntEnum):
    NONE = 0
    MANAGER = 1
    CASEWORKER = 2


class Access:
    """Answers "what may this Slack user do?" from the settings and Slack's user groups."""

    def __init__(self, settings: Settings, client: WebClient) -> None:
        self._caseworkers = list(settings.caseworkers)
        self._managers = list(settings.managers)
        self._approvers = list(settings.approvers)
        self._client = client
        self._lock = threading.Lock()
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}

    def _members(self, group: str) -> frozenset[str]:
        now = time.monotonic()
        with self._lock:
            cached = self._groups.get(group)
            if cached and now - cached[0] < GROUP_CACHE_SECONDS:
                return cached[1]
        try:
            users = frozenset(self._client.usergroups_users_list(usergroup=group).get("users") or [])
        except Exception as err:  # Slack down: fall back to the last answer, else nobody
            log.warning("could not resolve user group %s: %s", group, err)
            return cached[1] if cached else frozenset()
        with self._lock:
            self._groups[group] = (now, users)
        return users

    def _listed(self, user: str, entries: list[str]) -> bool:
        if user in entries:
            return True
        return any(entry.startswith("S") and user in self._members(entry) for entry in entries)

    def role(self, user: str | None) -> Role:
        if not user:
            return Role.NONE
        if self._listed(user, self._caseworkers):
            return Role.CASEWORKER
        if self._listed(user, self._managers):
            return Role.MANAGER
        return Role.NONE

    def may_act(self, user: str | None) -> bool:
        return self.role(user) >= Role.CASEWORKER

    def may_see_summary(self, user: str | None) -> bool:
        return self.role(user) >= Role.MANAGER

    def may_approve(self, user: str | None) -> bool:
        """Whether ``user`` may approve or return drafts (``CASEWORK_APPROVERS``, users or groups)."""
        return bool(user) and self._listed(user or "", self._approvers)

    def members(self, entry: str) -> list[str]:
        """The users an access entry names: itself, or a user group's members (``S…``)."""
        return sorted(self._members(entry)) if entry.startswith("S") else [entry]

    def people(self, entries: list[str]) -> list[str]:
        """The user IDs ``entries`` name, user groups expanded (for DMs to every manager)."""
        found: list[str] = []
        for entry in entries:
            for user in self.members(entry):
                if user not in found:
                    found.append(user)
        return found

    def managers(self) -> list[str]:
        return self.people(self._managers)


def not_assignable(access: Access, user: str | None) -> str | None:
    """Why ``user`` may not be given a case (None: they may). Only caseworkers are assigned,
    because the assignee is sent the case's details (deadline warnings, overdue lists) by DM."""
    if user is None:
        return None
    if not access.may_act(user):
        return (
            f"<@{user}> is not in the casework team, so cannot be assigned a case: the assignee "
            "gets the case's details by DM. Pick a caseworker, or ask the casework manager to add "
            "them to CASEWORK_CASEWORKERS."
        )
    return None
