"""SPEC §3: values are exact — parsed from their decimal text (never through binary floating
point), range-checked on the exact value, stored as Decimal(38, 9) rounded half-even, and summed
exactly. Expected values are Decimal arithmetic done in the test.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

import polars as pl
import pyarrow as pa
import pytest

from meter_pipeline.billing.usage_fold import aggregate_usage
from tests.helpers.ingestion import (
    DataRoot,
    Raw,
    clean_rows,
    counts,
    event,
    reasons,
)

D = Decimal
QUANTITY = pl.Decimal(38, 9)


def daily_usage(root: DataRoot, clean: pl.DataFrame) -> pl.DataFrame:
    """The daily_usage grouping of SPEC §8 over a day's clean events."""
    events = clean.lazy().with_columns(pl.col("event_time").dt.date().alias("usage_date"))
    return aggregate_usage(
        events,
        root.meters().meters,
        ["landing_date", "usage_date", "billing_period", "customer_id", "meter"],
    ).collect()


def test_point_one_plus_point_two_over_thousands_of_events_is_exact(tmp_path):
    n = 3000  # per file; three files, half 0.1 and half 0.2 in each
    root = DataRoot.create(tmp_path)
    root.write_jsonl(
        "a.jsonl", [event(f"j{i}", value=Raw("0.1") if i % 2 else "0.2") for i in range(n)]
    )
    root.write_csv(
        "b.csv",
        ["event_id", "customer_id", "meter", "timestamp", "value"],
        [
            [f"c{i}", "c1", "tokens", "2026-09-01T12:00:00Z", "0.1" if i % 2 else "0.2"]
            for i in range(n)
        ],
    )
    root.write_parquet(
        "c.parquet",
        pa.table(
            {
                "event_id": [f"p{i}" for i in range(n)],
                "customer_id": ["c1"] * n,
                "meter": ["tokens"] * n,
                "timestamp": ["2026-09-01T12:00:00Z"] * n,
                "value": pa.array(
                    [D("0.1") if i % 2 else D("0.2") for i in range(n)], pa.decimal128(38, 9)
                ),
            }
        ),
    )
    tables = root.ingest()
    assert counts(tables) == (3 * n, 0, 0, 3 * n)

    expected = 3 * (D("0.1") * (n // 2) + D("0.2") * (n // 2))
    assert expected == D("1350")
    floats = 0.0
    for i in range(3 * n):
        floats += 0.1 if i % 2 else 0.2
    assert floats != 1350.0  # the sum this test guards against

    assert tables.clean_events.schema["value"] == QUANTITY
    assert tables.clean_events["value"].sum() == expected
    usage = daily_usage(root, tables.clean_events)
    assert usage.schema["quantity"] == QUANTITY
    assert usage.select("meter", "event_count", "quantity").rows() == [("tokens", 3 * n, expected)]


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("1.0000000005", "1.000000000", id="1.0000000005 rounds half to even: down"),
        pytest.param("1.0000000015", "1.000000002", id="1.0000000015 rounds half to even: up"),
        pytest.param("1.0000000025", "1.000000002", id="1.0000000025 rounds half to even: down"),
        pytest.param("1.00000000250000000000001", "1.000000003", id="just above a half rounds up"),
        pytest.param(
            "1.00000000249999999999999", "1.000000002", id="just below a half rounds down"
        ),
        pytest.param("0.0000000005", "0", id="half of the last digit rounds to an even 0"),
        pytest.param("0.00000000049999999999", "0", id="below half of the last digit is 0"),
        pytest.param("2.9999999995", "3", id="a carry across every digit"),
        pytest.param("5e-10", "0", id="exponent form 5e-10 rounds to 0"),
        pytest.param("15e-10", "0.000000002", id="exponent form 15e-10 rounds to 2e-9"),
        pytest.param("2.5E-9", "0.000000002", id="exponent form 2.5E-9 rounds to even 2e-9"),
        pytest.param("3.5e-9", "0.000000004", id="exponent form 3.5e-9 rounds to even 4e-9"),
        pytest.param("1e-400", "0", id="a tiny exponent is 0, not an error"),
    ],
)
@pytest.mark.parametrize(
    "as_number", [pytest.param(False, id="string"), pytest.param(True, id="number")]
)
def test_more_than_nine_fractional_digits_round_half_even(tmp_path, text, expected, as_number):
    root = DataRoot.create(tmp_path)
    root.write_jsonl("a.jsonl", [event(value=Raw(text) if as_number else text)])
    (row,) = clean_rows(root.ingest())
    assert row["value"] == D(expected)


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("-1.0000000005", "-1.000000000", id="negative half rounds to even (down)"),
        pytest.param("-1.0000000015", "-1.000000002", id="negative half rounds to even (up)"),
        pytest.param("-0.0000000004", "0", id="a negative that rounds to 0 is stored as 0"),
    ],
)
def test_rounding_negative_values_on_an_allow_negative_meter(tmp_path, text, expected):
    root = DataRoot.create(tmp_path)
    root.write_jsonl("a.jsonl", [event(meter="credit_adjustment", value=text)])
    (row,) = clean_rows(root.ingest())
    assert row["value"] == D(expected)


