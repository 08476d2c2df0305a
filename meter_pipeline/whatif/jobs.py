"""``asof`` and ``reprice`` as Dagster jobs: launched from the UI's Launchpad with a run config,
they write to their ``out`` folder, never to the data root (docs/whatif.md)."""

import datetime as dt
from pathlib import Path

import dagster as dg


class AsofConfig(dg.Config):
    root: str
    period: str
    as_of: str
    out: str


class RepriceConfig(dg.Config):
    root: str
    pricing: str
    start: str
    end: str
    out: str
    plan_map: list[str] = []


@dg.op(description="Close one month from the landing days up to as_of, into out.")
def asof_close(context: dg.OpExecutionContext, config: AsofConfig) -> dg.Output[str]:
    from meter_pipeline.whatif.asof import asof

    result = asof(
        Path(config.root), config.period, dt.date.fromisoformat(config.as_of), Path(config.out)
    )
    if not result.ok:
        raise dg.Failure(description="; ".join(result.failed))
    return dg.Output(
        str(result.out),
        metadata={"cutoff": str(result.cutoff), "landing_days_ingested": len(result.ingested)},
    )


@dg.op(description="Price the stored usage of [start, end] under a candidate pricing.yaml.")
def reprice_months(context: dg.OpExecutionContext, config: RepriceConfig) -> dg.Output[str]:
    from meter_pipeline.billing.reprice import parse_plan_map
    from meter_pipeline.whatif.reprice import REPORT, reprice

    result = reprice(
        Path(config.root),
        Path(config.pricing),
        config.start,
        config.end,
        Path(config.out),
        parse_plan_map(config.plan_map),
    )
    summary = result.summary
    totals = {}
    if summary is not None:
        for (period, currency), month in summary.group_by("billing_period", "currency"):
            totals[f"{period} {currency}"] = str(month["difference"].sum())
    return dg.Output(
        str(result.out),
        metadata={
            "periods": result.periods,
            "skipped": result.skipped,
            "difference_by_period": dg.MetadataValue.json(dict(sorted(totals.items()))),
            "report": dg.MetadataValue.path(str(Path(config.out) / REPORT)),
        },
    )


@dg.job(description="meter-pipeline asof: a month as known on a date, written to a separate root.")
def asof_job() -> None:
    asof_close()


@dg.job(description="meter-pipeline reprice: stored usage under a candidate price book.")
def reprice_job() -> None:
    reprice_months()
