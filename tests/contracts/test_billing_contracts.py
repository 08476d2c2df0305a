"""Billing contracts: a good frame passes, each bad frame fails with the expected check."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pandera.errors
import polars as pl
import pytest

from data_contracts.base import conform, descriptions, polars_schema
from data_contracts.billing import TABLES, InvoiceLines, Invoices, PeriodUsage, UnbilledUsage

NOV = "2026-11"


def frame(model, rows):
    return pl.DataFrame(rows, schema=polars_schema(model), orient="row")


GOOD_LINES = [
    (
        NOV,
        "2026-11-acme",
        "acme",
        1,
        "platform_fee",
        "p",
        dt.date(2026, 1, 1),
        None,
        "cloud_meter",
        None,
        None,
        None,
        None,
        None,
        None,
        30,
        D("300.00"),
        "USD",
        None,
        None,
    ),
    (
        NOV,
        "2026-11-acme",
        "acme",
        2,
        "usage",
        "p",
        dt.date(2026, 1, 1),
        "api",
        None,
        "api_calls",
        D("500"),
        D("1000"),
        D("0.002"),
        1500,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        None,
        D("1.00"),
        "USD",
        None,
        None,
    ),
    (
        NOV,
        "2026-11-acme",
        "acme",
        3,
        "sla_credit",
        None,
        None,
        None,
        "cloud_meter",
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        D("-15.00"),
        "USD",
        "2026-10",
        None,
    ),
]
GOOD_INVOICE = [
    (NOV, "2026-11-acme", "acme", "USD", D("301.00"), D("-15.00"), D("286.00"), 3, "invoice")
]


@pytest.mark.parametrize("table", sorted(TABLES))
def test_billing_period_is_the_first_column_and_every_column_is_described(table):
    model = TABLES[table]
    assert list(polars_schema(model))[0] == "billing_period"
    assert all(descriptions(model).values())
    assert model.__doc__ and "Grain" in model.__doc__


def test_money_and_quantities_are_exact_decimals():
    schema = polars_schema(InvoiceLines)
    assert schema["amount"] == pl.Decimal(38, 4)
    assert schema["quantity"] == schema["unit_price"] == pl.Decimal(38, 9)
    assert polars_schema(Invoices)["total"] == pl.Decimal(38, 4)


def test_good_frames_pass():
    conform(frame(InvoiceLines, GOOD_LINES), InvoiceLines)
    conform(frame(Invoices, GOOD_INVOICE), Invoices)
    conform(frame(PeriodUsage, [(NOV, "acme", "api_calls", D(3), 3, 1)]), PeriodUsage)
    conform(
        frame(UnbilledUsage, [(NOV, "x", "api_calls", "no_subscription", 1, D(1))]), UnbilledUsage
    )


def replace(rows, index, **changes):
    names = list(polars_schema(InvoiceLines))
    row = list(rows[index])
    for name, value in changes.items():
        row[names.index(name)] = value
    return [*rows[:index], tuple(row), *rows[index + 1 :]]


@pytest.mark.parametrize(
    "rows, check",
    [
        pytest.param(
            replace(GOOD_LINES, 0, kind="discount"), "isin", id="an unknown line kind fails"
        ),
        pytest.param(
            replace(GOOD_LINES, 2, amount=D("15.00")),
            "credits_negative_others_not",
            id="a positive credit line fails",
        ),
        pytest.param(
            replace(GOOD_LINES, 1, amount=D("-1.00")),
            "credits_negative_others_not",
            id="a negative usage line fails",
        ),
        pytest.param(
            replace(GOOD_LINES, 0, quantity=D(1), free_quantity=D(0)),
            "quantity_only_on_usage",
            id="a quantity on a platform fee line fails",
        ),
        pytest.param(
            replace(GOOD_LINES, 1, quantity=None),
            "quantity_only_on_usage",
            id="a usage line without quantity fails",
        ),
        pytest.param(
            replace(GOOD_LINES, 0, line_no=0),
            "greater_than_or_equal_to",
            id="line numbers start at 1",
        ),
        pytest.param(
            replace(GOOD_LINES, 0, billing_period="2026-11-01"),
            "str_matches",
            id="a billing period that is not YYYY-MM fails",
        ),
    ],
)
def test_bad_invoice_lines_fail(rows, check):
    with pytest.raises(pandera.errors.SchemaErrors, match=check):
        conform(frame(InvoiceLines, rows), InvoiceLines)


@pytest.mark.parametrize(
    "row, check",
    [
        pytest.param(
            (NOV, "i", "c", "USD", D("1"), D("-2"), D("-1"), 1, "invoice"),
            "credit_note_when_negative",
            id="a negative total is a credit note",
        ),
        pytest.param(
            (NOV, "i", "c", "USD", D("3"), D("1"), D("4"), 1, "invoice"),
            "less_than_or_equal_to",
            id="positive credits fail",
        ),
        pytest.param(
            (NOV, "i", "c", "USD", D("3"), D("-1"), D("3"), 1, "invoice"),
            "total_is_subtotal_plus_credits",
            id="a total that is not subtotal + credits fails",
        ),
    ],
)
def test_bad_invoices_fail(row, check):
    with pytest.raises(pandera.errors.SchemaErrors, match=check):
        conform(frame(Invoices, [row]), Invoices)


def test_adjustment_lines_of_either_sign_and_a_credit_note_pass():
    lines = replace(GOOD_LINES, 1, kind="adjustment", amount=D("-7.00"), adjusts="usage")
    lines = replace(lines, 1, quantity=None, free_quantity=None, earned_period="2026-09")
    conform(frame(InvoiceLines, lines), InvoiceLines)
    note = (NOV, "i", "c", "USD", D("-5"), D("0"), D("-5"), 1, "credit_note")
    conform(frame(Invoices, [note]), Invoices)
    with pytest.raises(pandera.errors.SchemaErrors, match="credit_note_when_negative"):
        conform(frame(Invoices, [(*note[:8], "invoice")]), Invoices)


def test_a_float_amount_breaks_the_invoice_lines_contract():
    lines = frame(InvoiceLines, GOOD_LINES).with_columns(pl.col("amount").cast(pl.Float64))
    with pytest.raises(pandera.errors.SchemaErrors, match="amount"):
        conform(lines, InvoiceLines)


def test_an_unknown_unbilled_reason_fails():
    bad = frame(UnbilledUsage, [(NOV, "x", "api_calls", "forgot", 1, D(1))])
    with pytest.raises(pandera.errors.SchemaErrors, match="isin"):
        conform(bad, UnbilledUsage)
