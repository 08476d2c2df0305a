"""period_usage, unbilled_usage and the split of a period's events (SPEC §5, §6.5, §12 Billing)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from data_contracts import conform
from data_contracts.billing import PeriodUsage, UnbilledUsage
from meter_pipeline.billing.period_usage import (
    split_period_events,
)
from tests.helpers.billing import (
    METERS,
    build_period_usage,
    build_unbilled_usage,
    event,
    events_frame,
    sub,
)

NOV = "2026-11"


def test_period_usage_aggregates_every_meter_over_the_whole_month_whatever_the_plan():
    rows = [
        event("acme", "api_calls", "2026-11-01T00:00"),
        event("acme", "api_calls", "2026-11-30T23:59"),
        event("acme", "api_calls", "2026-10-31", period=NOV, late=True, landing="2026-11-04"),
        event("acme", "llm_tokens", "2026-11-03", "1.5", {"model": "a"}),
        event("acme", "llm_tokens", "2026-11-20", "0.000000001", {"model": "b"}),
        event("acme", "storage_gb", "2026-11-03", "7"),
        event("acme", "storage_gb", "2026-11-04", "5"),
        event("acme", "seats", "2026-11-05T10:00", "3"),
        event("acme", "seats", "2026-11-25T10:00", "2"),  # the latest event time wins
        event("acme", "active_users", "2026-11-05", dims={"user_id": "u1"}),
        event("acme", "active_users", "2026-11-06", dims={"user_id": "u2"}),
        event("acme", "active_users", "2026-11-07", dims={"user_id": "u1"}),
        event("ghost", "api_calls", "2026-11-09"),  # no subscription: still counted
    ]
    usage = build_period_usage(events_frame(rows), METERS, NOV)
    conform(usage, PeriodUsage)
    assert usage.rows() == [
        (NOV, "acme", "active_users", D(2), 3, 0),  # u1, u2
        (NOV, "acme", "api_calls", D(3), 3, 1),  # two on time, one late
        (NOV, "acme", "llm_tokens", D("1.500000001"), 2, 0),
        (NOV, "acme", "seats", D(2), 2, 0),
        (NOV, "acme", "storage_gb", D(7), 2, 0),
        (NOV, "ghost", "api_calls", D(1), 1, 0),
    ]


def test_split_period_events_separates_billed_and_late_ignored_by_landing_day():
    rows = [
        event("a", "api_calls", "2026-11-02"),  # billed in Nov
        event("a", "api_calls", "2026-10-30", period=NOV, late=True, landing="2026-11-05"),
        # ignored: Oct 30 landed Nov 5 → would have been billed in Nov (Nov 5 − 3 days = Nov 2)
        event("a", "api_calls", "2026-10-30", period=None, late=True, landing="2026-11-05"),
        # ignored but landed Dec 2: still November's (its last landing day is Dec 3)
        event("a", "api_calls", "2026-10-15", period=None, late=True, landing="2026-12-03"),
        # ignored and landed Dec 4: December's business, not November's
        event("a", "api_calls", "2026-10-15", period=None, late=True, landing="2026-12-04"),
        event("a", "api_calls", "2026-12-01", landing="2026-12-01"),  # December's
    ]
    billed, ignored = split_period_events(events_frame(rows), NOV, grace_days=3)
    assert billed.collect()["event_id"].to_list() == [rows[0]["event_id"], rows[1]["event_id"]]
    assert ignored.collect()["event_id"].to_list() == [rows[2]["event_id"], rows[3]["event_id"]]


@pytest.mark.parametrize(
    "subs, expected",
    [
        pytest.param(
            [],
            [
                ("acme", "api_calls", "no_subscription", 3, D(3)),
                ("acme", "llm_tokens", "late_ignored", 1, D(4)),
                ("acme", "llm_tokens", "no_subscription", 1, D(6)),
            ],
            id="a customer without any subscription: all unbilled",
        ),
        pytest.param(
            [sub("acme", "p", "2026-11-10", "2026-11-19")],
            [
                ("acme", "api_calls", "no_subscription", 2, D(2)),
                ("acme", "llm_tokens", "late_ignored", 1, D(4)),
            ],
            id="usage before the start and after the end of a subscription is unbilled",
        ),
        pytest.param(
            [sub("acme", "p", "2026-01-01")],
            [("acme", "llm_tokens", "late_ignored", 1, D(4))],
            id="late_ignored events are reported even when a subscription covers them",
        ),
    ],
)
def test_unbilled_usage(subs, expected):
    billed = [
        event("acme", "api_calls", "2026-11-09T23:59"),
        event("acme", "api_calls", "2026-11-10T00:00"),
        event("acme", "api_calls", "2026-11-20T00:00"),
        event("acme", "llm_tokens", "2026-11-15", "6", {"model": "a"}),
    ]
    ignored = [
        event(
            "acme",
            "llm_tokens",
            "2026-10-20",
            "4",
            {"model": "a"},
            period=None,
            late=True,
            landing="2026-11-05",
        )
    ]
    unbilled = build_unbilled_usage(events_frame(billed), events_frame(ignored), subs, METERS, NOV)
    conform(unbilled, UnbilledUsage)
    assert unbilled.drop("billing_period").rows() == expected


def test_empty_inputs_give_empty_tables_with_their_contract_schemas():
    empty = events_frame([])
    usage = build_period_usage(empty, METERS, NOV)
    unbilled = build_unbilled_usage(empty, empty, [], METERS, NOV)
    assert usage.height == unbilled.height == 0
    assert conform(usage, PeriodUsage).schema == usage.schema
    assert conform(unbilled, UnbilledUsage).schema == unbilled.schema
