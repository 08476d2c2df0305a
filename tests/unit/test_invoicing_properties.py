"""Invoice properties (hypothesis): totals are sums of their rounded lines and never negative."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meter_pipeline.billing.invoices import amounts_off_minor_unit
from tests.helpers.billing import (
    METERS,
    build_invoices,
    charge,
    event,
    events_frame,
    plan,
    pricing,
    sub,
    tiers,
)

CENTS = st.integers(min_value=0, max_value=10**7).map(lambda n: Decimal(n).scaleb(-2))
PRICE = st.integers(min_value=0, max_value=10**6).map(lambda n: Decimal(n).scaleb(-5))


@st.composite
def months(draw):
    """A customer base of 1–3 customers, each with one or two subscriptions around November,
    some usage, a price book in USD or JPY, and credits that never exceed what is owed."""
    currency, minor = draw(st.sampled_from([("USD", 2), ("JPY", 0), ("KWD", 3)]))
    book = plan(
        "p",
        charge("api", "api_calls", "per_unit", unit_price=str(draw(PRICE))),
        charge(
            "tok",
            "llm_tokens",
            "graduated",
            tiers=tiers(
                ("10", str(draw(PRICE)), str(draw(CENTS))),
                (None, str(draw(PRICE)), str(draw(CENTS))),
            ),
        ),
        charge(
            "st",
            "storage_gb",
            "volume",
            free_units="1",
            tiers=tiers(("5", str(draw(PRICE)), "0"), (None, str(draw(PRICE)), "9")),
        ),
        currency=currency,
        minor_units=minor,
        fees={"cloud_meter": str(draw(CENTS)), "billing_meter": str(draw(CENTS))},
        minimum=draw(st.none() | CENTS.map(str)),
    )
    subs, rows = [], []
    for customer in draw(st.lists(st.sampled_from("abc"), min_size=1, max_size=3, unique=True)):
        start = dt.date(2026, 10, 1) + dt.timedelta(days=draw(st.integers(0, 59)))
        change = draw(st.none() | st.integers(0, 20))
        if change is None:
            subs.append(sub(customer, "p", start.isoformat()))
        else:
            switch = start + dt.timedelta(days=change)
            subs += [
                sub(customer, "p", start.isoformat(), switch.isoformat()),
                sub(customer, "p", (switch + dt.timedelta(days=1)).isoformat()),
            ]
        for day in draw(st.lists(st.integers(1, 30), max_size=6)):
            rows.append(event(customer, "api_calls", f"2026-11-{day:02d}"))
            rows.append(
                event(customer, "llm_tokens", f"2026-11-{day:02d}", str(day), {"model": "m"})
            )
            rows.append(event(customer, "storage_gb", f"2026-11-{day:02d}", f"{day}.5"))
    shares = draw(st.lists(st.integers(0, 100), min_size=3, max_size=3))
    return (
        pricing(book, rounding=draw(st.sampled_from(["half_up", "half_even"]))),
        subs,
        rows,
        shares,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(months())
def test_invoice_totals_equal_their_lines_and_are_never_negative(month):
    config, subs, rows, shares = month
    lines, invoices = build_invoices("2026-11", events_frame(rows), config, subs, METERS)
    # Credits of up to 100% of each invoice's subtotal, split over two services.
    owed = dict(invoices.select("customer_id", "subtotal").iter_rows())
    minor = config.plans["p"].minor_units
    credits = []
    for (customer, subtotal), share in zip(
        owed.items(), shares, strict=False
    ):  # shares may run longer
        first = (subtotal * share / 100).quantize(Decimal(1).scaleb(-minor), "ROUND_FLOOR")
        credits += [
            (customer, "cloud_meter", "2026-10", -first),
            (customer, "billing_meter", "2026-09", -(subtotal - first) * share // 100),
        ]
    credit_frame = (
        pl.DataFrame(
            credits,
            orient="row",
            schema={
                "customer_id": pl.String,
                "service": pl.String,
                "earned_period": pl.String,
                "amount": pl.Decimal(38, 4),
            },
        )
        if credits
        else None
    )
    lines, invoices = build_invoices(
        "2026-11", events_frame(rows), config, subs, METERS, credit_frame
    )

    for customer_id, subtotal, credit, total, count in invoices.select(
        "customer_id", "subtotal", "credits", "total", "line_count"
    ).iter_rows():
        mine = lines.filter(pl.col("customer_id") == customer_id)
        amounts = mine["amount"].to_list()
        assert total == sum(amounts, Decimal(0)) == subtotal + credit
        assert total >= 0 and credit <= 0 and count == len(amounts)
        assert mine["line_no"].to_list() == list(range(1, count + 1))
    assert amounts_off_minor_unit(lines).height == 0
    november = dt.date(2026, 11, 1)
    covered = {s.customer_id for s in subs if s.end_date is None or s.end_date >= november}
    started = {s.customer_id for s in subs if s.start_date <= dt.date(2026, 11, 30)}
    assert set(invoices["customer_id"]) == covered & started
