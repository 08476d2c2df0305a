"""Dagster resources: where the data root is, and the warehouse IO manager."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import polars as pl

from data_contracts import PARTITION_COLUMN
from meter_pipeline.config.meters import MetersConfig, load_meters
from meter_pipeline.config.customers import Subscription, load_customers
from meter_pipeline.config.sla import SlaConfig, load_sla
from meter_pipeline.config.pricing import BillingRules, PricingConfig, load_billing_rules, load_pricing
from meter_pipeline.io import warehouse

ROOT_ENV = "METER_PIPELINE_ROOT"


class DataRoot(dg.ConfigurableResource):
    """The data root: ``root`` when set, else ``$METER_PIPELINE_ROOT`` (read at run time), else
    ``./data``."""

    root: str | None = None

    def path(self) -> Path:
        return Path(self.root or os.environ.get(ROOT_ENV) or "./data")

    def meters(self) -> MetersConfig:
        return load_meters(self.path())

    def billing_rules(self) -> BillingRules:
        return load_billing_rules(self.path())

    def pricing(self) -> PricingConfig:
        return load_pricing(self.path(), self.meters())

    def sla(self) -> SlaConfig | None:
        """The SLA configuration, or None when the root has no reference/sla.yaml."""
        if not (self.path() / "reference" / "sla.yaml").exists():
            return None
        return load_sla(self.path())

    def subscriptions(self) -> tuple[Subscription, ...]:
        return load_customers(self.path(), self.pricing())


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Polars frames ⇄ ``<root>/warehouse/<table>/<column>=<key>/part-0.parquet``.

    Writes replace each partition atomically; a frame that spans several partitions (a ranged
    run) is split on its partition column. Inputs load lazily, one scan over the partitions the
    downstream partition maps to; missing partitions read as empty.
    """

    data_root: DataRoot

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        table = context.asset_key.path[-1]
        root = self.data_root.path()
        column = PARTITION_COLUMN[table]
        keys = context.asset_partition_keys if context.has_asset_partitions else []
        if len(keys) == 1:
            warehouse.write_partition(root, table, keys[0], obj)
            return
        for key in keys:
            warehouse.write_partition(
                root, table, key, obj.filter(pl.col(column).cast(pl.String) == key))

    def load_input(self, context: dg.InputContext) -> pl.LazyFrame:
        table = context.asset_key.path[-1]
        keys = context.asset_partition_keys if context.has_asset_partitions else []
        return warehouse.scan_partitions(self.data_root.path(), table, keys)
