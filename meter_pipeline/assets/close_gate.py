"""The gate in front of a month close: a month never closes over a failed landing day.

:func:`refuse_incomplete` runs before a monthly asset writes anything. When a month of the run
reads a landing day that did not ingest completely
(:func:`meter_pipeline.ingestion.completeness.period_blockers`), nothing of the run is written:
the blocking check ``invoices_landing_days_complete`` fails for each such month, naming the day,
and the step fails with the operator's path (fix the day, re-run it, close the month). This holds
for every way a month is closed: the CLI's backfill, a backfill or a materialization in the UI,
and the monthly schedule.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg

from meter_pipeline import checks
from meter_pipeline.assets.common import PartitionRun
from meter_pipeline.config.reference import Reference
from meter_pipeline.ingestion.completeness import blocked_message, period_blockers


def refuse_incomplete(
    run: PartitionRun, reference: Reference, month_checks: checks.PartitionChecks | None = None
) -> Iterator[dg.Output | dg.AssetCheckEvaluation]:
    """Nothing when every month of the run reads only complete landing days; otherwise yields the
    failed check evaluations (when ``month_checks`` is given) and raises ``dg.Failure``."""
    blocked = period_blockers(
        run.root, run.keys, reference.grace_days, reference.meters.future_tolerance_us
    )
    if not blocked:
        return
    if month_checks is not None:
        for period, blocker in blocked.items():
            checks.landing_days_complete(month_checks, period, blocker)
        yield from month_checks.results()
    messages = [blocked_message(period, *blocker) for period, blocker in blocked.items()]
    raise dg.Failure(
        description="; ".join(messages),
        metadata={"blocked": dg.MetadataValue.json({p: b[0] for p, b in blocked.items()})},
    )
