"""Value-by-value comparison of stored and recomputed tables, and the stored tables' own sums
(lineage against its lines, conservation of each day, the period trace). Pure: frames in,
one sentence per difference out."""

from __future__ import annotations

import hashlib

import polars as pl

#: The tables verify recomputes and compares, with the columns that identify a row.
COMPARED = {
    "invoices": ["invoice_id"],
    "invoice_lines": ["invoice_id", "line_no"],
    "sla_credits": ["customer_id", "service"],
    "sla_credit_ledger": ["customer_id", "service", "earned_period"],
    "period_trace": [],
}
LINEAGE_LINE = ["invoice_id", "line_no"]


def _text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text (so a stored file whose types were changed still compares)."""
    return frame.select(pl.col(c).cast(pl.String) for c in frame.columns)


def _key(row: dict, keys: list[str]) -> str:
    return " ".join(f"{k}={row[k]}" for k in keys)


def compare_table(
    table: str, period: str, stored: pl.DataFrame, recomputed: pl.DataFrame
) -> list[str]:
    """One line per row missing on either side and per value that differs."""
    keys = [k for k in COMPARED[table] if k in recomputed.columns] or ["_row"]
    stored, recomputed = (
        _text(frame.drop("billing_period", strict=False).with_row_index("_row"))
        for frame in (stored, recomputed)
    )
    if keys != ["_row"]:
        stored, recomputed = stored.drop("_row"), recomputed.drop("_row")
    columns = [c for c in recomputed.columns if c not in keys]
    missing = [c for c in columns if c not in stored.columns]
    if missing:
        return [f"{period}: {table}: columns missing from the stored table: {', '.join(missing)}"]
    joined = stored.join(recomputed, on=keys, how="full", suffix="_re", coalesce=True)
    problems = []
    stored_keys = set(stored.select(keys).iter_rows())
    recomputed_keys = set(recomputed.select(keys).iter_rows())
    for row in joined.iter_rows(named=True):
        key = tuple(row[k] for k in keys)
        label = f"{period}: {table} {_key(row, keys)}"
        if key not in recomputed_keys:
            problems.append(f"{label}: stored row not in the recompute")
            continue
        if key not in stored_keys:
            problems.append(f"{label}: recomputed row missing from the stored table")
            continue
        for column in columns:
            before, after = row[column], row[f"{column}_re"]
            if before != after:
                problems.append(f"{label}: {column} stored {before}, recomputed {after}")
    return problems


def lineage_problems(period: str, lines: pl.DataFrame, lineage: pl.DataFrame) -> list[str]:
    """Each usage line's event_count and events_sha256 against the events its lineage lists."""
    usage = lines.filter(pl.col("kind") == "usage").select(
        *LINEAGE_LINE, "event_count", "events_sha256"
    )
    listed = lineage.group_by(LINEAGE_LINE).agg(pl.col("event_id"))
    ids = {(r["invoice_id"], r["line_no"]): r["event_id"] for r in listed.iter_rows(named=True)}
    problems = []
    for row in usage.iter_rows(named=True):
        line = (row["invoice_id"], row["line_no"])
        events = ids.pop(line, [])
        label = f"{period}: invoice_line_events {row['invoice_id']} line {row['line_no']}"
        if len(events) != row["event_count"]:
            problems.append(
                f"{label}: count broken: {len(events)} events listed, "
                f"invoice_lines.event_count {row['event_count']}"
            )
        data = b"".join(i.encode() + b"\n" for i in sorted(events, key=str.encode))
        if hashlib.sha256(data).hexdigest() != row["events_sha256"]:
            problems.append(f"{label}: the listed events do not hash to events_sha256")
    for invoice, line_no in sorted(ids):
        problems.append(
            f"{period}: invoice_line_events {invoice} line {line_no}: no such usage line"
        )
    return problems


def lineage_differences(period: str, stored: pl.DataFrame, recomputed: pl.DataFrame) -> list[str]:
    """Rows of the lineage on one side only (as a multiset of rows)."""
    columns = ["invoice_id", "line_no", "event_id", "landing_date", "event_time", "value"]
    counts = []
    for frame in (stored, recomputed):
        counts.append(_text(frame.select(columns)).group_by(columns).len())
    joined = counts[0].join(counts[1], on=columns, how="full", coalesce=True, nulls_equal=True)
    joined = joined.with_columns(
        pl.col("len").fill_null(0).cast(pl.Int64), pl.col("len_right").fill_null(0).cast(pl.Int64)
    )
    only_stored = int((joined["len"] - joined["len_right"]).clip(lower_bound=0).sum())
    only_recomputed = int((joined["len_right"] - joined["len"]).clip(lower_bound=0).sum())
    problems = []
    if only_stored:
        problems.append(
            f"{period}: invoice_line_events: {only_stored} stored rows not in the recompute"
        )
    if only_recomputed:
        problems.append(
            f"{period}: invoice_line_events: {only_recomputed} recomputed rows missing from the "
            "stored table"
        )
    return problems


def audit_problems(audit: pl.DataFrame) -> list[str]:
    """Landing days where rows_read ≠ quarantined + duplicate + accepted."""
    broken = audit.filter(
        pl.col("rows_read")
        != pl.col("rows_quarantined") + pl.col("rows_duplicate") + pl.col("rows_accepted")
    )
    return [
        f"{r['landing_date']}: count broken: ingestion_audit rows_read {r['rows_read']} ≠ "
        f"quarantined {r['rows_quarantined']} + duplicate {r['rows_duplicate']} + accepted "
        f"{r['rows_accepted']}"
        for r in broken.sort("landing_date").iter_rows(named=True)
    ]


def trace_problems(period: str, trace: pl.DataFrame) -> list[str]:
    """The stored period_trace: one row, events = billed + unbilled + not_priced."""
    if trace.height != 1:
        return [f"{period}: count broken: period_trace has {trace.height} rows, expected 1"]
    r = trace.row(0, named=True)
    total = r["events_billed"] + r["events_unbilled"] + r["events_not_priced"]
    if r["events"] != total:
        return [
            f"{period}: count broken: period_trace events {r['events']} ≠ billed "
            f"{r['events_billed']} + unbilled {r['events_unbilled']} + not_priced "
            f"{r['events_not_priced']}"
        ]
    return []
