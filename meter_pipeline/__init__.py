"""meter-pipeline: usage metering, billing and SLA credits as Dagster assets on Polars."""

from meter_pipeline._allocator import tune_polars_allocator

tune_polars_allocator()
