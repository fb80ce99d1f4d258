"""The learned signal: multinomial naive Bayes over words and bigrams, as a plain JSON dict.

Small, fast and explainable: ``predict`` gives a probability per category and the words that
pushed hardest, so the classifier can say "learned model: words like 'overtime', 'rest days'".
Campaign is never learned: it is decided by grouping many senders, not by vocabulary.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from intake.classify.text import tokens
from store.enums import Category

LEARNED = tuple(category.value for category in Category if category is not Category.CAMPAIGN)
_ALPHA = 0.5
_MAX_TOKENS = 400


def train_counts(examples: Iterable[tuple[str, str]]) -> dict:
    docs: Counter[str] = Counter()
    counts: dict[str, Counter[str]] = {category: Counter() for category in LEARNED}
    for text, category in examples:
        if category not in counts:
            continue
        docs[category] += 1
        # a token counts once per document: long letters must not outvote short ones
        counts[category].update(set(tokens(text)[: _MAX_TOKENS * 2]))
    vocab = set().union(*(set(counter) for counter in counts.values()))
    return {
        "kind": "naive-bayes-v1",
        "docs": {category: docs[category] for category in LEARNED},
        "totals": {category: sum(counts[category].values()) for category in LEARNED},
        "counts": {category: dict(counts[category]) for category in LEARNED},
        "vocab_size": len(vocab),
    }


@dataclass
class Compiled:
    """A model turned into per-word log-probability rows, built once per classifier."""

    classes: tuple[str, ...]
    unseen: tuple[float, ...]  # log-probability of a word the class never saw
    rows: dict[str, tuple[float, ...]]
    share: dict[str, tuple[float, ...]]  # share of each class's documents containing the word


def compile_model(model: dict) -> Compiled:
    counts: dict[str, dict[str, int]] = model["counts"]
    totals: dict[str, int] = model["totals"]
    docs: dict[str, int] = model["docs"]
    vocab = max(1, int(model["vocab_size"]))
    classes = tuple(category for category in LEARNED if docs.get(category))
    denominators = [math.log(totals[c] + _ALPHA * vocab) for c in classes]
    unseen = tuple(math.log(_ALPHA) - d for d in denominators)
    words = set().union(*(counts[c] for c in classes)) if classes else set()
    rows = {}
    share = {}
    for word in words:
        seen = [counts[c].get(word, 0) for c in classes]
        rows[word] = tuple(math.log(n + _ALPHA) - d for n, d in zip(seen, denominators, strict=True))
        share[word] = tuple(n / docs[c] for n, c in zip(seen, classes, strict=True))
    return Compiled(classes=classes, unseen=unseen, rows=rows, share=share)


def predict(
    model: Compiled, text: str, *, explain_above: float = 0.0
) -> tuple[dict[str, float], dict[str, list[str]]]:
    """``(probability per category, the most telling words of categories above explain_above)``."""
    classes = model.classes
    if not classes:
        return {}, {}
    words = [word for word in dict.fromkeys(tokens(text)[: _MAX_TOKENS * 2]) if word in model.rows]
    # uniform prior: base rates are the signals' business, not the vocabulary's
    scores = [0.0] * len(classes)
    for word in words:
        for index, value in enumerate(model.rows[word]):
            scores[index] += value
    # naive Bayes is over-confident on long texts: temper by the number of words it saw
    scale = 1.0 / max(1.0, math.sqrt(len(words)) / 2)
    top = max(scores)
    exp = [math.exp((score - top) * scale) for score in scores]
    total = sum(exp)
    probabilities = {category: value / total for category, value in zip(classes, exp, strict=True)}
    best_words: dict[str, list[str]] = {}
    for index, category in enumerate(classes):
        if probabilities[category] < explain_above:
            continue
        lifts = []
        for word in words:
            if word.startswith(("senderdomain", "sentto")):
                continue
            shares = model.share[word]
            others = max((v for i, v in enumerate(shares) if i != index), default=0.0)
            lift = shares[index] - others
            if lift > 0:
                lifts.append((lift, word))
        best_words[category] = [word.replace("_", " ") for _lift, word in sorted(lifts, reverse=True)[:3]]
    return probabilities, best_words
