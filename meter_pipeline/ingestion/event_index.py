"""The compact per-day index of valid event ids that deduplication reads (SPEC §3.2).

Day D's dedup depends only on the *validated* rows of days D−window…D−1, never on their dedup
results, so days can be materialized in any order and in parallel. Each day's index (event_id,
payload hash of its first valid occurrence) is written when the day is ingested, stamped with a
fingerprint of the landing folder (names, sizes, mtimes) and of meters.yaml; when a neighbour
day's index is missing or stale it is rebuilt from that day's landing files.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import polars as pl

from meter_pipeline.calendar import window_days
from meter_pipeline.config.meters import MetersConfig
from meter_pipeline.ingestion.parse import INDEX_SCHEMA, day_index, id_hash, parse_files
from meter_pipeline.ingestion.validate import context_for
from meter_pipeline.io import warehouse
from meter_pipeline.io.landing import event_dir, fingerprint, iter_event_files, list_landing
from meter_pipeline.workers import Map

TABLE = "_event_index"
#: Bump when what the index holds changes (e.g. the payload digest), so old indexes are rebuilt.
INDEX_FORMAT = 3
COLUMN = "landing_date"


def _stamp(root: Path, day: dt.date, config: MetersConfig) -> str:
    listing = list_landing(root, event_dir(root, day.isoformat()))
    return json.dumps(
        {"format": INDEX_FORMAT, "landing": fingerprint(listing), "meters": config.fingerprint()}
    )


def write_day_index(root: Path, day: dt.date, index: pl.DataFrame, stamp: str) -> None:
    warehouse.write_partition(
        root, TABLE, day.isoformat(), index, column=COLUMN, metadata={"meter_pipeline.stamp": stamp}
    )


def landing_stamp(root: Path, day: dt.date, config: MetersConfig) -> str:
    return _stamp(root, day, config)


def ensure_day_index(root: Path, day: dt.date, config: MetersConfig, map_: Map = map) -> None:
    """Make sure day's index exists and matches its landing folder; rebuild it if not."""
    stamp = _stamp(root, day, config)
    meta = warehouse.read_metadata(root, TABLE, day.isoformat(), COLUMN)
    if meta is not None and meta.get("meter_pipeline.stamp") == stamp:
        return
    listing = list_landing(root, event_dir(root, day.isoformat()))
    if meta is None and not listing.files:
        return  # nothing landed that day and nothing indexed: an empty index
    ctx, unknown = context_for(config, day), Counter()
    ids = ["event_id", "payload_hash"]
    valid = [
        parsed.valid.select(ids)  # file by file, ids only kept
        for _, parsed in parse_files(iter_event_files(listing), ctx, day, unknown, map_)
    ]
    empty = pl.DataFrame(schema={name: INDEX_SCHEMA[name] for name in ids})
    write_day_index(root, day, day_index(pl.concat([empty, *valid])), stamp)


def load_history(
    root: Path, day: dt.date, config: MetersConfig, ids: pl.DataFrame | None = None, map_: Map = map
) -> pl.DataFrame:
    """Index rows (landing_date, event_id, id_hash, payload_hash) of the window of days before
    ``day``; with ``ids`` (a frame with an ``event_id`` column), only the rows whose id hash is
    one of theirs are read into memory: a first pass over the hash column alone finds them (a
    64-bit key, so the lookup table stays small), a second reads those rows whole. A hash
    collision only brings an extra row, which the exact id comparison of dedup leaves out."""
    days = window_days(day, config.dedup_window_days)
    for past in days:
        ensure_day_index(root, past, config, map_)
    schema = pl.Schema({COLUMN: pl.Date, **INDEX_SCHEMA})
    history = warehouse.scan_partitions(
        root, TABLE, [d.isoformat() for d in days], schema=schema, column=COLUMN
    )
    if ids is not None:
        keys = ids.lazy().select(id_hash()).unique()
        hits = (
            history.select("id_hash")
            .join(keys, on="id_hash", how="semi")
            .unique()
            .collect(engine="streaming")
        )  # first pass: the hash column alone
        history = history.filter(pl.col("id_hash").is_in(hits.get_column("id_hash").implode()))
    return history.collect(engine="streaming")
