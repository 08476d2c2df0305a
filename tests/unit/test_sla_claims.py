"""Claims that match no credit are loaded, ignored and counted, never a configuration error
(docs/rules.md, "SLA claims")."""

from __future__ import annotations

import datetime as dt

import polars as pl

from meter_pipeline.config.sla import SlaClaim, load_sla
from meter_pipeline.sla.claims import describe, unmatched_claims
from tests.unit.test_sla_config import write_root

HEAD = "customer_id,service,billing_period,submitted_at\n"
AT = dt.datetime(2026, 11, 5, tzinfo=dt.UTC)


def test_a_claim_for_a_service_not_in_sla_yaml_loads(tmp_path):
    text = HEAD + "acme,*,2026-11,2026-12-01T00:00:00Z\nacme,no_such,2026-11,2026-12-01T00:00:00Z\n"
    config = load_sla(write_root(tmp_path, sla_claims=text))
    assert [(c.line, c.service) for c in config.claims] == [(2, "*"), (3, "no_such")]


def credits(rows):
    """The columns of sla_credits that matching reads: (customer, service, earned_period)."""
    return pl.DataFrame(
        rows, schema=["customer_id", "service", "earned_period", "status"], orient="row"
    )


def test_only_claims_of_the_period_with_no_earned_row_are_unmatched():
    month = credits(
        [
            ("acme", "cloud_meter", "2026-11", "granted"),
            ("acme", "billing_meter", "2026-11", "none"),
            # resolved here, earned in October: not a credit earned in November
            ("bigco", "cloud_meter", "2026-10", "granted"),
        ]
    )
    claims = [
        SlaClaim(1, "acme", "cloud_meter", "2026-11", AT),  # matches a granted credit
        SlaClaim(2, "acme", "billing_meter", "2026-11", AT),  # matches a row with status none
        SlaClaim(3, "acme", "no_such", "2026-11", AT),  # service not in sla.yaml
        SlaClaim(4, "nobody", "cloud_meter", "2026-11", AT),  # customer without an invoice
        SlaClaim(5, "bigco", "cloud_meter", "2026-11", AT),  # bigco earned nothing in November
        SlaClaim(6, "acme", "no_such", "2026-10", AT),  # another month: judged by its own close
    ]
    assert [c.line for c in unmatched_claims("2026-11", month, claims)] == [3, 4, 5]
    assert unmatched_claims("2026-12", month.clear(), claims) == []
    assert describe(claims[2]) == "sla_claims.csv line 3 (acme, no_such, 2026-11)"
