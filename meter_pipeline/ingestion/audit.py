"""The ingestion audit: where every row of a landing day went
(docs/rules.md#4-counting-each-event-once-clean_events-duplicate_events)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

import polars as pl

from data_contracts import polars_schema
from data_contracts.ingestion import REASONS, IngestionAudit
from meter_pipeline.io.landing import NOT_LANDING_NAME
from meter_pipeline.io.records import LandingFile


def build_audit(
    landing_date: dt.date,
    files: Sequence[LandingFile],
    skipped: Sequence[str],
    unknown_fields: Counter,
    quarantined: pl.DataFrame,
    rows_duplicate: int,
    rows_conflicting: int,
    rows_accepted: int,
    skipped_reasons: Sequence[str] | None = None,
) -> pl.DataFrame:
    """One row for the day: the four counts, counts per reason, files, skipped, unknown fields."""
    by_reason = Counter(quarantined.get_column("reason").to_list())
    row = {
        "landing_date": landing_date,
        "rows_read": sum(f.rows for f in files),
        "rows_quarantined": quarantined.height,
        "rows_duplicate": rows_duplicate,
        "rows_accepted": rows_accepted,
        "rows_conflicting": rows_conflicting,
        **{f"quarantined_{reason}": by_reason.get(reason, 0) for reason in REASONS},
        "files": [
            {"path": f.path, "bytes": f.bytes, "sha256": f.sha256, "rows": f.rows} for f in files
        ],
        "skipped_files": list(skipped),
        "skipped_reasons": list(skipped_reasons)
        if skipped_reasons is not None
        else [NOT_LANDING_NAME] * len(skipped),
        "unknown_fields": [{"name": name, "rows": n} for name, n in sorted(unknown_fields.items())],
    }
    return pl.DataFrame([row], schema=polars_schema(IngestionAudit))


def conservation_holds(audit: pl.DataFrame) -> bool:
    """rows_read = rows_quarantined + rows_duplicate + rows_accepted, on every row."""
    return bool(
        audit.select(
            (
                pl.col("rows_read")
                == pl.col("rows_quarantined") + pl.col("rows_duplicate") + pl.col("rows_accepted")
            ).all()
        ).item()
    )


def audit_counts(audit: pl.DataFrame) -> dict[str, int]:
    """The counts of an audit row (rows_* and quarantined_*), to add up over days."""
    return {
        k: v for k, v in audit.row(0, named=True).items() if k.startswith(("rows_", "quarantined_"))
    }
