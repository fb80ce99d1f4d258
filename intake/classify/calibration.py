"""Calibrated confidence: "80% sure" should be right about 80% of the time.

The classifier's raw confidence is a softmax over summed signal weights. It ranks letters well
(a higher raw score is more often right) but its numbers mean nothing in themselves, so the
triage threshold (``CASEWORK_TRIAGE_CONFIDENCE``) would mean nothing either. A calibration map
turns the raw score into the share of letters with that score that were classified correctly:
isotonic regression (pool adjacent violators), fitted on raw scores the classifier gave letters
it was not trained on: a step per pooled block, interpolated linearly only in the gaps between
one block's highest raw score and the next one's lowest.

The map is part of the model (``model["calibration"]``), so the intake, its workers and
``casework classify`` all give calibrated confidences. The map shipped with the code
(``calibration.json``) was fitted on labelled letters with ``scripts/fit-calibration FOLDER ...``;
:func:`intake.classify.learning.retrain` fits the office's own once it has enough closed cases.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from functools import lru_cache
from importlib.resources import files
from typing import Any

KIND = "isotonic-v1"
#: the 10% bands of the reliability table and of the expected calibration error
BANDS = 10
#: each pooled block's accuracy is shrunk towards one half by this many pseudo-letters, so a
#: block of 40 letters all right says 0.99, not a certainty the data cannot show
_PRIOR = 0.5

Pair = tuple[float, bool]  # (confidence, was the prediction right)


def fit(pairs: Sequence[Pair]) -> dict[str, Any]:
    """An isotonic map from raw confidence to accuracy, as JSON-serialisable data."""
    ordered = sorted(pairs)
    # pool adjacent violators: blocks of (sum of raw, right, count), accuracy non-decreasing
    # blocks of [lowest raw, highest raw, right, count]
    blocks: list[list[float]] = []
    for raw, right in ordered:
        blocks.append([raw, raw, 1.0 if right else 0.0, 1.0])
        while len(blocks) > 1 and _rate(blocks[-2]) >= _rate(blocks[-1]):
            last = blocks.pop()
            blocks[-1][1] = last[1]
            blocks[-1][2] += last[2]
            blocks[-1][3] += last[3]
    ys = [(right + _PRIOR) / (count + 2 * _PRIOR) for _low, _high, right, count in blocks]
    # shrinking may break the order between blocks of different sizes: keep it non-decreasing
    for i in range(1, len(ys)):
        ys[i] = max(ys[i], ys[i - 1])
    # the map's points: each block's two ends at its value (a step), straight lines between blocks
    xs_out: list[float] = []
    ys_out: list[float] = []
    for (low, high, _right, _count), y in zip(blocks, ys, strict=True):
        xs_out += [low, high]
        ys_out += [y, y]
    return {"kind": KIND, "x": [round(x, 6) for x in xs_out], "y": [round(y, 6) for y in ys_out],
            "fitted_on": len(ordered)}  # fmt: skip


def _rate(block: list[float]) -> float:
    return block[2] / block[3]


def apply(calibration: dict[str, Any] | None, raw: float) -> float:
    """The calibrated confidence of ``raw`` (``raw`` itself when there is no map)."""
    if not calibration or calibration.get("kind") != KIND or not calibration.get("x"):
        return raw
    xs, ys = calibration["x"], calibration["y"]
    if raw <= xs[0]:
        return float(ys[0])
    if raw >= xs[-1]:
        return float(ys[-1])
    low, high = 0, len(xs) - 1
    while high - low > 1:  # the two points of the map around raw
        middle = (low + high) // 2
        if xs[middle] <= raw:
            low = middle
        else:
            high = middle
    share = (raw - xs[low]) / (xs[high] - xs[low]) if xs[high] > xs[low] else 0.0
    return float(ys[low] + share * (ys[high] - ys[low]))


def _band(confidence: float) -> int:
    return min(BANDS - 1, max(0, int(confidence * BANDS)))


def reliability(pairs: Sequence[Pair]) -> list[dict[str, Any]]:
    """Per 10% band of confidence: how many letters, their mean confidence and how many were right."""
    table: list[dict[str, Any]] = []
    for band in range(BANDS):
        inside = [(c, r) for c, r in pairs if _band(c) == band]
        right = sum(1 for _c, r in inside if r)
        table.append(
            {
                "band": f"{band * 10}-{band * 10 + 10}%",
                "count": len(inside),
                "mean_confidence": round(sum(c for c, _r in inside) / len(inside), 4) if inside else None,
                "accuracy": round(right / len(inside), 4) if inside else None,
            }
        )
    return table


def expected_calibration_error(pairs: Sequence[Pair]) -> float:
    """The letters' weighted mean gap between confidence and accuracy over the 10% bands."""
    if not pairs:
        return 0.0
    gap = 0.0
    for row in reliability(pairs):
        if row["count"]:
            gap += row["count"] * abs(row["mean_confidence"] - row["accuracy"])
    return round(gap / len(pairs), 4)


