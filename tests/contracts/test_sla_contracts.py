"""Contracts of the SLA tables: frames the pure logic produces pass; each bad frame fails with
the check that guards it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandera.errors
import polars as pl
import pytest

from data_contracts.base import conform, descriptions, polars_schema
from data_contracts.sla import (
    PARTITION_COLUMN,
    TABLES,
    ProbeMinutes,
    ProbeResults,
    SlaCreditLedger,
    SlaCredits,
    Uptime,
)
from meter_pipeline.config.sla import SlaConfig, SlaPolicy
from meter_pipeline.sla.credits import sla_credits
from meter_pipeline.sla.excused import excused_intervals
from meter_pipeline.sla.ledger import credit_ledger, empty_ledger
from meter_pipeline.sla.probes import RAW_PROBE_SCHEMA, month_probe_minutes, probe_day
from meter_pipeline.sla.uptime import compute_uptime

UTC = dt.UTC
POLICY = SlaPolicy(services=("billing_meter", "cloud_meter"))
CONFIG = SlaConfig(POLICY)


def _frames() -> dict[str, pl.DataFrame]:
    start = dt.datetime(2026, 11, 1, tzinfo=UTC)
    raw = pl.DataFrame(
        [("cloud_meter", "eu", start + dt.timedelta(minutes=i), "down") for i in range(2204)],
        schema=RAW_PROBE_SCHEMA,
        orient="row",
    )
    results, minutes, _ = probe_day(raw, POLICY.services, dt.date(2026, 11, 2))
    uptime = compute_uptime(
        "2026-11", month_probe_minutes(results, "2026-11"), POLICY, excused_intervals(CONFIG)
    )
    lines = pl.DataFrame(
        [("acme", "platform_fee", "cloud_meter", Decimal("300"), "USD")],
        schema={
            "customer_id": pl.String,
            "kind": pl.String,
            "service": pl.String,
            "amount": pl.Decimal(38, 4),
            "currency": pl.String,
        },
        orient="row",
    )
    credits = sla_credits(
        "2026-11", uptime, lines, empty_ledger(), CONFIG, 3, {"USD": 2}, "half_up"
    )
    ledger, _ = credit_ledger("2026-11", empty_ledger(), credits, lines, {"acme": None})
    return {
        "probe_results": results,
        "probe_minutes": minutes,
        "uptime": uptime,
        "sla_credits": credits,
        "sla_credit_ledger": ledger,
    }


FRAMES = _frames()


@pytest.mark.parametrize("table", sorted(TABLES))
def test_frames_from_the_pure_logic_pass_their_contract(table):
    frame = FRAMES[table]
    assert frame.height > 0
    assert frame.schema == polars_schema(TABLES[table])
    conform(frame, TABLES[table])


def test_the_worked_frames_hold_the_expected_figures():
    up = FRAMES["uptime"].filter(pl.col("service") == "cloud_meter").row(0, named=True)
    assert (up["down_minutes"], up["uptime_pct"], up["met"]) == (2204, Decimal("94.8981"), False)
    credit = FRAMES["sla_credits"].filter(pl.col("service") == "cloud_meter").row(0, named=True)
    assert (credit["credit_pct"], credit["credit_amount"], credit["status"]) == (
        Decimal("5"),
        Decimal("15"),
        "granted",
    )
    assert FRAMES["sla_credit_ledger"].select("opening", "carried").row(0) == (
        Decimal(15),
        Decimal(15),
    )


@pytest.mark.parametrize("table", sorted(TABLES))
def test_partition_column_first_and_every_column_described(table):
    model = TABLES[table]
    assert list(polars_schema(model))[0] == PARTITION_COLUMN[table]
    assert all(descriptions(model).values())
    assert "Grain" in (model.__doc__ or "")


def _set(column: str, value, dtype=None):
    def mutate(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(pl.lit(value, dtype=dtype or frame.schema[column]).alias(column))

    return mutate


BAD = [
    ("probe_minutes", _set("status", "maybe"), "isin", "status other than up/down"),
    ("probe_minutes", _set("probes", 0), "greater_than_or_equal_to(1)", "a minute without probes"),
    ("probe_minutes", _set("down_probes", 99), "down_within_probes", "more down than probes"),
    (
        "probe_minutes",
        lambda f: f.with_columns(pl.col("minute").dt.replace_time_zone(None)),
        "Datetime",
        "minute without a time zone",
    ),
    ("probe_results", lambda f: f.with_columns(extra=pl.lit(1)), "extra", "an undeclared column"),
    ("uptime", _set("minutes", 1000), "isin", "minutes not a calendar month's"),
    ("uptime", _set("excused_minutes", 3000), "minutes_consistent", "more excused than down"),
    (
        "uptime",
        _set("uptime_pct", Decimal("100.0001")),
        "less_than_or_equal_to(100)",
        "uptime above 100",
    ),
    (
        "uptime",
        lambda f: f.with_columns(pl.col("uptime_pct").cast(pl.Decimal(38, 4))),
        "Decimal(precision=9, scale=4)",
        "percentage with the wrong precision",
    ),
    (
        "sla_credits",
        _set("credit_amount", Decimal("300.01")),
        "credit_within_fee",
        "credit above its fee base",
    ),
    ("sla_credits", _set("status", "paid"), "isin", "unknown status"),
    ("sla_credits", _set("billing_period", "2026-13"), "str_matches", "month 13"),
    ("sla_credit_ledger", _set("applied", Decimal("1")), "row_balances", "unbalanced row"),
    (
        "sla_credit_ledger",
        lambda f: f.with_columns(pl.col("carried").cast(pl.Float64)),
        "Float64",
        "money as a float",
    ),
    (
        "sla_credit_ledger",
        _set("forfeited", Decimal("-1")),
        "greater_than_or_equal_to(0)",
        "negative forfeit",
    ),
]


@pytest.mark.parametrize(
    "table, mutate, check", [pytest.param(t, m, c, id=f"{t}: {i}") for t, m, c, i in BAD]
)
def test_bad_frames_fail_with_the_expected_check(table, mutate, check):
    frame = mutate(FRAMES[table])
    with pytest.raises(pandera.errors.SchemaErrors) as err:
        TABLES[table].validate(frame, lazy=True)
    assert check in str(err.value)


def test_models_are_the_tables_of_spec_section_8():
    assert TABLES == {
        "probe_results": ProbeResults,
        "probe_minutes": ProbeMinutes,
        "uptime": Uptime,
        "sla_credits": SlaCredits,
        "sla_credit_ledger": SlaCreditLedger,
    }
