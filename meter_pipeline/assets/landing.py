"""The inputs of the graph, shown as external assets: files that arrive from outside and that no
run materializes — the landing folders and the reference files. They sit upstream of the assets
that read them, so the UI's lineage starts where the data does."""

from __future__ import annotations

import dagster as dg

from meter_pipeline.assets.common import OWNERS

GROUP = "landing"
DOCS = "docs/rules.md"


def external(name: str, description: str, path: str, kinds: set[str]) -> dg.AssetSpec:
    return dg.AssetSpec(
        name,
        group_name=GROUP,
        description=description,
        owners=OWNERS,
        kinds=kinds,
        metadata={"path": path, "written_by": "the sources (never by a run)"},
    )


LANDING_EVENTS = external(
    "landing_events",
    "Meter event files, one folder per UTC day they arrived (the landing day), never edited "
    "afterwards: JSONL (native, Amberflo, CloudEvents, Stripe), CSV and Parquet, gzip allowed. "
    f"Rules: {DOCS}#1-landing-days-and-the-data-root.",
    "landing/events/<YYYY-MM-DD>/",
    {"jsonl", "csv", "parquet"},
)
LANDING_CORRECTIONS = external(
    "landing_corrections",
    "Corrections of clean events (void or amend), one folder per landing day: JSONL or CSV. "
    "Rules: docs/audit.md#corrections-void-or-amend-an-event-without-rewriting-history.",
    "landing/corrections/<YYYY-MM-DD>/",
    {"jsonl", "csv"},
)
LANDING_MONITORING = external(
    "landing_monitoring",
    "Monitoring exports (checked_at, service, region, status), one folder per landing day: "
    f"CSV, gzip allowed. Rules: {DOCS}#8-uptime-and-sla-credits.",
    "landing/monitoring/<YYYY-MM-DD>/",
    {"csv"},
)
REFERENCE_FILES = external(
    "reference_files",
    "The reference data every run loads and validates first: meters.yaml, pricing.yaml, "
    "customers.csv, sla.yaml, maintenance.csv, excused_downtime.csv, sla_claims.csv, alerts.csv. "
    f"Rules: {DOCS}#11-reference-files.",
    "reference/",
    {"yaml", "csv"},
)

#: Every external asset, for the Definitions.
EXTERNAL_ASSETS = [LANDING_EVENTS, LANDING_CORRECTIONS, LANDING_MONITORING, REFERENCE_FILES]
