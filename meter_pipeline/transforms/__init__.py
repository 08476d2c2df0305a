"""Pure logic on plain values and Polars frames: no dagster, no files, no clock."""
