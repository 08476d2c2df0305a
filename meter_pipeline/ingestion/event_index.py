"""The compact per-day index of valid event ids that deduplication reads
(docs/rules.md#4-counting-each-event-once-clean_events-duplicate_events).

Day D's dedup depends only on the *validated* rows of days D−window…D−1, never on their dedup
results, so days can be materialized in any order and in parallel. Each day's index (event_id,
payload hash of its first valid occurrence) is written when the day is ingested, stamped with the
SHA-256 of each landing file (the hashes the landing read computes anyway) and a fingerprint of
meters.yaml; when a neighbour day's index is missing or stale it is rebuilt from that day's
landing files. The stamp is content-addressed: a re-delivery with the same size and mtime
(``cp -p``, ``rsync -t``) is seen. To avoid re-hashing 40 days of files for every day, the index
also records each file's (size, mtime, ctime, inode); a file whose four values are unchanged keeps
its recorded hash (ctime cannot be set by a copy tool: any write or replacement changes it), any
other file is hashed again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl

from meter_pipeline.calendar import window_days
from meter_pipeline.config.meters import MetersConfig
from meter_pipeline.ingestion.parse import INDEX_SCHEMA, day_index, id_hash, parse_files
from meter_pipeline.ingestion.validate import context_for
from meter_pipeline.io import warehouse
from meter_pipeline.io.landing import LandingListing, event_folder, iter_event_files, list_landing
from meter_pipeline.io.records import LandingFile
from meter_pipeline.workers import Map

TABLE = "_event_index"
#: Bump when what the index holds changes (e.g. the payload digest, or 5: rows in id_hash order),
#: so old indexes are rebuilt.
INDEX_FORMAT = 5
COLUMN = "landing_date"
STAMP, STATS = "meter_pipeline.stamp", "meter_pipeline.stats"


def content_stamp(config: MetersConfig, files: list[list[str]]) -> str:
    """What an index was built from: ``[path, sha256]`` per landing file, and meters.yaml."""
    return json.dumps({"format": INDEX_FORMAT, "landing": files, "meters": config.fingerprint()})


def stamp_of(config: MetersConfig, files: list[LandingFile]) -> str:
    """:func:`content_stamp` from the audit entries of the files as read (no second hashing)."""
    return content_stamp(config, [[f.path, f.sha256] for f in files])


def landing_stats(listing: LandingListing) -> str:
    """``[path, size, mtime, ctime, inode]`` per listed file (taken before the files are read)."""
    return json.dumps(stat_rows(listing))


def stat_rows(listing: LandingListing) -> list[list]:
    """:func:`landing_stats` as rows (size -1: the file is gone)."""
    out = []
    for rel, storage, _, _ in listing.files:
        found = storage.stat(rel)
        out.append([rel, found.size, *found.version] if found else [rel, -1, -1, -1, -1])
    return out


def write_day_index(
    root: Path, day: dt.date, index: pl.DataFrame, stamp: str, stats: str | None = None
) -> None:
    metadata = {STAMP: stamp} if stats is None else {STAMP: stamp, STATS: stats}
    warehouse.write_partition(
        root, TABLE, day.isoformat(), index, column=COLUMN, metadata=metadata, compression="lz4"
    )


def current_stamp(
    config: MetersConfig, listing: LandingListing, stats: str, meta: dict[str, str]
) -> str:
    """The content stamp of the landing folder now: recorded hashes for files whose stat is
    unchanged since the index was written, fresh hashes for the others."""
    try:
        recorded_stats = {row[0]: row for row in json.loads(meta.get(STATS, "[]"))}
        recorded_shas = dict(json.loads(meta.get(STAMP, "{}")).get("landing", []))
    except (ValueError, TypeError, AttributeError):
        recorded_stats, recorded_shas = {}, {}
    files = []
    for row, (rel, storage, _, _) in zip(json.loads(stats), listing.files, strict=True):
        known = recorded_stats.get(rel) == row and rel in recorded_shas
        files.append([rel, recorded_shas[rel] if known else storage.sha256(rel)])
    return content_stamp(config, files)


def ensure_day_index(root: Path, day: dt.date, config: MetersConfig, map_: Map = map) -> None:
    """Make sure day's index exists and matches its landing files' content; rebuild it if not."""
    listing = list_landing(root, event_folder(day.isoformat()), limits=config.limits)
    meta = warehouse.read_metadata(root, TABLE, day.isoformat(), COLUMN)
    if meta is None and not listing.files:
        return  # nothing landed that day and nothing indexed: an empty index
    stats = landing_stats(listing)
    if meta is not None and meta.get(STAMP) == current_stamp(config, listing, stats, meta):
        return
    ctx, unknown = context_for(config, day), Counter()
    ids = ["event_id", "payload_hash"]
    files, valid = [], []
    for info, parsed in parse_files(iter_event_files(listing), ctx, day, unknown, map_):
        files.append(info)
        valid.append(parsed.valid.select(ids))  # file by file, ids only kept
    empty = pl.DataFrame(schema={name: INDEX_SCHEMA[name] for name in ids})
    index = day_index(pl.concat([empty, *valid]))
    write_day_index(root, day, index, stamp_of(config, files), stats)


class WindowCache:
    """The id window of a ranged run, carried from one landing day to the next: each window
    day's index is checked against its landing files once per run (not once per day that looks
    back at it) and its id hashes are kept in memory, in the index's ascending order (8 bytes an
    id: ~100 MB for a window of 12M ids), so a day's first pass over the window reads no file. A
    day ingested by the run adds its own index; a day that leaves the window is dropped. A run
    thus sees each landing day as it was when the run first looked at it.

    Memory is bounded: past ``limit_bytes`` (:data:`WINDOW_CACHE_BYTES`) the cache lets go of
    everything and the run reads the window from the index day by day, as a single day does."""

    def __init__(self, limit_bytes: int | None = None) -> None:
        self.days: dict[dt.date, np.ndarray] = {}
        self.limit = WINDOW_CACHE_BYTES if limit_bytes is None else limit_bytes
        self.full = False

    def keep(self, day: dt.date, index: pl.DataFrame) -> None:
        """Hold ``day``'s index (its id_hash column) as the window's copy of that day."""
        if not self.full:
            self.days[day] = _hash_array(index)
            if sum(hashes.nbytes for hashes in self.days.values()) > self.limit:
                self.full, self.days = True, {}

    def hashes(
        self, root: Path, days: list[dt.date], config: MetersConfig, map_: Map
    ) -> list[tuple[dt.date, np.ndarray]] | None:
        """(day, id hashes) of the days, from memory; a day not held yet is checked (and
        rebuilt when stale) and read once. Days not asked for any more are dropped. None once
        the window does not fit the limit."""
        if self.full:
            return None
        for gone in set(self.days) - set(days):
            del self.days[gone]
        for past in days:
            if past not in self.days:
                ensure_day_index(root, past, config, map_)
                self.keep(past, _read_hashes(root, past))
                if self.full:
                    return None
        return [(d, self.days[d]) for d in days]


#: The most memory a ranged run's window of id hashes may take (1.5 GiB: 40 days of ~3.3M ids).
WINDOW_CACHE_BYTES = 3 * 2**29


_INDEX = pl.Schema({COLUMN: pl.Date, **INDEX_SCHEMA})


def _hash_array(index: pl.DataFrame) -> np.ndarray:
    return index.get_column("id_hash").to_numpy()


def _read_hashes(root: Path, day: dt.date) -> pl.DataFrame:
    """The id_hash column of day's index, as written (ascending)."""
    found = warehouse.scan_partitions(root, TABLE, [day.isoformat()], schema=_INDEX, column=COLUMN)
    return found.select("id_hash").collect()


