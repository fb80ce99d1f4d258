"""The classifier: run every signal, add the votes, let the learned model vote too, explain.

``Classifier.classify`` returns a :class:`~intake.message.Classification` whose ``reasons`` are
the votes that backed the winning category, strongest first, so a caseworker can see why.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from intake.classify import calibration as calibrate_map
from intake.classify import model as nb
from intake.classify.phrases import Text
from intake.classify.signals import SIGNALS, Context, Vote
from intake.classify.text import message_text, model_text
from intake.message import Classification, ParsedMessage
from intake.seed import seed_examples
from store.enums import Category

if TYPE_CHECKING:
    from casework.settings import Settings

#: how much the learned model's probability is worth, on the signals' scale: little while it knows
#: only the seed set, more as caseworkers' labels accumulate (it then knows this office's mail)
MODEL_WEIGHT_SEED = 2.0
MODEL_WEIGHT_MAX = 4.0
MODEL_WEIGHT_PER_LABEL = 0.25
#: the seed-only model's vote for a category no signal supports is worth this share of its weight
#: in a letter shorter than STORY_WORDS: a line or two is words, not meaning ("thanks, that is
#: helpful" under a subject about the custody desk). In a longer letter it counts in full: with
#: the written letters in its seed the model reads the stories the signals miss
SEED_UNSUPPORTED = 0.5
STORY_WORDS = 25
#: below this probability the model's opinion is noise and is not reported as a vote
_MODEL_VOTE_FLOOR = 0.15
#: softmax temperature turning summed weights into a raw confidence (calibrated afterwards)
TEMPERATURE = 1.2
#: a letter not classified as a complaint is still flagged when a complaint is this likely
#: (its share of the softmax): missing a complaint costs far more than a minute's look
POSSIBLE_COMPLAINT = 0.2

_SEED_MODEL: dict | None = None


def train(examples: Iterable[tuple[str, str]]) -> dict:
    """A JSON-serialisable model from ``(text, category)`` pairs, with the seed set mixed in."""
    examples = list(examples)
    model = nb.train_counts([*seed_examples(), *examples])
    model["label_count"] = len(examples)
    model["calibration"] = calibrate_map.shipped()
    return model


def seed_model() -> dict:
    """The model trained on the hand-written seed set alone (used until caseworkers label)."""
    global _SEED_MODEL
    if _SEED_MODEL is None:
        _SEED_MODEL = train([])
    return _SEED_MODEL


class Classifier:
    """Six-way classification of a parsed message; see docs/classification.md."""

    def __init__(
        self,
        *,
        force_domains: list[str],
        consultation_addresses: list[str],
        triage_confidence: float = 0.6,
        model: dict | None = None,
        calibrate: bool = True,
    ) -> None:
        """``calibrate=False`` gives raw confidences (for fitting a calibration map)."""
        self.force_domains = [domain.lower().strip() for domain in force_domains if domain.strip()]
        self.consultation_addresses = [a.lower().strip() for a in consultation_addresses if a.strip()]
        self.triage_confidence = triage_confidence
        self.model = model if model is not None else seed_model()
        self._compiled = nb.compile_model(self.model)
        labels = int(self.model.get("label_count", 0) or 0)
        self.seed_only = labels == 0
        self.model_weight = min(MODEL_WEIGHT_MAX, MODEL_WEIGHT_SEED + MODEL_WEIGHT_PER_LABEL * labels)
        # a stored model from before calibration existed gets the shipped map
        self.calibration = (self.model.get("calibration") or calibrate_map.shipped()) if calibrate else None

    @classmethod
    def from_settings(cls, settings: Settings, model: dict | None = None) -> Classifier:
        return cls(
            force_domains=list(settings.force_domains),
            consultation_addresses=list(settings.consultation_addresses),
            triage_confidence=settings.triage_confidence,
            model=model,
        )

    def classify(
        self, msg: ParsedMessage, *, campaign_senders: int = 0, campaign_min_senders: int = 3
    ) -> Classification:
        ctx = Context(
            msg=msg,
            text=Text(message_text(msg)),
            force_domains=self.force_domains,
            consultation_addresses=self.consultation_addresses,
            campaign_senders=campaign_senders,
            campaign_min_senders=campaign_min_senders,
        )
        votes: list[Vote] = []
        for signal in SIGNALS:
            votes.extend(signal.vote(ctx))
        supported = {category for category, weight, _reason in votes if weight > 0}
        story = len(ctx.text.value.split()) >= STORY_WORDS
        votes.extend(self._model_votes(model_text(msg, text=ctx.text.value), supported, story=story))

        scores: dict[str, float] = defaultdict(float)
        for category, weight, _reason in votes:
            scores[category] += weight
        for category in Category:
            scores.setdefault(category.value, 0.0)
        if campaign_senders < campaign_min_senders:
            # campaign is the pipeline's grouping decision: until enough senders, pick another
            scores.pop(Category.CAMPAIGN.value)
        winner = max(scores, key=lambda category: (scores[category], category == Category.CORRESPONDENCE))
        top = scores[winner]
        exp = {category: math.exp((score - top) / TEMPERATURE) for category, score in scores.items()}
        raw = exp[winner] / sum(exp.values())
        confidence = calibrate_map.apply(self.calibration, raw)

        backing = sorted((v for v in votes if v[0] == winner and v[1] > 0), key=lambda v: -v[1])
        reasons = [reason for _c, _w, reason in backing]
        if len(reasons) > 1:
            reasons = [r for r in reasons if not r.startswith("no stronger signal")]
        reasons += [f"not {category}: {reason}" for category, weight, reason in votes if weight < 0]
        complaint = Category.COMPLAINT.value
        possible = winner != complaint and exp[complaint] / sum(exp.values()) >= POSSIBLE_COMPLAINT
        if possible:
            said = next(
                (reason for category, weight, reason in votes if category == complaint and weight > 0), ""
            )
            reasons.append(f"could be a complaint: {said}")
        return Classification(
            category=winner,
            confidence=round(confidence, 3),
            reasons=reasons,
            # below the threshold any category is flagged, a complaint included; a letter that
            # may be a complaint is flagged whatever its confidence
            needs_triage=confidence < self.triage_confidence or possible,
            raw_confidence=round(raw, 4),
        )

    def _model_votes(self, text: str, supported: set[str], *, story: bool = True) -> list[Vote]:
        probabilities, telling = nb.predict(self._compiled, text, explain_above=_MODEL_VOTE_FLOOR)
        votes: list[Vote] = []
        for category, probability in probabilities.items():
            if probability < _MODEL_VOTE_FLOOR:
                continue
            weight = self.model_weight * probability
            if self.seed_only and category not in supported and not story:
                # in a line or two the seed knows words, not meaning: alone it may break a tie,
                # not make a category no signal saw
                weight *= SEED_UNSUPPORTED
            words = telling.get(category) or []
            said = f"; words like {', '.join(repr(w) for w in words)}" if words else ""
            votes.append(
                (
                    category,
                    weight,
                    f"learned model: {probability:.0%} {category}{said}",
                )
            )
        return votes
