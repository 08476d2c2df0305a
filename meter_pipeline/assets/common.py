"""Shared helpers for asset definitions: contract → UI metadata, previews."""

from __future__ import annotations

import dagster as dg
import polars as pl

from data_contracts import CONTRACTS
from data_contracts.base import descriptions, model_description, polars_schema

OWNERS = ["team:data-platform"]
KINDS = {"polars", "parquet"}


def column_schema(table: str) -> dg.TableSchema:
    model = CONTRACTS[table]
    docs = descriptions(model)
    return dg.TableSchema(columns=[
        dg.TableColumn(name, str(dtype), description=docs.get(name) or None)
        for name, dtype in polars_schema(model).items()
    ])


def table_spec(table: str, group: str, **kwargs) -> dict:
    """Description, owners, kinds and column schema of a warehouse table, from its contract."""
    return dict(
        description=model_description(CONTRACTS[table]),
        owners=OWNERS,
        kinds=KINDS,
        group_name=group,
        metadata={"dagster/column_schema": column_schema(table),
                  "warehouse_path": f"warehouse/{table}/"},
        **kwargs,
    )


def preview(frame: pl.DataFrame, rows: int = 5) -> dg.MetadataValue:
    """A Markdown table of the first rows, for the UI."""
    head = frame.head(rows)
    if head.is_empty():
        return dg.MetadataValue.md("_(no rows)_")
    cols = head.columns
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in head.iter_rows():
        cells = [str(v).replace("|", "\\|").replace("\n", " ")[:60] for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return dg.MetadataValue.md("\n".join(lines))
