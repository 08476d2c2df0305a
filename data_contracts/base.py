"""Shared column types and helpers: every table's columns are declared once, in its model."""

from __future__ import annotations

import polars as pl
import pandera.polars as pa

QUANTITY = pl.Decimal(38, 9)
MONEY = pl.Decimal(38, 4)
PERCENT = pl.Decimal(9, 4)
TIMESTAMP = pl.Datetime("us", "UTC")
DIMENSIONS = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))


class Contract(pa.DataFrameModel):
    """Base of every table contract: strict columns, no coercion (types are produced exactly)."""

    class Config:
        strict = True
        coerce = False


def polars_schema(model: type[Contract]) -> pl.Schema:
    """The Polars schema a model declares, in declaration order."""
    return pl.Schema({name: col.dtype.type for name, col in model.to_schema().columns.items()})


def empty_frame(model: type[Contract]) -> pl.DataFrame:
    return pl.DataFrame(schema=polars_schema(model))


def conform(frame: pl.DataFrame, model: type[Contract]) -> pl.DataFrame:
    """Select the model's columns in its order and validate every row (eager, all failures)."""
    schema = polars_schema(model)
    frame = frame.select(list(schema))
    return model.validate(frame, lazy=True)


def descriptions(model: type[Contract]) -> dict[str, str]:
    return {name: col.description or "" for name, col in model.to_schema().columns.items()}


def model_description(model: type[Contract]) -> str:
    doc = (model.__doc__ or "").strip()
    return " ".join(doc.split())