def cross_fitted(pairs: Sequence[Pair], *, folds: int = 5, seed: int = 16) -> list[Pair]:
    """Each letter's confidence calibrated by a map fitted on the other folds only."""
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)
    fold_of = {index: position % folds for position, index in enumerate(order)}
    held_out: list[Pair] = []
    for fold in range(folds):
        training = [pairs[i] for i in order if fold_of[i] != fold]
        mapping = fit(training)
        held_out += [(apply(mapping, pairs[i][0]), pairs[i][1]) for i in order if fold_of[i] == fold]
    return held_out


def report(pairs: Sequence[Pair], raw: Sequence[Pair] | None = None) -> dict[str, Any]:
    """What ``casework eval`` prints about confidence: the error, the table, the held-out error."""
    result: dict[str, Any] = {
        "ece": expected_calibration_error(pairs),
        "reliability": reliability(pairs),
        "letters": len(pairs),
    }
    if raw is not None:
        result["held_out_ece"] = expected_calibration_error(cross_fitted(raw)) if len(raw) >= 10 else None
    return result


@lru_cache(maxsize=1)
def shipped() -> dict[str, Any]:
    """The map shipped with the code (``calibration.json``)."""
    return json.loads(files("intake.classify").joinpath("calibration.json").read_text(encoding="utf-8"))


def raw_pairs(folders: Sequence[str], classify: Callable[[Any, int], Any]) -> list[Pair]:
    """(raw confidence, right) for the labelled letters of ``folders`` (``labels.tsv`` layout)."""
    import csv
    from collections import Counter
    from pathlib import Path

    from intake.parse import parse_message

    pairs: list[Pair] = []
    for folder in map(Path, folders):
        with (folder / "labels.tsv").open(encoding="utf-8", newline="") as handle:
            rows = [row for row in csv.DictReader(handle, delimiter="\t") if row["category"] != "auto"]
        sizes = Counter(row["case_key"] for row in rows if row["category"] == "campaign")
        for row in rows:
            msg = parse_message((folder / row["file"]).read_bytes())
            result = classify(msg, sizes[row["case_key"]] if row["category"] == "campaign" else 0)
            pairs.append((result.raw_confidence, result.category == row["category"]))
    return pairs


def main(argv: Sequence[str] | None = None) -> None:
    """Refit ``calibration.json`` from labelled folders with the seed-only classifier."""
    import argparse
    from pathlib import Path

    from intake.classify.classifier import Classifier

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--force-domain", action="append", default=["west-midlands.pnn.police.uk"])
    args = parser.parse_args(argv)
    classifier = Classifier(force_domains=args.force_domain, consultation_addresses=[], calibrate=False)
    pairs = raw_pairs(args.folders, lambda msg, size: classifier.classify(msg, campaign_senders=size))
    mapping = fit(pairs)
    path = Path(__file__).with_name("calibration.json")
    path.write_text(json.dumps(mapping, indent=1) + "\n", encoding="utf-8")
    held = expected_calibration_error(cross_fitted(pairs))
    print(f"fitted on {len(pairs)} letters; held-out ECE {held}; wrote {path}")
