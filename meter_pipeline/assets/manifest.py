"""The close manifest asset (docs/audit.md#can-anyone-have-changed-it-the-close-manifest): written
last at each month close, after every monthly table of the period, as a hash chain over the
months."""

from importlib import metadata
from pathlib import Path

import dagster as dg

from meter_pipeline.assets.common import OWNERS, SINGLE_RUN
from meter_pipeline.billing.manifest_scope import input_folders, monthly_tables, output_folders
from meter_pipeline.calendar import previous_period
from meter_pipeline.config.reference import Reference
from meter_pipeline.io import manifest
from meter_pipeline.partitions import monthly_partitions
from meter_pipeline.resources import DataRoot
from meter_pipeline.workers import worker_map


def product_version() -> str:
    return metadata.version("meter-pipeline")


def close_manifest_bytes(root: Path, period: str, reference: Reference) -> bytes:
    """The manifest of ``period`` as it would be written now (the verify command compares it);
    its files are hashed on :func:`~meter_pipeline.workers.worker_map`'s threads."""
    previous = previous_period(period)
    with worker_map() as map_:
        return manifest.render_manifest(
            period,
            product_version(),
            (previous, manifest.manifest_sha256(root, previous)),
            manifest.input_entries(root, input_folders(period, reference), map_),
            manifest.output_entries(root, output_folders(period), map_),
        )


@dg.asset(
    name="close_manifest",
    group_name="billing",
    partitions_def=monthly_partitions,
    backfill_policy=SINGLE_RUN,
    owners=OWNERS,
    kinds={"json"},
    deps=[*monthly_tables(), "reference_files"],
    description="The month's close manifest, written last: every input file (landing and "
    "reference: path, bytes, sha256), every output partition file of the month (with rows), "
    "the previous month's manifest hash (a chain) and the product version. "
    "warehouse/_manifests/billing_period=YYYY-MM/manifest.json; `meter-pipeline verify` "
    "checks it.",
)
def close_manifest(context: dg.AssetExecutionContext, data_root: DataRoot):
    root, reference = data_root.path(), data_root.reference()
    digests = {}
    for period in sorted(context.partition_keys):
        data = close_manifest_bytes(root, period, reference)
        manifest.write_manifest(root, period, data)
        digests[period] = manifest.manifest_sha256(root, period)
    return dg.MaterializeResult(
        metadata={
            "manifests": len(digests),
            "sha256": dg.MetadataValue.json(digests),
            "path": "warehouse/_manifests/",
        }
    )
