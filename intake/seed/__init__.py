"""A small hand-written seed training set, so the learned model says something before any labels.

``seed.txt``: one example per line, ``category<TAB>text``. Written for casework (not taken from
any corpus); short, varied letters of each learned category. Campaign is not learned.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files


@lru_cache(maxsize=1)
def seed_examples() -> tuple[tuple[str, str], ...]:
    """``(text, category)`` pairs from ``seed.txt``."""
    text = files("intake.seed").joinpath("seed.txt").read_text(encoding="utf-8")
    examples = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        category, _, example = line.partition("\t")
        examples.append((example.strip(), category.strip()))
    return tuple(examples)
