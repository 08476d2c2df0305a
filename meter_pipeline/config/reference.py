"""Every reference file of a data root, loaded and validated once into a frozen :class:`Reference`.

A run loads its reference once (the :class:`~meter_pipeline.resources.DataRoot` resource caches
it) and passes it down, so one run never sees two configurations even when a file is edited
while it runs, and each file is parsed once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from meter_pipeline.config.alerts import Alert, load_alerts
from meter_pipeline.config.customers import Subscription, load_customers
from meter_pipeline.config.errors import ConfigError, read_yaml, reference_exists
from meter_pipeline.config.meters import MetersConfig, load_meters
from meter_pipeline.config.pricing import FILE as PRICING_FILE
from meter_pipeline.config.pricing import (
    BillingRules,
    PricingConfig,
    parse_billing_rules,
    parse_pricing,
)
from meter_pipeline.config.sla import SLA_FILE, SlaConfig, load_sla
from meter_pipeline.storage import is_remote, root_text

ROOT_ENV = "METER_PIPELINE_ROOT"
DEFAULT_ROOT = "./data"


def resolve_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: ``root`` when given, else ``$METER_PIPELINE_ROOT``, else ``./data``. A local
    root is a :class:`~pathlib.Path`; an object-store root (``s3://bucket/prefix``) stays text,
    typed as a path for the code that only passes it on to the storage."""
    found = root or os.environ.get(ROOT_ENV) or DEFAULT_ROOT
    if is_remote(found):
        return root_text(found)  # type: ignore[return-value]  # see the docstring
    return Path(found)


@dataclass(frozen=True)
class Reference:
    """The reference files of one data root, validated.

    ``pricing`` is None when the root has no ``reference/pricing.yaml`` (ingestion only: billing
    rules take their defaults and there are no subscriptions); ``sla`` is None without
    ``reference/sla.yaml``.
    """

    meters: MetersConfig
    rules: BillingRules
    pricing: PricingConfig | None = None
    subscriptions: tuple[Subscription, ...] = ()
    sla: SlaConfig | None = None
    #: reference/alerts.csv (docs/alerts-and-formats.md#usage-and-cost-alerts); empty when the file
    #: does not exist.
    alerts: tuple[Alert, ...] = ()

    @property
    def grace_days(self) -> int:
        return self.rules.grace_days

    def require_pricing(self) -> PricingConfig:
        """The price book, for billing; a ConfigError when the root has none."""
        if self.pricing is None:
            raise ConfigError(PRICING_FILE, "(file)", "is required for billing but does not exist")
        return self.pricing


def load_reference(root: str | os.PathLike) -> Reference:
    """Load and validate every reference file under ``root`` once.

    Raises
    ------
    ConfigError
        One line ``<file>: <key or line>: <rule>`` for the first problem found.
    """
    meters = load_meters(root)
    has_pricing = reference_exists(root, PRICING_FILE)
    pricing_yaml = read_yaml(root, PRICING_FILE, required=False)
    rules = parse_billing_rules(pricing_yaml)
    pricing = parse_pricing(pricing_yaml, meters) if has_pricing else None
    subscriptions = load_customers(root, pricing) if pricing is not None else ()
    sla = load_sla(root) if reference_exists(root, SLA_FILE) else None
    _check_fee_services(pricing, sla)
    alerts = load_alerts(root, meters)
    return Reference(meters, rules, pricing, subscriptions, sla, alerts)


def _check_fee_services(pricing: PricingConfig | None, sla: SlaConfig | None) -> None:
    """A platform fee names a service of sla.yaml (else its credits could never be computed)."""
    if pricing is None or sla is None:
        return
    for i, plan in enumerate(pricing.plans.values()):
        for j, fee in enumerate(plan.platform_fees):
            if fee.service not in sla.policy.services:
                raise ConfigError(
                    PRICING_FILE,
                    f"plans[{i}].platform_fees[{j}].service",
                    f"service {fee.service!r} is not a service of {SLA_FILE} "
                    f"({', '.join(sla.policy.services)}); add it there or fix the name",
                )
