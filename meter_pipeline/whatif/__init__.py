"""As of a date, and what if (docs/whatif.md): ``meter-pipeline asof`` and ``meter-pipeline
reprice``.

Both only read the data root and write to a separate ``--out`` folder. ``asof`` runs the same
Dagster graph into a scratch root that holds the landing days up to the as-of date
(:mod:`.asof`); ``reprice`` prices the stored usage lines' lineage under a candidate price book
with the month close's own pricing code (:mod:`.reprice`, :mod:`meter_pipeline.billing.reprice`).
"""
