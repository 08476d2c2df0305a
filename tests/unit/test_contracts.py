"""conform(): the one-pass check of a contract's column rules accepts exactly the frames pandera
accepts (data_contracts/base.py). Every rule of every contract is broken in turn on a row that
keeps every other rule; conform must refuse each (pandera's report), and take the good row as is."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandera.errors
import polars as pl
import pytest

from data_contracts import CONTRACTS, conform
from data_contracts.base import _column_rules, polars_schema

#: A value matching each pattern the contracts use (a test fails on a new pattern: add it).
MATCHING = {
    "^[0-9]{4}-(0[1-9]|1[0-2])$": ("2026-09", "2026-13"),
    "^[A-Z]{3}$": ("USD", "usd"),
    "^[0-9a-f]{64}$": ("ab" * 32, "AB" * 32),
}


def good_value(dtype: pl.DataType, checks) -> object:
    low = 0
    for check in checks:
        if check.name == "isin":
            return sorted(check.statistics["allowed_values"])[0]
        if check.name == "str_matches":
            return MATCHING[check.statistics["pattern"]][0]
        if check.name == "greater_than_or_equal_to":
            low = check.statistics["min_value"]
        if check.name == "greater_than":
            low = check.statistics["min_value"] + 1
    if dtype == pl.String:
        return "x"
    if dtype == pl.Boolean:
        return False
    if dtype == pl.Date:
        return dt.date(2026, 9, 1)
    if isinstance(dtype, pl.Datetime):
        return dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    if isinstance(dtype, pl.Decimal):
        return Decimal(low)
    if isinstance(dtype, pl.List):
        return []
    if dtype.is_integer():
        return low
    raise AssertionError(f"no good value for {dtype}")


def breaking(dtype: pl.DataType, check) -> object:
    if check.name == "isin":
        return "not-" + "".join(sorted(check.statistics["allowed_values"]))
    if check.name == "str_matches":
        return MATCHING[check.statistics["pattern"]][1]
    if check.name in ("greater_than_or_equal_to", "greater_than"):
        low = check.statistics["min_value"]
        return Decimal(low) - 1 if isinstance(dtype, pl.Decimal) else low - 1
    if check.name in ("less_than_or_equal_to", "less_than"):
        high = check.statistics["max_value"]
        return Decimal(high) + 1 if isinstance(dtype, pl.Decimal) else high + 1
    raise AssertionError(f"no breaking value for {check.name}")


CASES = [
    (table, column, n)
    for table, model in CONTRACTS.items()
    if _column_rules(model) is not None
    for column, spec in model.to_schema().columns.items()
    for n in range(len(spec.checks) + (not spec.nullable))
]


def good_row(model) -> dict:
    columns = model.to_schema().columns
    schema = polars_schema(model)
    return {name: good_value(schema[name], spec.checks) for name, spec in columns.items()}


@pytest.mark.parametrize("table", sorted({t for t, _, _ in CASES}))
def test_a_row_keeping_every_rule_is_taken_as_it_is(table):
    model = CONTRACTS[table]
    frame = pl.DataFrame([good_row(model)], schema=polars_schema(model))
    assert conform(frame, model).equals(frame)
    model.validate(frame, lazy=True)  # pandera agrees


@pytest.mark.parametrize(("table", "column", "n"), CASES)
def test_each_broken_rule_is_refused(table, column, n):
    model = CONTRACTS[table]
    schema = polars_schema(model)
    spec = model.to_schema().columns[column]
    row = good_row(model)
    row[column] = None if n == len(spec.checks) else breaking(schema[column], spec.checks[n])
    frame = pl.DataFrame([good_row(model), row], schema=schema)
    with pytest.raises(pandera.errors.SchemaErrors):
        conform(frame, model)


def test_a_column_of_another_type_is_refused():
    model = CONTRACTS["clean_events"]
    frame = pl.DataFrame([good_row(model)], schema=polars_schema(model))
    with pytest.raises(pandera.errors.SchemaErrors):
        conform(frame.with_columns(pl.col("line_number").cast(pl.Int32)), model)


def test_nulls_pass_the_checks_of_a_nullable_column_as_in_pandera():
    model = CONTRACTS["clean_events"]  # billing_period: nullable, str_matches
    frame = pl.DataFrame([good_row(model)], schema=polars_schema(model))
    frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("billing_period"))
    assert conform(frame, model).equals(frame)
    model.validate(frame, lazy=True)
