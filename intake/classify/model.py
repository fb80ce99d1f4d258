"""The learned signal: multinomial naive Bayes over words and bigrams, as a plain JSON dict.

Small, fast and explainable: ``predict`` gives a probability per category and the words that
pushed hardest, so the classifier can say "learned model: words like 'overtime', 'rest days'".
Campaign is never learned: it is decided by grouping many senders, not by vocabulary.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from intake.classify.text import BIGRAM, SENDER_DOMAIN, SENT_TO, tokens, words
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
    """A model turned into per-word log-probability rows, built once per classifier.

    ``predict`` runs for every message, so the rows are a matrix (summed by numpy) and what it
    looks up per token is a row number: by word, or by the word pair of a bigram (no bigram
    strings are built for the pairs of a letter, most of which the model never saw).
    """

    classes: tuple[str, ...]
    vocabulary: list[str]  # the token of each row
    word_rows: dict[str, int]
    pair_rows: dict[tuple[str, str], int]  # the row of each bigram, by its two words
    log_probability: np.ndarray  # rows x classes
    #: how much larger the share of a class's documents containing the word is than that of
    #: any other class (what makes it telling); 0 for marker words, which never explain
    lift: np.ndarray


def compile_model(model: dict) -> Compiled:
    counts: dict[str, dict[str, int]] = model["counts"]
    totals: dict[str, int] = model["totals"]
    docs: dict[str, int] = model["docs"]
    vocab = max(1, int(model["vocab_size"]))
    classes = tuple(category for category in LEARNED if docs.get(category))
    denominators = [math.log(totals[c] + _ALPHA * vocab) for c in classes]
    vocabulary = sorted(set().union(*(counts[c] for c in classes))) if classes else []
    # built a class at a time (quicker than a word at a time), then turned into rows x classes
    shape = (len(classes), len(vocabulary))
    seen = [[counts[c].get(word, 0) for word in vocabulary] for c in classes]
    # math.log, not np.log: numpy's vectorised log may round the last bit differently
    logs = [[math.log(n + _ALPHA) - d for n in column] for column, d in zip(seen, denominators, strict=True)]
    shares = np.array(seen, dtype=np.float64).reshape(shape) / np.array([[docs[c]] for c in classes])
    markers = [word.startswith((SENDER_DOMAIN, SENT_TO)) for word in vocabulary]
    word_rows, pair_rows = {}, {}
    for row, token in enumerate(vocabulary):
        first, joined, second = token.partition(BIGRAM)
        if joined:
            pair_rows[(first, second)] = row
        else:
            word_rows[token] = row
    return Compiled(
        classes=classes,
        vocabulary=vocabulary,
        word_rows=word_rows,
        pair_rows=pair_rows,
        log_probability=np.array(logs, dtype=np.float64).reshape(shape).T.copy(),
        lift=_lifts(shares.T, markers),
    )


def _lifts(shares: np.ndarray, markers: list[bool]) -> np.ndarray:
    """Each class's share of documents with the word less the largest share of the other classes."""
    lift = np.empty_like(shares)
    for index in range(shares.shape[1]):
        others = np.delete(shares, index, axis=1)
        lift[:, index] = shares[:, index] - (others.max(axis=1) if others.shape[1] else 0.0)
    lift[markers] = 0.0
    return lift


def predict(
    model: Compiled, text: str, *, explain_above: float = 0.0
) -> tuple[dict[str, float], dict[str, list[str]]]:
    """``(probability per category, the most telling words of categories above explain_above)``."""
    classes = model.classes
    if not classes:
        return {}, {}
    rows = _known_rows(model, words(text))
    # uniform prior: base rates are the signals' business, not the vocabulary's
    # added row after row in the order the tokens came, as a plain loop does (np.sum may pair the
    # rows up and round differently in the last bit)
    scores = np.add.accumulate(model.log_probability[rows])[-1].tolist() if rows else [0.0] * len(classes)
    # naive Bayes is over-confident on long texts: temper by the number of words it saw
    scale = 1.0 / max(1.0, math.sqrt(len(rows)) / 2)
    top = max(scores)
    exp = [math.exp((score - top) * scale) for score in scores]
    total = sum(exp)
    probabilities = {category: value / total for category, value in zip(classes, exp, strict=True)}
    best_words: dict[str, list[str]] = {}
    for index, category in enumerate(classes):
        if probabilities[category] < explain_above:
            continue
        lifts = zip(model.lift[rows, index].tolist(), rows, strict=True)
        telling = heapq.nlargest(3, ((lift, model.vocabulary[row]) for lift, row in lifts if lift > 0))
        best_words[category] = [word.replace(BIGRAM, " ") for _lift, word in telling]
    return probabilities, best_words


def _known_rows(model: Compiled, found: list[str]) -> list[int]:
    """The rows of the distinct tokens (``tokens(text)[:800]``) the model knows, in the order
    first seen: the words, then the bigrams (looked up by word pair, and told apart by row)."""
    limit = _MAX_TOKENS * 2
    rows = [row for row in map(model.word_rows.get, dict.fromkeys(found[:limit])) if row is not None]
    # the first limit - len(found) bigrams are those of the words up to that one
    pairs = pairwise(found[: max(0, limit - len(found) + 1)])
    return rows + [row for row in dict.fromkeys(map(model.pair_rows.get, pairs)) if row is not None]
