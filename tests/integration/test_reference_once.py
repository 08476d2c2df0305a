"""Reference files are parsed once per run: a backfill of a month through the Dagster graph reads
each reference file once for the CLI's check and once in each of its runs, however many assets
and partitions a run has."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import dagster as dg
import pytest

from meter_pipeline.runner import Backfill, check_config, run_backfill
from tests.helpers.graph_root import write_root

PRICING = """\
grace_days: 3
plans:
  - id: basic
    currency: USD
    platform_fees: [{service: api, amount: "10.00"}]
    charges:
      - {id: calls, meter: api_calls, model: per_unit, unit_price: "0.5"}
"""
CUSTOMERS = "customer_id,customer_name,plan_id,start_date,end_date\nc1,One,basic,2026-01-01,\n"
SLA = 'services: [api]\ntarget_uptime_pct: "99.9"\n'
FILES = ("meters.yaml", "pricing.yaml", "customers.csv", "sla.yaml")


@pytest.mark.slow
def test_each_reference_file_is_parsed_once_per_run(tmp_path, monkeypatch):
    root = write_root(tmp_path / "root")
    for name, text in (("pricing.yaml", PRICING), ("customers.csv", CUSTOMERS), ("sla.yaml", SLA)):
        (root / "reference" / name).write_text(text)
    reads: Counter = Counter()
    read_bytes = Path.read_bytes  # how a local root's storage reads a whole file

    def counting(self: Path):
        if self.parent.name == "reference":
            reads[self.name] += 1
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    reference = check_config(root)
    with dg.instance_for_test() as instance:
        result = run_backfill(
            Backfill(root, dt.date(2026, 9, 1), dt.date(2026, 10, 3)),
            instance,
            echo=lambda _: None,
            reference=reference,
        )
    assert result.ok and result.runs == 3  # monitoring day before, the days, the month
    assert {name: reads[name] for name in FILES} == {name: 1 + result.runs for name in FILES}
