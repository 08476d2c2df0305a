"""Reading the warehouse for the finance tools: one month's tables, customer names, and the
errors that say what to run when a month is not there."""

from __future__ import annotations

import html
from decimal import Decimal
from pathlib import Path

import polars as pl

from meter_pipeline.io import warehouse
from meter_pipeline.storage import storage_for


class FinanceError(Exception):
    """A document or report that cannot be made, with what to do about it."""


def read_table(root: Path, table: str, keys: list[str] | None = None) -> pl.DataFrame:
    """The partitions ``keys`` of ``table`` (all when None) as one frame."""
    keys = warehouse.existing_keys(root, table) if keys is None else keys
    return warehouse.scan_partitions(root, table, keys).collect()


def closed_month(root: Path, period: str) -> None:
    """Raise FinanceError unless ``period`` has been closed (its invoices partition exists)."""
    closed = warehouse.existing_keys(root, "invoices")
    if period not in closed:
        have = ", ".join(closed) or "none"
        raise FinanceError(
            f"{period} has no invoices under {storage_for(root).location('warehouse')} "
            f"(months closed: {have}). "
            f"Close it first: meter-pipeline backfill --root {root} --start … --end <its last "
            "landing day>, or meter-pipeline demo --root DIR for the demo."
        )


def customer_names(root: Path) -> dict[str, str]:
    """customer_id → name from reference/customers.csv (the last row's name); {} if unreadable
    (the documents then show the id)."""
    from meter_pipeline.config.errors import ConfigError
    from meter_pipeline.config.reference import load_reference

    try:
        subscriptions = load_reference(root).subscriptions
    except (ConfigError, OSError):
        return {}
    names: dict[str, str] = {}
    for sub in sorted(subscriptions, key=lambda s: (s.customer_id, s.start_date)):
        if sub.customer_name:
            names[sub.customer_id] = sub.customer_name
    return names


def quantity(value: Decimal | None) -> str:
    """An exact quantity without trailing zeros, digits grouped: ``1,234.5``; '' for null."""
    if value is None:
        return ""
    text = f"{value.normalize():,f}"
    return "0" if text in ("-0", "0") else text


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value))
