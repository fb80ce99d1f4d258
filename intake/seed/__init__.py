"""A small hand-written seed training set, so the learned model says something before any labels.

``seed.txt``: one example per line, ``category<TAB>text``. Written for casework (not taken from
any corpus); short, varied letters of each learned category. Campaign is not learned.

``letters.txt``: the labelled letters written for casework in ``tests/corpus`` (hard, unseen,
fresh), one label text a line, built by ``scripts/build-seed-letters``. Whole letters in many
voices teach the model what a complaint told as a story looks like, which no list of phrases
does: measured on letters held out from it, it is the part of the classifier that generalises
(docs/classification.md).
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files


@lru_cache(maxsize=1)
def seed_examples() -> tuple[tuple[str, str], ...]:
    """``(text, category)`` pairs from ``seed.txt`` and ``letters.txt``."""
    seed = files("intake.seed")
    text = seed.joinpath("seed.txt").read_text(encoding="utf-8")
    text += "\n" + seed.joinpath("letters.txt").read_text(encoding="utf-8")
    examples = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        category, _, example = line.partition("\t")
        examples.append((example.strip(), category.strip()))
    return tuple(examples)
