"""``--format csv``: every Board table as its own CSV file, headed by the JSON keys.

The cells are the store's raw values (numbers unformatted, empty for ``null``), so the office's
spreadsheets get exactly what ``casework stats --json`` gives.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from casework.report.tables import SURGERY_KEY, TABLE_KEYS, TIMELINESS_KEY, has_surgeries
from store.export import csv_safe


def table_columns(rows: list[dict[str, Any]]) -> list[str]:
    """Every key the rows use, in first-seen order (``holiday`` appears only on some weeks)."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return list(columns)


def table_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=table_columns(rows), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else csv_safe(value) for key, value in row.items()})
    return buffer.getvalue()


def csv_files(tables: dict[str, Any]) -> dict[str, str]:
    """File name → CSV text, one per table."""
    keys = [
        *TABLE_KEYS,
        *([TIMELINESS_KEY] if TIMELINESS_KEY in tables else []),
        *([SURGERY_KEY] if has_surgeries(tables) else []),
    ]
    return {f"{key}.csv": table_csv(tables[key]) for key in keys}
