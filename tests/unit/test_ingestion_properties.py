"""Properties of ingestion over random event streams (SPEC §3.2, §3.3).

Random events — ids from a small pool so re-sends are frequent, payload variants so some
re-sends conflict, some invalid or malformed rows — are split at random into landing days within
a 60-day span (so the 40-day window matters) and into files of several formats, written as real
files, and ingested. Then, for every landing day:

* conservation: rows_read = rows_quarantined + rows_duplicate + rows_accepted;
* the accepted rows and the duplicates (with their first landing date and conflict flag) are
  those of a simple reference written here: a loop over arrival order with a dict of
  event_id → [(landing day, payload)] of its valid occurrences, applying SPEC §3.2's window;
* ingesting the days in a shuffled order into a fresh root gives identical tables, and so does
  ingesting them in order as one ranged run (the window's id hashes kept from day to day).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from meter_pipeline.ingestion.event_index import WindowCache
from tests.helpers.ingestion import DataRoot, epoch_ms, frames

BASE = dt.date(2026, 3, 1)
SPAN_DAYS = 60
IDS = [f"e{i}" for i in range(6)]
#: byte order: "B.jsonl" < "a.jsonl" < "a.ndjson.gz" < "c.csv"
FILES = ["a.jsonl", "B.jsonl", "a.ndjson.gz", "c.csv"]
MAX_AGE = dt.timedelta(days=35)
TOLERANCE = dt.timedelta(hours=1)
WINDOW_DAYS = 40
UTC = dt.UTC


@dataclass(frozen=True)
class Payload:
    customer: str
    meter: str  # tokens (sum) or api_calls (count: value neither checked nor compared)
    time: dt.datetime  # UTC, whole hours
    value: str


@dataclass(frozen=True)
class Row:
    landing: int  # days after BASE
    file: str
    event_id: str
    payload: Payload
    fmt: int  # 0: "Z", 1: "+02:00", 2: epoch milliseconds
    spelling: int  # which text of the same value: see SPELLINGS
    broken: str  # "", "bad_value" or "malformed"


#: Texts of the same value; in JSONL the odd ones are written as number tokens.
SPELLINGS = {"1": ["1", "1.0", "1e0"], "2.5": ["2.5", "2.50", "25e-1"]}


def payload(anchor: int) -> st.SearchStrategy[Payload]:
    """A payload whose event time lies around landing day ``anchor`` (mostly valid there, and
    on the days up to 35 later), or, now and then, anywhere in the span."""
    return st.builds(
        Payload,
        customer=st.sampled_from(["c1", "c2"]),
        meter=st.sampled_from(["tokens", "tokens", "api_calls"]),
        time=st.builds(
            lambda d, h: dt.datetime.combine(BASE, dt.time(h), UTC) + dt.timedelta(days=d),
            st.one_of(st.integers(anchor - 37, anchor + 1), st.integers(-5, SPAN_DAYS)),
            st.sampled_from([0, 12, 23]),
        ),
        value=st.sampled_from(["1", "2.5"]),
    )


@st.composite
def streams(draw) -> tuple[list[Row], list[int]]:
    days = draw(st.sets(st.integers(0, SPAN_DAYS - 1), min_size=1, max_size=5))
    if draw(st.booleans()):  # often two days more than 40 apart, so the window matters
        first = draw(st.integers(0, SPAN_DAYS - 42))
        days |= {first, draw(st.integers(first + 41, SPAN_DAYS - 1))}
    days = sorted(days)
    # per event id and anchor day, one or two payloads: re-sends repeat or conflict
    variants = {
        (i, d): draw(st.lists(payload(d), min_size=1, max_size=2)) for i in IDS for d in days
    }
    rows = []
    for _ in range(draw(st.integers(12, 40))):
        landing = draw(st.sampled_from(days))
        anchor = landing if draw(st.booleans()) else draw(st.sampled_from(days))
        event_id = draw(st.sampled_from(IDS))
        rows.append(
            Row(
                landing,
                draw(st.sampled_from(FILES)),
                event_id,
                draw(st.sampled_from(variants[(event_id, anchor)])),
                draw(st.integers(0, 2)),
                draw(st.integers(0, 2)),
                draw(st.sampled_from(["", "", "", "", "bad_value", "malformed"])),
            )
        )
    order = draw(st.permutations(sorted({r.landing for r in rows})))
    return rows, list(order)


def landing_date(row: Row) -> dt.date:
    return BASE + dt.timedelta(days=row.landing)


def timestamp_text(row: Row) -> str | int:
    t = row.payload.time
    if row.fmt == 0:
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    if row.fmt == 1:
        return (t + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00")
    return epoch_ms(t)


def write_files(root: DataRoot, rows: list[Row]) -> dict[tuple[int, str], list[Row]]:
    """Write each (day, file) in the order its rows were drawn; return that grouping."""
    files: dict[tuple[int, str], list[Row]] = defaultdict(list)
    for row in rows:
        files[(row.landing, row.file)].append(row)
    for (landing, name), file_rows in files.items():
        day = BASE + dt.timedelta(days=landing)
        if name.endswith(".csv"):
            lines = ["event_id,customer_id,meter,timestamp,value"]
            for r in file_rows:
                value = "x" if r.broken == "bad_value" else SPELLINGS[r.payload.value][r.spelling]
                lines.append(
                    f"{r.event_id},oops"
                    if r.broken == "malformed"
                    else f"{r.event_id},{r.payload.customer},{r.payload.meter},"
                    f"{timestamp_text(r)},{value}"
                )
            root.write_bytes(name, ("\n".join(lines) + "\n").encode(), day)
        else:
            lines = []
            for r in file_rows:
                if r.broken == "malformed":
                    lines.append('{"event_id": "%s",' % r.event_id)
                    continue
                text = SPELLINGS[r.payload.value][r.spelling]
                value = (
                    '"x"'
                    if r.broken == "bad_value"
                    else text
                    if r.spelling % 2
                    else json.dumps(text)
                )  # number token or string
                lines.append(
                    json.dumps(
                        {
                            "event_id": r.event_id,
                            "customer_id": r.payload.customer,
                            "meter": r.payload.meter,
                            "timestamp": timestamp_text(r),
                        }
                    )[:-1]
                    + f', "value": {value}}}'
                )
            data = "".join(line + "\n" for line in lines).encode()
            root.write_bytes(name, gzip.compress(data) if name.endswith(".gz") else data, day)
    return files


# --- the reference --------------------------------------------------------------------------


def is_valid(row: Row) -> bool:
    if row.broken == "malformed":
        return False
    if row.broken == "bad_value" and row.payload.meter == "tokens":
        return False  # a count meter's value is not validated
    start = dt.datetime.combine(landing_date(row), dt.time(0), UTC)
    return start - MAX_AGE <= row.payload.time < start + dt.timedelta(days=1) + TOLERANCE


def compared(p: Payload) -> tuple:
    """What a re-send must repeat: customer, meter, instant, value (as a Decimal; count: None)."""
    return (p.customer, p.meter, p.time, None if p.meter == "api_calls" else Decimal(p.value))


def reference(files: dict[tuple[int, str], list[Row]]) -> dict[int, dict]:
    arrival = []
    for landing, name in sorted(files, key=lambda k: (k[0], k[1].encode())):
        for line, row in enumerate(files[(landing, name)], start=1):
            arrival.append((landing, name, line, row))
    seen: dict[str, list[tuple[int, tuple]]] = defaultdict(list)  # first valid per day
    out: dict[int, dict] = defaultdict(
        lambda: {"read": 0, "quarantined": 0, "accepted": [], "duplicates": []}
    )
    for landing, name, line, row in arrival:
        day = out[landing]
        day["read"] += 1
        if not is_valid(row):
            day["quarantined"] += 1
            continue
        source = f"landing/events/{(BASE + dt.timedelta(days=landing)).isoformat()}/{name}"
        window = [(d, p) for d, p in seen[row.event_id] if landing - WINDOW_DAYS <= d <= landing]
        if window:
            first_day, first_payload = window[0]
            day["duplicates"].append(
                (
                    row.event_id,
                    source,
                    line,
                    BASE + dt.timedelta(days=first_day),
                    compared(row.payload) != first_payload,
                )
            )
        else:
            day["accepted"].append((source, line, row.event_id))
        if not any(d == landing for d, _ in seen[row.event_id]):
            seen[row.event_id].append((landing, compared(row.payload)))
    return out


# --- the property -----------------------------------------------------------------------------


@pytest.mark.slow  # ~25 s: each example writes and ingests two data roots of real files
@settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(streams())
def test_random_streams_conserve_rows_match_the_reference_and_ignore_day_order(stream):
    rows, shuffled = stream
    with tempfile.TemporaryDirectory() as tmp:
        first = DataRoot.create(Path(tmp) / "first")
        files = write_files(first, rows)
        expected = reference(files)

        in_order = {n: first.ingest(BASE + dt.timedelta(days=n)) for n in sorted(expected)}
        for n, tables in in_order.items():
            audit = tables.ingestion_audit.row(0, named=True)
            want = expected[n]
            assert audit["rows_read"] == (
                audit["rows_quarantined"] + audit["rows_duplicate"] + audit["rows_accepted"]
            )
            assert (
                audit["rows_read"],
                audit["rows_quarantined"],
                audit["rows_duplicate"],
                audit["rows_accepted"],
            ) == (want["read"], want["quarantined"], len(want["duplicates"]), len(want["accepted"]))
            clean = tables.clean_events
            assert (
                list(
                    zip(clean["source_file"], clean["line_number"], clean["event_id"], strict=True)
                )
                == want["accepted"]
            )
            dups = tables.duplicate_events
            assert sorted(
                zip(
                    dups["event_id"],
                    dups["source_file"],
                    dups["line_number"],
                    dups["first_landing_date"],
                    dups["conflict"],
                    strict=True,
                )
            ) == sorted(want["duplicates"])

        second = DataRoot.create(Path(tmp) / "second")
        shutil.copytree(first.path / "landing", second.path / "landing")
        shuffled_results = {n: second.ingest(BASE + dt.timedelta(days=n)) for n in shuffled}
        third = DataRoot.create(Path(tmp) / "third")
        shutil.copytree(first.path / "landing", third.path / "landing")
        window = WindowCache()  # one ranged run over every day
        ranged = {n: third.ingest(BASE + dt.timedelta(days=n), window) for n in sorted(expected)}
        for n, tables in in_order.items():
            for again in (frames(shuffled_results[n]), frames(ranged[n])):
                for name, frame in frames(tables).items():
                    assert_frame_equal(again[name], frame, check_exact=True)
