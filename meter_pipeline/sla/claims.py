"""Claims that match no credit (docs/rules.md#sla-claims). Pure.

A row of ``sla_claims.csv`` matches a credit when the ``sla_credits`` earned in its
``billing_period`` have a row for its customer and service (whatever that row's status). A claim
naming a service that is not in sla.yaml, a customer without an invoice in that month, or a month
that bills nobody matches nothing: it is ignored (billing goes on), counted in the close's
metadata and flagged by the warning check ``sla_claims_matched``. A claim is judged by the close of
its own ``billing_period``.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from meter_pipeline.config.sla import SlaClaim


def unmatched_claims(
    period: str, credits: pl.DataFrame, claims: Iterable[SlaClaim]
) -> list[SlaClaim]:
    """The claims for ``period`` with no earned credit row (customer, service) in ``credits``
    (the period's ``sla_credits``; rows resolved from earlier months are not earned here)."""
    earned = credits.filter(pl.col("earned_period") == period)
    pairs = set(earned.select("customer_id", "service").iter_rows())
    return [
        c for c in claims if c.billing_period == period and (c.customer_id, c.service) not in pairs
    ]


def describe(claim: SlaClaim) -> str:
    """``sla_claims.csv line 4 (acme, cloud_db, 2026-10)``: a claim as the check names it (the
    file's line, the header being line 1)."""
    return (
        f"sla_claims.csv line {claim.line} "
        f"({claim.customer_id}, {claim.service}, {claim.billing_period})"
    )
