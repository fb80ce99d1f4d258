"""``casework eval DIR``: classification scores and grouping on a labelled folder of mail."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from casework.cli import main
from casework.settings import get_settings
from intake.evaluate import evaluate
from tests.conftest import CORPUS, make_settings, shared_or_skip

CATEGORIES = ["correspondence", "complaint", "foi", "campaign", "officer_correspondence", "consultation"]


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CASEWORK_DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_dev_corpus_grouping_is_perfect_and_macro_f1_meets_target(
    cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = shared_or_skip(CORPUS)
    main(["eval", str(corpus), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert list(result["categories"]) == CATEGORIES
    # every reply, re-send (d075/d076) and campaign on the right case; automatic mail opens none
    assert result["grouping"]["errors"] == [] and result["grouping"]["correct"] is True
    assert result["outcomes"].get("quarantined", 0) == 0
    assert result["outcomes"]["automatic"] == 4
    assert result["macro_f1"] >= 0.95
    assert result["categories"]["complaint"]["recall"] >= 0.95


HARD = Path(__file__).resolve().parents[1] / "corpus" / "hard"


@pytest.mark.parametrize("folder", ["dev", "hard"])
def test_complaint_recall_macro_f1_and_calibration_meet_the_thresholds(
    folder: str, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 16's thresholds, on the dev corpus and on the hard set written for it: complaint
    recall and macro-F1 at least 0.95, confidence calibrated within 0.05 (ECE, 10% bands)."""
    path = shared_or_skip(CORPUS) if folder == "dev" else HARD
    main(["eval", str(path), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert result["categories"]["complaint"]["recall"] >= 0.95, result["categories"]["complaint"]
    assert result["macro_f1"] >= 0.95, result["categories"]
    assert result["grouping"]["correct"], result["grouping"]["errors"]
    calibration = result["calibration"]
    assert calibration["ece"] <= 0.05 and calibration["held_out_ece"] <= 0.05, calibration
    bands = calibration["reliability"]
    assert [row["band"] for row in bands] == [f"{n}-{n + 10}%" for n in range(0, 100, 10)]
    assert sum(row["count"] for row in bands) == calibration["letters"] == result["grouping"]["case_keys"]


def test_eval_text_prints_the_reliability_table(cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    main(["eval", str(HARD)])
    out = capsys.readouterr().out
    assert "calibration error (ECE, 10% bands):" in out and "on held-out folds" in out
    assert "90-100%" in out


def make_folder(tmp_path: Path, files: list[str], labels: list[tuple[str, str, str]]) -> Path:
    corpus = shared_or_skip(CORPUS)
    folder = tmp_path / "mini"
    folder.mkdir()
    for name in files:
        shutil.copy(corpus / name, folder / name)
    lines = ["file\tmessage_id\tcategory\tcase_key\tnotes"] + [f"{f}\t\t{c}\t{k}\t" for f, c, k in labels]
    (folder / "labels.tsv").write_text("\n".join(lines) + "\n")
    return folder


def test_wrong_grouping_is_reported(tmp_path: Path) -> None:
    # labels that claim two unrelated letters are one case, and the re-send is a separate case
    folder = make_folder(
        tmp_path,
        ["d075.eml", "d076.eml", "d005.eml"],
        [
            ("d075.eml", "correspondence", "k1"),
            ("d076.eml", "correspondence", "k2"),
            ("d005.eml", "correspondence", "k1"),
        ],
    )
    result = evaluate(folder, make_settings("sqlite://"))
    errors = result["grouping"]["errors"]
    assert result["grouping"]["correct"] is False
    assert any("k1: split" in e for e in errors) and any("k1, k2: on one case" in e for e in errors)


def test_automatic_mail_must_not_open_a_case(tmp_path: Path) -> None:
    folder = make_folder(
        tmp_path, ["d039.eml", "d001.eml"], [("d039.eml", "auto", ""), ("d001.eml", "complaint", "k")]
    )
    result = evaluate(folder, make_settings("sqlite://"))
    assert result["grouping"]["correct"] is True
    assert result["categories"]["complaint"]["recall"] == 0.0  # d001 is correspondence, not a complaint
    assert result["categories"]["correspondence"]["precision"] == 0.0


@pytest.mark.parametrize("problem", ["no-folder", "no-labels", "bad-category", "missing-file"])
def test_bad_folder_is_a_clear_error(
    problem: str, tmp_path: Path, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "c"
    if problem != "no-folder":
        folder.mkdir()
    if problem == "bad-category":
        (folder / "a.eml").write_bytes(b"From: a@b\n\nx\n")
        (folder / "labels.tsv").write_text("file\tcategory\tcase_key\na.eml\tspam\tk\n")
    if problem == "missing-file":
        (folder / "labels.tsv").write_text("file\tcategory\tcase_key\nzz.eml\tfoi\tk\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", str(folder)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


CORPORA = Path(__file__).resolve().parents[1] / "corpus"


@pytest.mark.parametrize("folder", ["unseen", "fresh", "later"])
def test_letters_written_after_tuning_keep_a_modest_floor(
    folder: str, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The unseen, fresh and later sets were written after the rules they measure (READMEs):
    their figures are reported, not targets, so the floor is modest — it catches a regression in
    reading meaning (complaints told as plain narrative), not a missed phrase. Unseen has no
    campaign, so the mean F1 is over the categories present."""
    main(["eval", str(CORPORA / folder), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert result["categories"]["complaint"]["recall"] >= 0.85, result["categories"]["complaint"]
    present = [row["f1"] for row in result["categories"].values() if row["support"]]
    assert sum(present) / len(present) >= 0.75, result["categories"]
    if folder != "later":  # 30 letters, 3 wrong: five folds of six are too few to say
        assert result["calibration"]["held_out_ece"] <= 0.1, result["calibration"]
