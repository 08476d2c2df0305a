"""The daily ``usage_alerts`` asset (docs/alerts-and-formats.md#usage-and-cost-alerts): alerts first
crossed on each landing day, listed in the run's metadata and a warning check, and POSTed to
``ALERT_WEBHOOK_URL`` when it is set."""

import datetime as dt
import functools
import os
from pathlib import Path

import dagster as dg
import polars as pl

from data_contracts import CONTRACTS, empty_frame, polars_schema
from meter_pipeline import checks
from meter_pipeline.assets.adjustment_inputs import projected_periods
from meter_pipeline.assets.common import SINGLE_RUN, table_spec, write_table
from meter_pipeline.billing.adjustments import adjustment_lines
from meter_pipeline.billing.alerts import (
    Adjustments,
    alert_customers,
    crossed_on,
    evaluated_periods,
)
from meter_pipeline.calendar import period_landing_days
from meter_pipeline.config.reference import Reference
from meter_pipeline.io import warehouse, webhook
from meter_pipeline.partitions import daily_partitions
from meter_pipeline.resources import DataRoot

GROUP = "alerts"
URL_ENV, SECRET_ENV = "ALERT_WEBHOOK_URL", "ALERT_WEBHOOK_SECRET"
BACKOFF_ENV = "ALERT_WEBHOOK_BACKOFF_SECONDS"


class DayCache:
    """Clean events of the alerted customers and the corrections per landing day, read once per
    run (a ranged run reads each day once, however many later days evaluate it)."""

    def __init__(self, root: Path, customers: list[str]):
        self.root, self.customers, self.days, self.corrections = root, customers, {}, {}

    def get(self, key: str) -> pl.DataFrame:
        if key not in self.days:
            self.days[key] = (
                warehouse.scan_partitions(self.root, "clean_events", [key])
                .filter(pl.col("customer_id").is_in(self.customers))
                .collect()
            )
        return self.days[key]

    def corrections_of(self, keys: list[str]) -> pl.DataFrame:
        for key in keys:
            if key not in self.corrections:
                scan = warehouse.scan_partitions(self.root, "event_corrections", [key])
                self.corrections[key] = scan.collect()
        frames = [self.corrections[k] for k in keys]
        return pl.concat(frames) if frames else empty_frame(CONTRACTS["event_corrections"])

    def forget_before(self, key: str) -> None:
        for cache in (self.days, self.corrections):
            for old in [k for k in cache if k < key]:
                del cache[old]


def alerts_of_day(cache: DayCache, day: dt.date, ref: Reference) -> pl.DataFrame:
    """The usage_alerts partition of ``day``: every evaluated period's alerts that cross on it,
    over the effective events and, for cost, the adjustment lines known on each day."""
    frames = []
    for period in evaluated_periods(day, ref.grace_days):
        keys = [
            k
            for k in period_landing_days(period, ref.grace_days, ref.meters.future_tolerance_us)
            if k <= day.isoformat()
        ]
        days = [
            (dt.date.fromisoformat(k), cache.get(k).filter(pl.col("billing_period") == period))
            for k in keys
        ]
        corrections = cache.corrections_of(keys)
        adjustments = known_adjustments(cache.root, ref, period, corrections)
        frames.append(crossed_on(period, day, days, ref.alerts, ref, corrections, adjustments))
    return pl.concat(frames)


def known_adjustments(
    root: Path, ref: Reference, period: str, corrections: pl.DataFrame
) -> Adjustments | None:
    """The adjustment lines ``period``'s invoices would carry with the corrections landed up to a
    given day (None when no correction of a closed period is applied to ``period``)."""
    earlier = corrections.filter(
        (pl.col("applied_period") == period)
        & pl.col("event_billing_period").is_not_null()
        & (pl.col("event_billing_period") != period)
    )
    costs = frozenset(a.customer_id for a in ref.alerts if a.threshold_kind == "cost")
    if earlier.height == 0 or not costs:
        return None
    schema = polars_schema(CONTRACTS["invoice_lines"])
    return functools.cache(
        lambda when: adjustment_lines(
            period, projected_periods(root, ref, period, when, costs), schema
        )
    )


def webhook_from_env() -> webhook.Webhook | None:
    url = os.environ.get(URL_ENV)
    if not url:
        return None
    backoff = float(os.environ.get(BACKOFF_ENV) or 1.0)
    return webhook.Webhook(url, os.environ.get(SECRET_ENV) or None, backoff=backoff)


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    deps=["clean_events", "event_corrections", "reference_files"],
    check_specs=[checks.ALERTS_REPORTED, checks.ALERTS_DELIVERED],
    **table_spec("usage_alerts", GROUP),
)
def usage_alerts(context: dg.AssetExecutionContext, data_root: DataRoot):
    """Usage and cost alerts first crossed on each landing day
    (docs/alerts-and-formats.md#usage-and-cost-alerts)."""
    ref, root = data_root.reference(), data_root.path()
    cache, fired = DayCache(root, alert_customers(ref.alerts)), []
    for key in sorted(context.partition_keys):
        fired += alerts_of_one_day(context, root, ref, cache, key)
    hook = webhook_from_env()
    outcomes = deliver_alerts(context, root, hook, fired)
    listed = [checks.describe_alert(row) for row in fired]
    return dg.MaterializeResult(
        metadata={"webhook": webhook_state(hook, outcomes)},
        check_results=[
            checks.usage_alerts_reported(listed),
            checks.alerts_delivered(hook is not None, outcomes),
        ],
    )


def alerts_of_one_day(
    context: dg.AssetExecutionContext, root, ref, cache: DayCache, key: str
) -> list[dict]:
    """Write one landing day's usage_alerts partition with its own metadata; returns its rows."""
    day = dt.date.fromisoformat(key)
    frame = alerts_of_day(cache, day, ref) if ref.alerts else empty()
    rows = write_table(root, "usage_alerts", key, frame).to_dicts()
    listed = [checks.describe_alert(row) for row in rows]
    context.add_asset_metadata(
        {"dagster/row_count": len(rows), "alerts": dg.MetadataValue.json(listed)},
        partition_key=key,
    )
    cache.forget_before((day - dt.timedelta(days=62 + ref.grace_days)).isoformat())
    return rows


def deliver_alerts(context: dg.AssetExecutionContext, root, hook, fired: list[dict]) -> list:
    """POST the run's alerts when a webhook is configured (nothing is sent twice)."""
    if hook is None:
        return []
    bodies = {row["alert_id"]: webhook.alert_body(row) for row in fired}
    outcomes = webhook.deliver(root, hook, bodies)
    context.log.info(f"alert webhook {webhook.redact_url(hook.url)}: {len(outcomes)} sent")
    return outcomes


def empty() -> pl.DataFrame:
    return empty_frame(CONTRACTS["usage_alerts"])


def webhook_state(hook: webhook.Webhook | None, outcomes: list[webhook.Outcome]) -> str:
    if hook is None:
        return f"not configured ({URL_ENV} is not set)"
    failed = sum(o.status == "failed" for o in outcomes)
    return f"{webhook.redact_url(hook.url)}: {len(outcomes) - failed} delivered, {failed} failed"
