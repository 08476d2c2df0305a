"""meter-pipeline: usage metering, billing and SLA credits as Dagster assets on Polars."""
