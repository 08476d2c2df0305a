"""Shared column types and helpers: every table's columns are declared once, in its model."""

from __future__ import annotations

import functools

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
    """Select the model's columns in its order and validate every row (eager, all failures).

    Every rule pandera would check on the model's columns (the exact dtypes, no null where the
    column is not nullable, each column check, nulls passing a check as pandera lets them) is
    first evaluated in one Polars pass; only when that pass finds a failure, or the model has a
    rule it does not know (a dataframe-wide check), does pandera validate — and report."""
    schema = polars_schema(model)
    frame = frame.select(list(schema))
    rules = _column_rules(model)
    if rules is not None and frame.schema == schema and _all_hold(frame, rules):
        return frame
    return model.validate(frame, lazy=True)


#: pandera's built-in column checks (pandera/backends/polars/builtin_checks.py) as expressions.
_CHECKS = {
    "greater_than_or_equal_to": lambda c, s: c >= s["min_value"],
    "greater_than": lambda c, s: c > s["min_value"],
    "less_than_or_equal_to": lambda c, s: c <= s["max_value"],
    "less_than": lambda c, s: c < s["max_value"],
    "isin": lambda c, s: c.is_in(list(s["allowed_values"])),
    "str_matches": lambda c, s: c.str.contains(
        s["pattern"] if s["pattern"].startswith("^") else f"^{s['pattern']}"
    ),
}


@functools.cache
def _column_rules(model: type[Contract]) -> tuple[pl.Expr, ...] | None:
    """One boolean expression per rule of the model's columns, or None when the model has a rule
    not in :data:`_CHECKS` (pandera then checks every frame)."""
    declared = model.to_schema()
    if declared.checks or declared.unique:
        return None
    rules = []
    for name, column in declared.columns.items():
        col = pl.col(name)
        if not column.nullable:
            rules.append(col.is_not_null().all())
        if column.unique:
            return None
        for check in column.checks:
            make = _CHECKS.get(check.name)
            if make is None or not check.ignore_na:
                return None
            rules.append((col.is_null() | make(col, check.statistics)).all())
    return tuple(rules)


def _all_hold(frame: pl.DataFrame, rules: tuple[pl.Expr, ...]) -> bool:
    if not rules:
        return True
    return all(frame.select(rule.alias(f"_{n}") for n, rule in enumerate(rules)).row(0))


def descriptions(model: type[Contract]) -> dict[str, str]:
    return {name: col.description or "" for name, col in model.to_schema().columns.items()}


def model_description(model: type[Contract]) -> str:
    doc = (model.__doc__ or "").strip()
    return " ".join(doc.split())
