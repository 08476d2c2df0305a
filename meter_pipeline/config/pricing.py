"""``reference/pricing.yaml``: the billing-period rules that ingestion needs (SPEC §5).

The full price book (plans, charges) is loaded by the billing side; ingestion only needs the
grace period and the late-event policy to stamp each clean event with its billing period.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from meter_pipeline.config.errors import ConfigError, read_yaml, require_int

FILE = "reference/pricing.yaml"
LATE_POLICIES = ("next_open_period", "ignore")


@dataclass(frozen=True)
class BillingRules:
    grace_days: int = 3
    late_events: str = "next_open_period"


def parse_billing_rules(data: dict) -> BillingRules:
    grace = require_int(data.get("grace_days", 3), FILE, "grace_days")
    late = data.get("late_events", "next_open_period")
    if late not in LATE_POLICIES:
        raise ConfigError(FILE, "late_events", f"must be one of {', '.join(LATE_POLICIES)}, "
                          f"got {late!r}")
    return BillingRules(grace, late)


def load_billing_rules(root: str | Path) -> BillingRules:
    """Grace days and late-event policy; defaults when pricing.yaml is absent."""
    return parse_billing_rules(read_yaml(Path(root), FILE, required=False))
