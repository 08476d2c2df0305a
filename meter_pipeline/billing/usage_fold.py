"""Meter aggregations over sets of clean events (docs/rules.md#5-meters): count, sum, max, latest,
unique_count.

Every aggregation is decomposable, so a set of events can be aggregated a chunk at a time (one
landing day at a time, in the month close) with :class:`UsageFold`: each chunk is reduced to a
partial (count, sum and max per group; the latest event per group; the distinct unique-dimension
values per group), partials are merged as they come, and the result is computed once at the
end. Memory is bounded by one chunk plus the groups, not by the number of events, and the result
is exactly what one aggregation over all the events gives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from meter_pipeline.config.meters import Meter
from meter_pipeline.money import QUANTITY

ARRIVAL = ["landing_date", "source_file", "line_number"]
#: What decides the ``latest`` value: the greatest event time, ties to the later arrival.
LATEST_ORDER = ["event_time", *ARRIVAL]

Frame = pl.DataFrame | pl.LazyFrame
#: Partial aggregates of some events: (groups, latest, uniques), see :class:`UsageFold`.
Partial = tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]
#: Partial rows a fold holds before merging them (memory stays bounded by the groups).
MERGE_ROWS = 2_000_000


def unique_dimension_value(meters: Mapping[str, Meter]) -> pl.Expr:
    """Per event: the value of its meter's ``unique_dimension`` (null for other meters)."""
    expr = pl.lit(None, dtype=pl.String)
    for meter in meters.values():
        if meter.unique_dimension:
            value = (
                pl.col("dimensions")
                .list.eval(
                    pl.element()
                    .filter(pl.element().struct.field("key") == meter.unique_dimension)
                    .struct.field("value")
                )
                .list.first()
            )
            expr = pl.when(pl.col("meter") == meter.name).then(value).otherwise(expr)
    return expr


def _latest_of(column: pl.Expr) -> pl.Expr:
    """The struct of ``column`` (fields LATEST_ORDER + value) that sorts last."""
    return column.sort_by(*[column.struct.field(name) for name in LATEST_ORDER]).last()


class UsageFold:
    """Aggregate events chunk by chunk into ``by`` + event_count, quantity (and the ``flags``
    counted per group).

    ``by`` must include ``meter``. ``flags`` maps an output column to a boolean expression over
    the events; the column counts the events where it is true (e.g. late events).
    """

    def __init__(
        self,
        meters: Mapping[str, Meter],
        by: Sequence[str],
        flags: Mapping[str, pl.Expr] | None = None,
    ) -> None:
        self.meters, self.by, self.flags = meters, list(by), dict(flags or {})
        self.latest_meters = [m.name for m in meters.values() if m.aggregation == "latest"]
        self.unique_meters = [m.name for m in meters.values() if m.aggregation == "unique_count"]
        self.parts: list[Partial] = []
        self.pending_rows = 0

    def partial(self, events: Frame) -> Partial:
        """One chunk's partial aggregates (pure: chunks can be reduced in parallel)."""
        lazy = events.lazy()
        by = self.by
        groups = lazy.group_by(by).agg(
            pl.len().cast(pl.Int64).alias("_n"),
            *[flag.sum().cast(pl.Int64).alias(name) for name, flag in self.flags.items()],
            pl.col("value").sum().alias("_sum"),
            pl.col("value").max().alias("_max"),
        )
        latest = (
            lazy.filter(pl.col("meter").is_in(self.latest_meters))
            .group_by(by)
            .agg(_latest_of(pl.struct(*LATEST_ORDER, "value")).alias("_latest"))
        )
        uniques = (
            lazy.filter(pl.col("meter").is_in(self.unique_meters))
            .select(*by, unique_dimension_value(self.meters).alias("_unique"))
            .drop_nulls("_unique")
            .unique()
        )
        groups, latest, uniques = pl.collect_all([groups, latest, uniques])
        return groups, latest, uniques

    def merge(self, part: Partial) -> None:
        """Fold a partial in (the result does not depend on the order partials come in)."""
        self.parts.append(part)
        self.pending_rows += sum(frame.height for frame in part)
        if self.pending_rows > MERGE_ROWS:
            self._merge()

    def add(self, events: Frame) -> None:
        """Fold one chunk of events in (a frame with the CleanEvents columns ``by`` needs)."""
        self.merge(self.partial(events))

    def _merge(self) -> None:
        """Merge the partials so far into one (partials are cheap to hold; merge in batches)."""
        if len(self.parts) > 1:
            groups, latest, uniques = (
                pl.concat(frames) for frames in zip(*self.parts, strict=True)
            )
            self.parts = [
                (
                    groups.group_by(self.by).agg(
                        pl.col("_n").sum(),
                        *[pl.col(name).sum() for name in self.flags],
                        pl.col("_sum").sum(),
                        pl.col("_max").max(),
                    ),
                    latest.group_by(self.by).agg(_latest_of(pl.col("_latest"))),
                    uniques.unique(),
                )
            ]
        self.pending_rows = sum(frame.height for frame in self.parts[0]) if self.parts else 0

    def result(self) -> pl.DataFrame:
        """``by`` + event_count, quantity (Decimal(38, 9), the meter's aggregation) and the
        flag counts, sorted by ``by``. At least one chunk (possibly empty) must be added."""
        if not self.parts:
            raise ValueError("UsageFold.result() before any chunk was added")
        self._merge()
        groups, latest, uniques = self.parts[0]
        by = self.by
        kinds = pl.DataFrame(
            {"meter": list(self.meters), "_agg": [m.aggregation for m in self.meters.values()]},
            schema={"meter": pl.String, "_agg": pl.String},
        )
        uniques = uniques.group_by(by).agg(pl.len().alias("_unique_count"))
        agg = pl.col("_agg")
        quantity = (
            pl.when(agg == "count")
            .then(pl.col("_n").cast(QUANTITY))
            .when(agg == "sum")
            .then(pl.col("_sum"))
            .when(agg == "max")
            .then(pl.col("_max"))
            .when(agg == "latest")
            .then(pl.col("_latest").struct.field("value"))
            .otherwise(pl.col("_unique_count").cast(QUANTITY))
        )
        return (
            groups.join(latest, on=by, how="left", nulls_equal=True)
            .join(uniques, on=by, how="left", nulls_equal=True)
            .join(kinds, on="meter", how="left")
            .with_columns(quantity.cast(QUANTITY).fill_null(0).alias("quantity"))
            .select(*by, pl.col("_n").alias("event_count"), "quantity", *self.flags)
            .sort(by)
        )


def aggregate_usage(events: Frame, meters: Mapping[str, Meter], by: Sequence[str]) -> pl.LazyFrame:
    """Group events by ``by`` (which must include ``meter``) into ``event_count`` and
    ``quantity``: the meter's aggregation, exact, as Decimal(38, 9).

    ``latest`` takes the value of the greatest event time, ties going to the later arrival
    (landing_date, source_file, line_number). Only the events of latest and unique_count meters
    pay for ordering and dimension look-ups.
    """
    fold = UsageFold(meters, by)
    fold.add(events)
    return fold.result().lazy()


def daily_usage_of(events: Frame, meters: Mapping[str, Meter]) -> pl.DataFrame:
    """``daily_usage`` of one landing day's clean events: per usage date (the UTC date of the
    event time), billing period, customer and meter."""
    dated = events.lazy().with_columns(pl.col("event_time").dt.date().alias("usage_date"))
    by = ["landing_date", "usage_date", "billing_period", "customer_id", "meter"]
    return aggregate_usage(dated, meters, by).collect()
