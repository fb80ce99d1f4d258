"""``casework classify FILE.eml``: what the intake would decide about one message, and why."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from casework.errors import UserError
from casework.settings import Settings, get_settings
from intake.automatic import automatic_reason
from intake.classify import Classifier, load_classifier
from intake.parse import Unparseable, parse_message


def _read(path: Path) -> bytes:
    if not path.exists():
        raise UserError(f"{path} does not exist. Give the path of a saved email (.eml) file.")
    if path.is_dir():
        raise UserError(f"{path} is a folder. Give one .eml file (use `casework eval DIR` for a folder).")
    try:
        return path.read_bytes()
    except OSError as err:
        raise UserError(f"Cannot read {path}: {err.strerror}. Check the file's permissions.") from err


def _classifier(settings: Settings, use_store: bool) -> tuple[Classifier, str]:
    """The stored model when there is a database to read it from; else the seed-only model."""
    if use_store:
        path = settings.sqlite_path()
        if not settings.is_sqlite or (path is not None and path.exists()):
            from casework.runtime import open_store
            from store.db import session_scope

            engine = open_store(settings)
            try:
                with session_scope(engine) as session:
                    classifier = load_classifier(session, settings)
            finally:
                engine.dispose()
            labels = int(classifier.model.get("label_count", 0) or 0)
            if labels:
                return classifier, f"stored model (trained with {labels} caseworker labels)"
            return classifier, "seed set only (no caseworker labels yet)"
    return Classifier.from_settings(settings), "seed set only"


def classify_command(
    file: Path = typer.Argument(..., help="A saved email (.eml / raw RFC 5322 message)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of text."),
    use_store: bool = typer.Option(
        True,
        "--store/--no-store",
        help="Use the newest model stored in the database (default) or the seed set.",
    ),
) -> None:
    """Print the category, confidence and reasons the intake would give FILE."""
    settings = get_settings()
    raw = _read(file)
    try:
        msg = parse_message(raw, attachment_max_bytes=settings.attachment_max_bytes)
    except Unparseable as err:
        raise UserError(
            f"{file} is not an email message ({err.reason}). Save the whole message "
            "including its headers (in most mail programs: 'Save as' / 'Show original')."
        ) from err
    classifier, model = _classifier(settings, use_store)
    result = classifier.classify(msg, campaign_min_senders=settings.campaign_min_senders)
    automatic = automatic_reason(msg)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "file": str(file),
                    "message_id": msg.message_id,
                    "category": result.category,
                    "confidence": result.confidence,
                    "raw_confidence": result.raw_confidence,
                    "needs_triage": result.needs_triage,
                    "reasons": result.reasons,
                    "automatic": automatic,
                    "model": model,
                },
                ensure_ascii=False,
            )
        )
        return
    typer.echo(f"category:   {result.category}")
    typer.echo(f"confidence: {result.confidence:.2f}" + ("  (needs triage)" if result.needs_triage else ""))
    typer.echo("reasons:")
    for reason in result.reasons:
        typer.echo(f"  - {reason}")
    if automatic:
        typer.echo(f"automatic:  {automatic} (would not open a case of its own)")
    typer.echo(f"model:      {model}")


def retrain_command(
    force: bool = typer.Option(False, "--force", help="train even when no label is newer than the model"),
) -> None:
    """Retrain the classifier now from caseworkers' corrections (the scheduler also does this nightly)."""
    from casework.runtime import open_store
    from intake.classify import retrain
    from store.db import session_scope

    settings = get_settings()
    with session_scope(open_store(settings)) as session:
        model = retrain(session, settings, force=force)
    if model is None:
        typer.echo(
            "No new corrections since the last training: the model is unchanged (use --force to retrain)."
        )
    else:
        typer.echo(
            f"Classifier retrained from {model.label_count} correction(s); model {model.id} is in use."
        )


def register(app: typer.Typer) -> None:
    app.command("classify")(classify_command)
    app.command("retrain")(retrain_command)