@pytest.mark.parametrize(
    "token, expected",
    [
        pytest.param("12345678901234567890", "12345678901234567890", id="a 20-digit integer"),
        pytest.param("99999999999999999999", "99999999999999999999", id="the largest integer"),
        pytest.param(
            "99999999999999999999.999999999",
            "99999999999999999999.999999999",
            id="the largest value with 9 fraction digits",
        ),
        pytest.param(
            "12345678901234567890.123456789",
            "12345678901234567890.123456789",
            id="29 significant digits",
        ),
        pytest.param("1e19", "10000000000000000000", id="1e19"),
        pytest.param(
            "9.99999999999999999999e19",
            "99999999999999999999.9",
            id="a 21-digit mantissa with an exponent",
        ),
        pytest.param("1E+3", "1000", id="1E+3"),
        pytest.param("1e3", "1000", id="1e3"),
        pytest.param("1.5e-3", "0.0015", id="1.5e-3"),
        pytest.param("0.1e1", "1", id="0.1e1"),
        pytest.param("0e0", "0", id="0e0"),
        pytest.param("123456789e-9", "0.123456789", id="123456789e-9"),
        pytest.param("-0.0", "0", id="-0.0 is zero, not negative"),
    ],
)
@pytest.mark.parametrize(
    "as_number", [pytest.param(False, id="string"), pytest.param(True, id="number")]
)
def test_huge_integers_and_exponent_forms_are_exact(tmp_path, token, expected, as_number):
    root = DataRoot.create(tmp_path)
    root.write_jsonl("a.jsonl", [event(value=Raw(token) if as_number else token)])
    (row,) = clean_rows(root.ingest())
    assert row["value"] == D(expected)
    wide = decimal.Context(prec=60)
    assert str(row["value"]) == str(D(expected).quantize(D("1e-9"), context=wide))  # scale 9


def test_a_value_that_rounds_up_to_ten_to_the_twenty_is_in_range(tmp_path):
    """SPEC §3: the range is checked on the exact value (< 10^20), storage rounds after."""
    root = DataRoot.create(tmp_path)
    root.write_jsonl("a.jsonl", [event(value="99999999999999999999.9999999995")])
    tables = root.ingest()
    assert reasons(tables) == []
    (row,) = clean_rows(tables)
    assert row["value"] == D("100000000000000000000")


def test_huge_values_sum_exactly(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_jsonl(
        "a.jsonl",
        [event(f"e{i}", value="33333333333333333333.333333333") for i in range(3)]
        + [
            event("neg", meter="credit_adjustment", value="-99999999999999999999.999999999"),
            event("pos", meter="credit_adjustment", value="0.000000001"),
        ],
    )
    tables = root.ingest()
    usage = {
        r[0]: r[1:]
        for r in daily_usage(root, tables.clean_events)
        .select("meter", "event_count", "quantity")
        .rows()
    }
    assert usage == {
        "tokens": (3, D("99999999999999999999.999999999")),
        "credit_adjustment": (2, D("-99999999999999999999.999999998")),
    }


def test_values_are_never_read_through_floating_point(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_jsonl(
        "a.jsonl",
        [
            event("a", value=Raw("9007199254740993")),  # 2^53 + 1: a float64 reads ...992
            event("b", value=Raw("12345678901.123456789")),  # float64 keeps ~17 digits
            event("c", meter="storage_gb", value="0.3"),
        ],
    )
    rows = {r["event_id"]: r["value"] for r in clean_rows(root.ingest())}
    assert rows == {"a": D("9007199254740993"), "b": D("12345678901.123456789"), "c": D("0.3")}