def window_hits(hashes: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The entries of a day's id hashes (ascending, as :func:`day_index` writes them) that are
    among ``keys`` (ascending, distinct): one merge of the two, compiled. Hashes that are not
    ascending (an index this version did not write) are looked up by :func:`numpy.isin`."""
    from meter_pipeline.ingestion.merge_kernels import sorted_hits

    hit = np.zeros(hashes.shape[0], dtype=np.bool_)
    if not sorted_hits(hashes, keys, hit):
        return hashes[np.isin(hashes, keys)]
    return hashes[hit]


def _distinct_hashes(ids: pl.DataFrame) -> np.ndarray:
    """The distinct id hashes of ``ids``, ascending: its ``id_hash`` column (a day's index has
    them in that order already), or the hashes of its ``event_id`` column."""
    hashes = ids.get_column("id_hash") if "id_hash" in ids.columns else ids.select(id_hash())
    keys = hashes.to_series().to_numpy() if isinstance(hashes, pl.DataFrame) else hashes.to_numpy()
    if keys.shape[0] > 1 and not bool((keys[1:] >= keys[:-1]).all()):
        keys = np.sort(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if keys.shape[0] else keys


def load_history(
    root: Path,
    day: dt.date,
    config: MetersConfig,
    ids: pl.DataFrame | None = None,
    map_: Map = map,
    cache: WindowCache | None = None,
) -> pl.DataFrame:
    """Index rows (landing_date, event_id, id_hash, payload_hash) of the window of days before
    ``day``; with ``ids`` (a frame with an ``event_id`` column, or the day's index with its
    ``id_hash`` column), only the rows whose id hash is one of theirs are read into memory: a
    first pass over each day's hash column alone finds them (a merge of the day's ascending
    hashes with the ids' distinct hashes, days two at a time with ``map_``), a second reads
    those rows whole, from the days with a hit only. A hash collision only brings an extra row,
    which the exact id comparison of dedup leaves out. With a ``cache`` (a ranged run), the
    first pass is over the hashes it holds."""
    days = window_days(day, config.dedup_window_days)
    if ids is None:
        for past in days:
            ensure_day_index(root, past, config, map_)
        history = warehouse.scan_partitions(
            root, TABLE, [d.isoformat() for d in days], schema=_INDEX, column=COLUMN
        )
        return history.collect(engine="streaming")
    keys = _distinct_hashes(ids)
    held = None if cache is None else cache.hashes(root, days, config, map_)
    if held is None:
        for past in days:  # first (not inside map_: a rebuild uses map_ itself)
            ensure_day_index(root, past, config, map_)

        def day_hits(past: dt.date) -> np.ndarray:
            return window_hits(_hash_array(_read_hashes(root, past)), keys)

        hits = list(zip(days, map_(day_hits, days), strict=True))
    else:
        hits = list(
            zip(days, map_(lambda held_day: window_hits(held_day[1], keys), held), strict=True)
        )
    hit_days = [past.isoformat() for past, found in hits if found.shape[0]]
    if not hit_days:
        return pl.DataFrame(schema=_INDEX)
    wanted = pl.Series("id_hash", np.unique(np.concatenate([found for _, found in hits])))
    found = warehouse.scan_partitions(root, TABLE, hit_days, schema=_INDEX, column=COLUMN)
    return found.filter(pl.col("id_hash").is_in(wanted.implode())).collect(engine="streaming")
