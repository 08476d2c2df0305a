"""Dagster assets: thin bodies that read their partition, call pure functions, and return."""
