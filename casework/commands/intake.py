"""``casework ingest``, ``casework quarantine`` and ``casework eval``: mail in from files, and its checks."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlmodel import Session

from casework.errors import UserError
from casework.runtime import open_store
from casework.settings import get_settings
from intake import quarantine as quarantine_store
from intake.pipeline import Pipeline
from intake.sources import batched
from intake.sources.files import open_local
from store import audit

quarantine_app = typer.Typer(
    help="Messages intake could not log, held with the reason.", no_args_is_help=True
)

SUMMARY_KEYS = ("read", "opened", "attached", "automatic", "duplicates", "quarantined", "outgoing")
_KIND_TO_KEY = {"duplicate": "duplicates"}
#: messages committed together by ``casework ingest``
INGEST_BATCH = 100


def ingest_command(
    path: Path = typer.Argument(..., help="A Maildir folder, an mbox file, or a folder of .eml files."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
    ack: bool = typer.Option(
        False,
        "--ack/--no-ack",
        help="Acknowledge new cases by email (off by default: a back-fill must not write to people "
        "about letters they sent long ago).",
    ),
) -> None:
    """Log every message of a local mailbox (back-filling an exported mailbox), then summarise."""
    box = open_local(path)
    settings = get_settings()
    if not ack:
        settings = settings.model_copy(update={"smtp_host": ""})  # no acknowledgement rows at all
    engine = open_store(settings)
    pipeline = Pipeline(settings, engine)
    counts: Counter[str] = Counter({key: 0 for key in SUMMARY_KEYS})
    progress = Progress(
        TextColumn("ingesting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=as_json,
    )
    with progress, pipeline:
        task = progress.add_task("ingest", total=box.count())
        # a transaction per batch, the next batch parsed and classified meanwhile by workers
        for outcomes in pipeline.process_batches(batched(box, INGEST_BATCH)):
            for outcome in outcomes:
                counts["read"] += 1
                counts[_KIND_TO_KEY.get(outcome.kind, outcome.kind)] += 1
            progress.advance(task, len(outcomes))
    summary = {key: counts[key] for key in SUMMARY_KEYS}
    if as_json:
        typer.echo(json.dumps(summary))
        return
    typer.echo(
        f"Read {summary['read']} message(s): {summary['opened']} opened a case, {summary['attached']} joined "
        f"a case, {summary['automatic']} automatic, {summary['duplicates']} already logged, "
        f"{summary['quarantined']} quarantined, {summary['outgoing']} the office's own replies."
    )
    if summary["quarantined"]:
        typer.echo("See why with `casework quarantine list`; reprocess with `casework quarantine retry`.")


@quarantine_app.command("list")
def quarantine_list(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list."),
    include_resolved: bool = typer.Option(False, "--all", help="Also show messages already resolved."),
) -> None:
    """Show the messages held in quarantine and why."""
    engine = open_store(get_settings())
    with Session(engine) as session:
        rows = quarantine_store.held(session, include_resolved=include_resolved)
        # the reasons can quote a sender's address: the look is recorded, not what was seen
        audit.record(
            session, actor=audit.cli_actor(), action="viewed", detail=f"quarantine list, {len(rows)} held"
        )
        session.commit()
    if as_json:
        typer.echo(json.dumps([row.as_dict() for row in rows]))
        return
    if not rows:
        typer.echo("The quarantine is empty.")
        return
    for row in rows:
        state = f"resolved {row.resolved_at}" if row.resolved_at else f"{row.retries} retries"
        typer.echo(
            f"#{row.id}  {row.created_at}  {row.source}  ({row.size} bytes, {state})\n    {row.reason}"
        )


@quarantine_app.command("retry")
def quarantine_retry(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of outcomes."),
) -> None:
    """Run every held message through intake again; the ones logged now are marked resolved."""
    settings = get_settings()
    engine = open_store(settings)
    results = quarantine_store.retry(Pipeline(settings, engine), engine)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {"id": pk, "kind": o.kind, "case_reference": o.case_reference, "reason": o.reason}
                    for pk, o in results
                ]
            )
        )
        return
    if not results:
        typer.echo("Nothing to retry: the quarantine is empty.")
    for pk, outcome in results:
        typer.echo(f"#{pk}: {outcome.kind} {outcome.case_reference or ''} {outcome.reason}".rstrip())


def eval_command(
    folder: Path = typer.Argument(..., help="A folder of .eml files with a labels.tsv."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
) -> None:
    """Measure classification (precision/recall/F1) and grouping on a labelled folder of mail."""
    from intake.evaluate import evaluate

    result = evaluate(folder, get_settings())
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(f"{'category':<24}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>9}")
    for name, row in result["categories"].items():
        typer.echo(
            f"{name:<24}{row['precision']:>10.3f}{row['recall']:>10.3f}{row['f1']:>10.3f}{row['support']:>9}"
        )
    typer.echo(f"macro-F1 over the six categories: {result['macro_f1']:.3f}")
    _print_calibration(result["calibration"])
    grouping = result["grouping"]
    if grouping["correct"]:
        typer.echo(
            f"grouping: all {grouping['case_keys']} cases right "
            "(replies, re-sends, campaigns, automatic mail)"
        )
    else:
        typer.echo(f"grouping: {len(grouping['errors'])} error(s)")
        for error in grouping["errors"]:
            typer.echo(f"  - {error}")


def _print_calibration(calibration: dict) -> None:
    held = calibration.get("held_out_ece")
    typer.echo(
        f"calibration error (ECE, 10% bands): {calibration['ece']:.3f} over {calibration['letters']} cases"
        + (f"; on held-out folds {held:.3f}" if held is not None else "")
    )
    typer.echo(f"  {'confidence':<12}{'cases':>7}{'mean conf':>11}{'right':>8}")
    for row in calibration["reliability"]:
        if row["count"]:
            typer.echo(
                f"  {row['band']:<12}{row['count']:>7}{row['mean_confidence']:>11.3f}{row['accuracy']:>8.3f}"
            )


acks_app = typer.Typer(
    help="Queued emails to correspondents: acknowledgements, surgery invitations and the rest.",
    no_args_is_help=True,
)


@acks_app.command("send")
def acks_send() -> None:
    """Send every queued email now (acknowledgements, surgery confirmations, reminders, offers,
    cancellations); the running service does this on its own every few seconds."""
    from intake.smtp_sender import drain

    settings = get_settings()
    if not settings.smtp_enabled:
        raise UserError(
            "SMTP is not configured: set CASEWORK_SMTP_HOST (and the other CASEWORK_SMTP_* keys)."
        )
    engine = open_store(settings)
    sent = 0
    while batch := drain(settings, engine, limit=500):  # rows that fail wait for their back-off
        sent += batch
    typer.echo(f"sent {sent} email(s)")


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
    app.command("eval")(eval_command)
    app.add_typer(quarantine_app, name="quarantine")
    app.add_typer(acks_app, name="acks")
