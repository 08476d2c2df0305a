"""Each hostile entry of the corpus lands beside a good file: it gets its documented outcome, the
day's rows are conserved, and the good file's events still load (issue 13)."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest
import yaml

from meter_pipeline.config.errors import ConfigError
from meter_pipeline.config.meters import load_meters
from meter_pipeline.config.pricing import BillingRules
from meter_pipeline.config.reference import load_reference
from meter_pipeline.ingestion.day import ingest_day
from meter_pipeline.io import warehouse
from meter_pipeline.io.monitoring import read_monitoring_day
from tests.hostile.corpus import DAY, FILE_KINDS, METERS, Kind, ev

GOOD = "a_good.jsonl"


def _root(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "root"
    (root / "reference").mkdir(parents=True)
    (root / "reference" / "meters.yaml").write_text(yaml.safe_dump(METERS))
    folder = root / "landing" / "events" / DAY
    folder.mkdir(parents=True)
    (folder / GOOD).write_text("".join(json.dumps(ev(f"g{i}")) + "\n" for i in (1, 2)))
    return root, folder


def _ingest(root: Path) -> dict:
    ingest_day(root, dt.date.fromisoformat(DAY), load_meters(root), BillingRules())
    return {
        t: warehouse.scan_partitions(root, t, [DAY]).collect()
        for t in ("ingestion_audit", "quarantined_events", "clean_events", "raw_events")
    }


def test_the_corpus_has_at_least_100_kinds():
    assert len(FILE_KINDS) + len(REFERENCE_KINDS) + len(MONITORING_KINDS) >= 100


@pytest.mark.parametrize("kind", FILE_KINDS, ids=[k.id for k in FILE_KINDS])
def test_hostile_entry_gets_its_outcome_and_the_day_still_loads(tmp_path, kind: Kind):
    root, folder = _root(tmp_path)
    kind.make(folder)
    tables = _ingest(root)
    audit = tables["ingestion_audit"].row(0, named=True)
    assert audit["rows_read"] == (
        audit["rows_quarantined"] + audit["rows_duplicate"] + audit["rows_accepted"]
    )
    assert audit["rows_read"] == tables["raw_events"].height
    clean = tables["clean_events"]
    assert {"g1", "g2"} <= set(clean["event_id"]), "the good file still loads"
    assert clean.height == 2 + kind.accepted
    hostile = tables["quarantined_events"].filter(
        ~tables["quarantined_events"]["source_file"].str.ends_with(GOOD)
    )
    assert tuple(hostile["reason"]) == kind.reasons
    if kind.detail:
        assert kind.detail in hostile["detail"][0]
        assert hostile["line_number"][0] == 0
    if kind.skipped:
        assert kind.skipped in audit["skipped_reasons"]
        assert len(audit["skipped_files"]) == len(audit["skipped_reasons"])
        assert "stolen" not in set(clean["event_id"]) and "root:" not in str(
            tables["raw_events"]["raw_record"].to_list()
        )


def test_max_day_bytes_refuses_the_file_that_passes_it_and_admits_a_later_small_one(tmp_path):
    root, folder = _root(tmp_path)
    meters = {**METERS, "limits": {**METERS["limits"], "max_day_bytes": 300}}
    (root / "reference" / "meters.yaml").write_text(yaml.safe_dump(meters))
    (folder / "b_big.jsonl").write_text("".join(json.dumps(ev(f"b{i}")) + "\n" for i in range(5)))
    (folder / "c_small.jsonl").write_text(json.dumps(ev("s1")) + "\n")
    tables = _ingest(root)
    q = tables["quarantined_events"]
    assert q.select("source_file", "line_number", "reason").rows() == [
        (f"landing/events/{DAY}/b_big.jsonl", 0, "malformed")
    ]
    assert "max_day_bytes" in q["detail"][0]
    assert set(tables["clean_events"]["event_id"]) == {"g1", "g2", "s1"}


def test_a_same_size_same_mtime_redelivery_is_seen_by_the_content_addressed_index(tmp_path):
    root, folder = _root(tmp_path)
    day_before = (dt.date.fromisoformat(DAY) - dt.timedelta(days=1)).isoformat()
    prev = root / "landing" / "events" / day_before
    prev.mkdir(parents=True)
    old = prev / "p.jsonl"
    old.write_text(json.dumps(ev("AAAA", timestamp="2026-09-09T12:00:00Z")) + "\n")
    meters = load_meters(root)
    ingest_day(root, dt.date.fromisoformat(day_before), meters, BillingRules())
    stat = old.stat()
    old.write_text(json.dumps(ev("BBBB", timestamp="2026-09-09T12:00:00Z")) + "\n")  # same size
    import os

    os.utime(old, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # what cp -p / rsync -t keep
    (folder / "z.jsonl").write_text(json.dumps(ev("BBBB")) + "\n")
    tables = _ingest(root)
    assert "BBBB" not in set(tables["clean_events"]["event_id"]), "a duplicate of day before"


# --- reference files ------------------------------------------------------------------------

BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
REFERENCE_KINDS = [
    (
        "meters.yaml alias bomb in a unit",
        "reference/meters.yaml",
        BOMB + "meters:\n- {name: m, aggregation: count, unit: *b}\n",
        "aliases",
    ),
    (
        "meters.yaml plain alias",
        "reference/meters.yaml",
        "x: &x count\nmeters:\n- {name: m, aggregation: *x}\n",
        "aliases",
    ),
    ("meters.yaml not UTF-8", "reference/meters.yaml", b"meters: \xff\n", "UTF-8"),
    ("meters.yaml a folder", "reference/meters.yaml", None, "cannot be read"),
    (
        "meters.yaml nested too deeply",
        "reference/meters.yaml",
        "x: " + "[" * 50_000 + "]" * 50_000 + "\nmeters: []\n",
        "meters.yaml",
    ),
    (
        "meters.yaml huge unit",
        "reference/meters.yaml",
        "meters:\n- {name: m, aggregation: count, unit: [" + "1," * 100_000 + "1]}\n",
        "unit",
    ),
    (
        "meters.yaml limits not a mapping",
        "reference/meters.yaml",
        "limits: 5\nmeters:\n- {name: m, aggregation: count}\n",
        "limits",
    ),
    (
        "meters.yaml unknown limit",
        "reference/meters.yaml",
        "limits: {max_files: 1}\nmeters:\n- {name: m, aggregation: count}\n",
        "limits.max_files",
    ),
    (
        "meters.yaml limit zero",
        "reference/meters.yaml",
        "limits: {max_line_bytes: 0}\nmeters:\n- {name: m, aggregation: count}\n",
        "limits.max_line_bytes",
    ),
    ("meters.yaml tabs", "reference/meters.yaml", "meters:\n\t- x\n", "not valid YAML"),
    ("pricing.yaml alias bomb", "reference/pricing.yaml", BOMB + "plans: *b\n", "aliases"),
]


@pytest.mark.parametrize(
    "name, rel, text, words", REFERENCE_KINDS, ids=[k[0] for k in REFERENCE_KINDS]
)
def test_hostile_reference_file_is_one_line_config_error(tmp_path, name, rel, text, words):
    root = tmp_path / "root"
    (root / "reference").mkdir(parents=True)
    (root / "reference" / "meters.yaml").write_text("meters:\n- {name: m, aggregation: count}\n")
    path = root / rel
    if path.exists():
        path.unlink()
    if text is None:
        path.mkdir()
    else:
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ConfigError) as err:
        load_reference(root)
    message = str(err.value)
    assert words in message and "\n" not in message and len(message) < 600


# --- monitoring exports ---------------------------------------------------------------------

HEADER = b"checked_at,service,region,status\n"
ROW = b"2026-09-10T00:00:00Z,api,eu,up\n"
MONITORING_KINDS = [
    ("bad gzip", "m.csv.gz", b"not gzip", 1, None),
    (
        "gzip of 3 MB of blank lines (within the default limit)",
        "m.csv.gz",
        gzip.compress(HEADER + b"\n" * 3_000_000),
        0,
        None,
    ),
    ("huge line", "m.csv", HEADER + b"x" * 2_000_000 + b"\n", 1, None),
    ("bad rows", "m.csv", HEADER + b"nonsense\n,,,\n2026-13-01T00:00:00Z,api,eu,up\n", 3, None),
    ("link to password file", "link.csv", None, 0, "symbolic link (not followed)"),
    ("non-UTF-8 header", "m.csv", b"\xff\xfe\n" + ROW, 1, None),
]


@pytest.mark.parametrize(
    "name, file, data, unreadable, skipped", MONITORING_KINDS, ids=[k[0] for k in MONITORING_KINDS]
)
def test_hostile_monitoring_export_is_counted_and_good_probes_load(
    tmp_path, name, file, data, unreadable, skipped
):
    root = tmp_path / "root"
    folder = root / "landing" / "monitoring" / DAY
    folder.mkdir(parents=True)
    (folder / "a.csv").write_bytes(HEADER + ROW)
    if data is None:
        (folder / file).symlink_to("/etc/passwd")
    else:
        (folder / file).write_bytes(data)
    day = read_monitoring_day(root, dt.date.fromisoformat(DAY))
    assert day.probes.height == 1
    assert day.unreadable_rows == unreadable
    if skipped:
        assert day.skipped_files == [f"landing/monitoring/{DAY}/{file}"]
