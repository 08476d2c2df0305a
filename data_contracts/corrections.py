"""Contracts of the corrections tables
(docs/audit.md#corrections-void-or-amend-an-event-without-rewriting-history), partitioned by
``landing_date``: the corrections that landed on a day, accepted, rejected or repeated, and where
every row went."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from data_contracts.base import DIMENSIONS, PERIOD_PATTERN, QUANTITY, Contract

CORRECTION_REASONS = (
    "malformed",
    "missing_field",
    "invalid_type",
    "unknown_event",
    "already_voided",
    "invalid_value",
    "negative_value",
    "missing_dimension",
)


def _landing_date() -> object:
    return pa.Field(description="UTC day the correction file arrived (the partition).")


def _source_file() -> object:
    return pa.Field(description="Path of the correction file, relative to the data root.")


def _line_number() -> object:
    return pa.Field(ge=0, description="Row in the file, from 1 (0: the whole file unreadable).")


class EventCorrections(Contract):
    """Accepted corrections
    (docs/audit.md#corrections-void-or-amend-an-event-without-rewriting-history): a void or an amend
    of one clean event, applied in arrival order. Events are never edited in place: billing applies
    these to the original event. Grain: one row per accepted correction."""

    landing_date: pl.Date = _landing_date()
    correction_id: str = pa.Field(description="The correction's idempotency key.")
    event_id: str = pa.Field(description="The clean event corrected.")
    action: str = pa.Field(isin=["void", "amend"], description="void or amend.")
    value: QUANTITY = pa.Field(nullable=True, description="amend: the new value (null: unchanged).")
    dimensions: DIMENSIONS = pa.Field(
        nullable=True,
        description="amend: the new dimensions, replacing the whole map (null: unchanged).",
    )
    event_landing_date: pl.Date = pa.Field(description="Landing day of the corrected clean event.")
    event_billing_period: str = pa.Field(
        nullable=True,
        str_matches=PERIOD_PATTERN,
        description="billing_period of the corrected event.",
    )
    applied_period: str = pa.Field(
        nullable=True,
        str_matches=PERIOD_PATTERN,
        description="The period whose invoice reflects the correction: the event's own period "
        "while it is open, else the earliest period still open on the correction's landing day; "
        "null for an event no period bills (late_ignored).",
    )
    source_file: str = _source_file()
    line_number: pl.Int64 = _line_number()


class QuarantinedCorrections(Contract):
    """Correction rows rejected, with the first reason that applies
    (docs/audit.md#corrections-void-or-amend-an-event-without-rewriting-history). Grain: one row per
    rejected row."""

    landing_date: pl.Date = _landing_date()
    source_file: str = _source_file()
    line_number: pl.Int64 = _line_number()
    reason: str = pa.Field(
        isin=list(CORRECTION_REASONS), description="The first rule the row breaks."
    )
    detail: str = pa.Field(description="What exactly is wrong, in words.")
    raw_record: str = pa.Field(
        nullable=True, description="The row's text (null for an unreadable file)."
    )


class DuplicateCorrections(Contract):
    """Later rows of a correction_id already accepted within dedup_window_days
    (docs/audit.md#corrections-void-or-amend-an-event-without-rewriting-history). Grain: one row per
    repeated row."""

    landing_date: pl.Date = _landing_date()
    correction_id: str = pa.Field(description="The repeated correction id.")
    source_file: str = _source_file()
    line_number: pl.Int64 = _line_number()
    first_landing_date: pl.Date = pa.Field(description="Landing day of the accepted one.")
    conflict: bool = pa.Field(
        description="True when event_id, action, value or dimensions differ from the accepted one."
    )


class CorrectionAudit(Contract):
    """Where every correction row of a landing day went
    (docs/audit.md#corrections-void-or-amend-an-event-without-rewriting-history): rows_read =
    rows_quarantined + rows_duplicate + rows_accepted, a blocking check. Grain: one row per landing
    day."""

    landing_date: pl.Date = _landing_date()
    rows_read: pl.Int64 = pa.Field(ge=0, description="Rows read from the day's correction files.")
    rows_quarantined: pl.Int64 = pa.Field(ge=0, description="Rows in quarantined_corrections.")
    rows_duplicate: pl.Int64 = pa.Field(ge=0, description="Rows in duplicate_corrections.")
    rows_accepted: pl.Int64 = pa.Field(ge=0, description="Rows in event_corrections.")


TABLES = {
    "event_corrections": EventCorrections,
    "quarantined_corrections": QuarantinedCorrections,
    "duplicate_corrections": DuplicateCorrections,
    "correction_audit": CorrectionAudit,
}
