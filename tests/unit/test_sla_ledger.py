"""The SLA credit ledger and the sla_credit lines (SPEC §7.4, §12 "SLA")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meter_pipeline.calendar import next_period
from meter_pipeline.sla.credits import CREDIT_SCHEMA
from meter_pipeline.sla.ledger import (
    CREDIT_LINE_SCHEMA,
    LEDGER_SCHEMA,
    credit_ledger,
    empty_ledger,
    invoice_subtotals,
    ledger_problems,
    subscription_ends,
)
from tests.helpers.billing import life_imbalances

D = Decimal
OPEN = None


def credit(
    period: str,
    customer: str,
    service: str,
    amount: str,
    status: str = "granted",
    earned: str | None = None,
) -> tuple:
    return (
        period,
        customer,
        service,
        earned or period,
        "USD",
        D("94.8981"),
        D(5),
        D(300),
        D(amount),
        status,
    )


def credits(*rows: tuple) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=CREDIT_SCHEMA, orient="row")


def invoices(**subtotals: str) -> pl.DataFrame:
    """One usage line per customer holding its subtotal."""
    return pl.DataFrame(
        [(c, "usage", D(a)) for c, a in subtotals.items()],
        schema={"customer_id": pl.String, "kind": pl.String, "amount": pl.Decimal(38, 4)},
        orient="row",
    )


def run(
    periods: list[tuple[str, pl.DataFrame, pl.DataFrame]], ends: dict
) -> list[tuple[pl.DataFrame, pl.DataFrame]]:
    """Chain credit_ledger over consecutive periods, checking every partition balances."""
    previous, out = empty_ledger(), []
    for period, period_credits, period_invoices in periods:
        ledger, lines = credit_ledger(period, previous, period_credits, period_invoices, ends)
        assert ledger_problems(ledger, previous) == []
        out.append((ledger, lines))
        previous = ledger
    history = pl.concat([ledger for ledger, _ in out])
    assert life_imbalances(history).height == 0
    return out


def figures(ledger: pl.DataFrame) -> list[tuple]:
    return ledger.select(
        "customer_id", "service", "earned_period", "opening", "applied", "carried", "forfeited"
    ).rows()


def test_a_credit_larger_than_the_next_invoice_is_carried_twice_then_forfeited():
    ends = {"acme": dt.date(2027, 2, 15)}
    (nov, _), (dec, dec_lines), (jan, jan_lines), (feb, feb_lines) = run(
        [
            (
                "2026-11",
                credits(credit("2026-11", "acme", "cloud_meter", "150.00")),
                invoices(acme="500.00"),
            ),
            ("2026-12", credits(), invoices(acme="60.00")),
            ("2027-01", credits(), invoices(acme="40.00")),
            ("2027-02", credits(), invoices(acme="30.00")),
        ],
        ends,
    )
    key = ("acme", "cloud_meter", "2026-11")
    assert figures(nov) == [(*key, D(150), D(0), D(150), D(0))]  # never on its own invoice
    assert figures(dec) == [(*key, D(150), D(60), D(90), D(0))]
    assert figures(jan) == [(*key, D(90), D(40), D(50), D(0))]
    assert figures(feb) == [(*key, D(50), D(30), D(0), D(20))]  # no subscription after Feb
    assert [f.get_column("amount").to_list() for f in (dec_lines, jan_lines, feb_lines)] == [
        [D(-60)],
        [D(-40)],
        [D(-30)],
    ]
    assert dec_lines.schema == CREDIT_LINE_SCHEMA
    assert dec.get_column("amount").to_list() == [D(150)]


def test_credits_apply_oldest_earned_period_first_then_by_service():
    ends = {"acme": OPEN}
    _, (nov, nov_lines), (dec, dec_lines) = run(
        [
            (
                "2026-10",
                credits(credit("2026-10", "acme", "cloud_meter", "10.00")),
                invoices(acme="100.00"),
            ),
            (
                "2026-11",
                credits(
                    credit("2026-11", "acme", "cloud_meter", "30.00"),
                    credit("2026-11", "acme", "billing_meter", "20.00"),
                ),
                invoices(acme="0.00"),
            ),  # a zero invoice takes nothing
            ("2026-12", credits(), invoices(acme="45.00")),
        ],
        ends,
    )
    assert nov_lines.height == 0
    assert figures(dec) == [
        ("acme", "cloud_meter", "2026-10", D(10), D(10), D(0), D(0)),
        ("acme", "billing_meter", "2026-11", D(20), D(20), D(0), D(0)),
        ("acme", "cloud_meter", "2026-11", D(30), D(15), D(15), D(0)),
    ]
    assert dec_lines.rows() == [
        ("acme", "cloud_meter", "2026-10", "USD", D(-10)),
        ("acme", "billing_meter", "2026-11", "USD", D(-20)),
        ("acme", "cloud_meter", "2026-11", "USD", D(-15)),
    ]


def test_a_customer_that_leaves_in_the_earned_period_forfeits_it_there():
    ((nov, lines),) = run(
        [
            (
                "2026-11",
                credits(credit("2026-11", "gone", "cloud_meter", "15")),
                invoices(gone="300"),
            )
        ],
        {"gone": dt.date(2026, 11, 20)},
    )
    assert figures(nov) == [("gone", "cloud_meter", "2026-11", D(15), D(0), D(0), D(15))]


def test_a_gap_between_subscriptions_carries_the_credit_to_the_next_invoice():
    ends = subscription_ends(
        [
            type("Sub", (), {"customer_id": "acme", "end_date": d})()
            for d in (dt.date(2026, 11, 30), OPEN)
        ]
    )
    assert ends == {"acme": OPEN}
    _, (dec, _), (jan, jan_lines) = run(
        [
            (
                "2026-11",
                credits(credit("2026-11", "acme", "cloud_meter", "15")),
                invoices(acme="1"),
            ),
            ("2026-12", credits(), invoices()),  # not invoiced in December
            ("2027-01", credits(), invoices(acme="100")),
        ],
        ends,
    )
    assert figures(dec) == [("acme", "cloud_meter", "2026-11", D(15), D(0), D(15), D(0))]
    assert jan_lines.get_column("amount").to_list() == [D(-15)]


def test_claim_required_credits_wait_pending_then_apply_or_are_forfeited():
    ends = {"acme": OPEN, "beta": OPEN, "gone": dt.date(2026, 11, 20)}
    (nov, _), (dec, dec_lines) = run(
        [
            (
                "2026-11",
                credits(
                    credit("2026-11", "acme", "cloud_meter", "15", "pending"),
                    credit("2026-11", "beta", "cloud_meter", "5", "pending"),
                    credit("2026-11", "gone", "cloud_meter", "7", "pending"),
                    credit("2026-11", "acme", "billing_meter", "0", "none"),
                ),
                invoices(acme="300", beta="100", gone="50"),
            ),
            (
                "2026-12",
                credits(
                    credit("2026-12", "acme", "cloud_meter", "15", "granted", "2026-11"),
                    credit("2026-12", "beta", "cloud_meter", "5", "unclaimed", "2026-11"),
                    credit("2026-12", "gone", "cloud_meter", "7", "granted", "2026-11"),
                ),
                invoices(acme="300", beta="100"),
            ),
        ],
        ends,
    )
    # Pending credits are ledger rows of their period, carried — even for a customer who left.
    assert figures(nov) == [
        ("acme", "cloud_meter", "2026-11", D(15), D(0), D(15), D(0)),
        ("beta", "cloud_meter", "2026-11", D(5), D(0), D(5), D(0)),
        ("gone", "cloud_meter", "2026-11", D(7), D(0), D(7), D(0)),
    ]
    assert nov.get_column("status").to_list() == ["pending"] * 3
    assert figures(dec) == [
        ("acme", "cloud_meter", "2026-11", D(15), D(15), D(0), D(0)),  # granted: applied
        ("beta", "cloud_meter", "2026-11", D(5), D(0), D(0), D(5)),  # unclaimed: forfeited
        ("gone", "cloud_meter", "2026-11", D(7), D(0), D(0), D(7)),
    ]  # left: forfeited
    assert dec.get_column("status").to_list() == ["granted", "unclaimed", "granted"]
    assert dec_lines.select("customer_id", "amount").rows() == [("acme", D(-15))]


def test_a_resolution_without_a_pending_credit_is_refused():
    with pytest.raises(ValueError, match="not pending in the previous ledger"):
        credit_ledger(
            "2026-12",
            empty_ledger(),
            credits(credit("2026-12", "acme", "cloud_meter", "1", "granted", "2026-11")),
            invoices(),
            {},
        )


def test_the_previous_ledger_must_be_the_month_before():
    ((nov, _),) = run(
        [("2026-11", credits(credit("2026-11", "a", "cloud_meter", "1")), invoices(a="1"))],
        {"a": OPEN},
    )
    with pytest.raises(ValueError, match="must be 2026-12's"):
        credit_ledger("2027-01", nov, credits(), invoices(), {"a": OPEN})


def test_ledger_problems_finds_rows_that_do_not_balance_and_broken_carries():
    ends = {"acme": OPEN}
    (nov, _), (dec, _) = run(
        [
            (
                "2026-11",
                credits(credit("2026-11", "acme", "cloud_meter", "150")),
                invoices(acme="1"),
            ),
            ("2026-12", credits(), invoices(acme="60")),
        ],
        ends,
    )
    tampered = dec.with_columns(applied=pl.col("applied") + D(1))
    assert ledger_problems(tampered, nov) == [
        "acme/cloud_meter/2026-11: opening 150.0000 ≠ applied 61.0000 + carried 90.0000 + "
        "forfeited 0.0000"
    ]
    assert ledger_problems(dec.clear(), nov) == [
        "acme/cloud_meter/2026-11: carried in 150.0000, opened with None"
    ]
    assert life_imbalances(pl.concat([nov, tampered])).height == 1


def test_invoice_subtotals_ignore_credit_lines():
    frame = pl.concat(
        [
            invoices(a="10", b="5"),
            pl.DataFrame([("a", "sla_credit", D("-3"))], schema=invoices().schema, orient="row"),
        ]
    )
    assert invoice_subtotals(frame) == {"a": D(10), "b": D(5)}


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5000), st.integers(0, 5000), st.integers(0, 3000)),
        min_size=1,
        max_size=8,
    ),
    st.one_of(st.none(), st.integers(0, 9)),
)
def test_the_ledger_always_balances_and_never_makes_an_invoice_negative(months, leaves_after):
    period, ends = "2026-01", {"acme": OPEN}
    if leaves_after is not None:
        ends["acme"] = dt.date(2026, 1, 1) + dt.timedelta(days=31 * leaves_after)
    previous, earned_total, settled = empty_ledger(), D(0), D(0)
    for cloud, billing, subtotal in months:
        earned = [
            credit(period, "acme", s, str(D(c).scaleb(-2)))
            for s, c in (("cloud_meter", cloud), ("billing_meter", billing))
            if c
        ]
        ledger, lines = credit_ledger(
            period, previous, credits(*earned), invoices(acme=str(D(subtotal).scaleb(-2))), ends
        )
        assert ledger_problems(ledger, previous) == []
        assert sum(lines.get_column("amount").to_list(), D(0)) >= -D(subtotal).scaleb(-2)
        assert all(a < 0 for a in lines.get_column("amount").to_list())
        earned_total += sum((D(c).scaleb(-2) for c in (cloud, billing)), D(0))
        settled += sum(
            ledger.get_column("applied").to_list() + ledger.get_column("forfeited").to_list(), D(0)
        )
        previous, period = ledger, next_period(period)
    assert earned_total == settled + sum(previous.get_column("carried").to_list(), D(0))
    assert ledger.schema == LEDGER_SCHEMA
