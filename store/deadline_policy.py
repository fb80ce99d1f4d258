"""The deadline policy of each category: its period, extension cap and internal-review periods.

``CASEWORK_DEADLINE_POLICY`` maps a category to either a number (its period in working days,
as it always could) or an object with any of the keys below; a missing key takes its default.
The defaults are the law and guidance for FOI (FOIA s10(1) 20 working days; ICO: a public
interest extension of at most 20 further working days; internal reviews in 20 working days, 40
at most) and the office's 20 working days with no extension for everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: every key a category's object may hold
POLICY_KEYS = (
    "working_days",
    "extension_cap_working_days",
    "review_working_days",
    "review_cap_working_days",
    "review_window_days",
)

#: FOI's extension cap when the policy does not say (ICO guidance: 20 further working days)
FOI_EXTENSION_CAP = 20
#: complaints' review window when the policy does not say (IOPC statutory guidance: 28 days)
COMPLAINT_REVIEW_WINDOW = 28


@dataclass(frozen=True)
class Policy:
    """One category's deadlines, in UK working days."""

    working_days: int = 20
    #: most working days the due date may be extended by, in all (0: no extension)
    extension_cap_working_days: int = 0
    review_working_days: int = 20
    #: the latest an internal review may be answered, counted from its receipt
    review_cap_working_days: int = 40
    #: calendar days after the outcome (closure) within which a review may be asked for (0: any time)
    review_window_days: int = 0

    @property
    def review_extension_cap(self) -> int:
        return max(0, self.review_cap_working_days - self.review_working_days)


def check_policy(value: Any) -> dict[str, int | dict[str, int]]:
    """Validate the raw setting: category → number, or → object of :data:`POLICY_KEYS`."""
    if not isinstance(value, dict):
        raise ValueError("CASEWORK_DEADLINE_POLICY must be a JSON object: category → days or object")
    for category, entry in value.items():
        if isinstance(entry, bool) or not isinstance(entry, int | dict):
            raise ValueError(f"CASEWORK_DEADLINE_POLICY[{category!r}] must be a number or an object")
        if isinstance(entry, dict):
            unknown = sorted(set(entry) - set(POLICY_KEYS))
            if unknown:
                raise ValueError(
                    f"CASEWORK_DEADLINE_POLICY[{category!r}] has unknown keys {unknown}; "
                    f"use {', '.join(POLICY_KEYS)}"
                )
            for key, days in entry.items():
                if isinstance(days, bool) or not isinstance(days, int) or days < 0:
                    raise ValueError(
                        f"CASEWORK_DEADLINE_POLICY[{category!r}][{key!r}] must be a whole number ≥ 0"
                    )
        elif entry < 1:
            raise ValueError(f"CASEWORK_DEADLINE_POLICY[{category!r}] must be at least 1 working day")
    return value


def policy_for(raw: dict[str, Any], category: str, *, default_days: int = 20) -> Policy:
    """The :class:`Policy` of ``category`` from the (validated) setting."""
    entry = raw.get(category)
    cap = FOI_EXTENSION_CAP if category == "foi" else 0
    window = COMPLAINT_REVIEW_WINDOW if category == "complaint" else 0
    if entry is None:
        return Policy(working_days=default_days, extension_cap_working_days=cap, review_window_days=window)
    if isinstance(entry, int):
        return Policy(working_days=entry, extension_cap_working_days=cap, review_window_days=window)
    values = {
        "working_days": default_days,
        "extension_cap_working_days": cap,
        "review_window_days": window,
        **entry,
    }
    return Policy(**values)
