"""Meter aggregations over sets of clean events (SPEC §4): count, sum, max, latest, unique_count."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from meter_pipeline.config.meters import Meter
from meter_pipeline.money import QUANTITY

ARRIVAL = ["landing_date", "source_file", "line_number"]


def unique_dimension_value(meters: Mapping[str, Meter]) -> pl.Expr:
    """Per event: the value of its meter's ``unique_dimension`` (null for other meters)."""
    expr = pl.lit(None, dtype=pl.String)
    for meter in meters.values():
        if meter.unique_dimension:
            value = pl.col("dimensions").list.eval(
                pl.element().filter(pl.element().struct.field("key") == meter.unique_dimension)
                .struct.field("value")
            ).list.first()
            expr = pl.when(pl.col("meter") == meter.name).then(value).otherwise(expr)
    return expr


def aggregate_usage(events: pl.LazyFrame, meters: Mapping[str, Meter], by: Sequence[str]
                    ) -> pl.LazyFrame:
    """Group events by ``by`` (which must include ``meter``) into ``event_count`` and
    ``quantity``: the meter's aggregation, exact, as Decimal(38, 9).

    ``latest`` takes the value of the greatest event time, ties going to the later arrival
    (landing_date, source_file, line_number). Only the events of latest and unique_count meters
    pay for ordering and dimension look-ups.
    """
    by = list(by)
    kinds = pl.DataFrame({"meter": list(meters), "_agg": [m.aggregation for m in meters.values()]},
                         schema={"meter": pl.String, "_agg": pl.String})
    latest_meters = [m.name for m in meters.values() if m.aggregation == "latest"]
    unique_meters = [m.name for m in meters.values() if m.aggregation == "unique_count"]
    grouped = events.group_by(by).agg(
        pl.len().cast(pl.Int64).alias("event_count"),
        pl.col("value").sum().alias("_sum"),
        pl.col("value").max().alias("_max"),
    )
    latest = (events.filter(pl.col("meter").is_in(latest_meters)).group_by(by)
              .agg(pl.col("value").sort_by(["event_time", *ARRIVAL]).last().alias("_latest")))
    unique = (events.filter(pl.col("meter").is_in(unique_meters))
              .with_columns(unique_dimension_value(meters).alias("_unique")).group_by(by)
              .agg(pl.col("_unique").drop_nulls().n_unique().alias("_unique_count")))
    agg = pl.col("_agg")
    quantity = (
        pl.when(agg == "count").then(pl.col("event_count").cast(QUANTITY))
        .when(agg == "sum").then(pl.col("_sum"))
        .when(agg == "max").then(pl.col("_max"))
        .when(agg == "latest").then(pl.col("_latest"))
        .otherwise(pl.col("_unique_count").cast(QUANTITY))
    )
    return (grouped.join(latest, on=by, how="left", nulls_equal=True)
            .join(unique, on=by, how="left", nulls_equal=True)
            .join(kinds.lazy(), on="meter", how="left")
            .with_columns(quantity.cast(QUANTITY).fill_null(0).alias("quantity"))
            .select(*by, "event_count", "quantity")
            .sort(by))
