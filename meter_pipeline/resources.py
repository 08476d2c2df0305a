"""The Dagster resource that says where the data root is and loads its reference files."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from meter_pipeline.config.meters import MetersConfig, load_meters
from meter_pipeline.config.customers import Subscription, load_customers
from meter_pipeline.config.sla import SlaConfig, load_sla
from meter_pipeline.config.pricing import BillingRules, PricingConfig, load_billing_rules, load_pricing

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
