"""Step: which of the six categories a message belongs to, how sure, and why.

A table of named signals (:mod:`intake.classify.signals`) votes; a learned naive-Bayes model
(:mod:`intake.classify.model`) is one more voter; :class:`Classifier` adds the votes up.
:func:`train` builds a model, :func:`retrain` and :func:`load_classifier` keep it in the store.
"""

from intake.classify.classifier import Classifier, seed_model, train
from intake.classify.learning import load_classifier, retrain
from intake.classify.text import model_text as label_text

__all__ = ["Classifier", "label_text", "load_classifier", "retrain", "seed_model", "train"]
