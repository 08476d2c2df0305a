"""pandera contracts: the one place each warehouse table's columns are declared.

``CONTRACTS`` maps a table name (data_contracts/docs/README.md) to its model; ``PARTITION_COLUMN``
to its partition key.
"""

from data_contracts import alerts, billing, corrections, ingestion, lineage, sla
from data_contracts.base import Contract, conform, empty_frame, polars_schema

CONTRACTS: dict[str, type[Contract]] = {
    **ingestion.TABLES,
    **billing.TABLES,
    **sla.TABLES,
    **lineage.TABLES,
    **corrections.TABLES,
    **alerts.TABLES,
}
PARTITION_COLUMN: dict[str, str] = {
    **{name: "landing_date" for name in ingestion.TABLES},
    **{name: "billing_period" for name in billing.TABLES},
    **sla.PARTITION_COLUMN,
    **{name: "billing_period" for name in lineage.TABLES},
    **{name: "landing_date" for name in corrections.TABLES},
    **{name: "landing_date" for name in alerts.TABLES},
}

__all__ = ["CONTRACTS", "PARTITION_COLUMN", "Contract", "conform", "empty_frame", "polars_schema"]
