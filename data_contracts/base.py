"""Shared column types and helpers: every table's columns are declared once, in its model."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from meter_pipeline.money import MONEY, PERCENT, QUANTITY

__all__ = [
    "DIMENSIONS",
    "MONEY",
    "PERCENT",
    "PERIOD_PATTERN",
    "QUANTITY",
    "TIMESTAMP",
    "Contract",
    "conform",
    "descriptions",
    "empty_frame",
    "model_description",
    "polars_schema",
]

#: A billing period key: ``YYYY-MM`` with a month 01–12.
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
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
