"""SPEC §2, §3 and §12 "Input files": every landing format, read from real files.

JSONL/NDJSON (plain and gzip), CSV (dimension columns or a JSON column, plain and gzip) and
Parquet (typed columns), native and Amberflo field names, raw records, line numbers, unreadable
files, skipped names, and the audit's files / skipped_files / unknown_fields.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from tests.helpers.ingestion import (
    DAY,
    DataRoot,
    Raw,
    audit_row,
    clean_rows,
    counts,
    epoch_ms,
    event,
    reasons,
    to_json,
    utc,
)

D = Decimal
NOON = utc(2026, 9, 1, 12)
NOON_MS = epoch_ms(NOON)  # 1788264000000
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def summary(tables) -> list[tuple]:
    """(event_id, customer_id, meter, event_time, value, dimensions) of each clean row."""
    return [
        (r["event_id"], r["customer_id"], r["meter"], r["event_time"], r["value"], r["dimensions"])
        for r in clean_rows(tables)
    ]


def file_entries(tables) -> list[dict]:
    return sorted(audit_row(tables)["files"], key=lambda f: f["path"])


# --- JSON Lines ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("a.jsonl", id="jsonl"),
        pytest.param("a.ndjson", id="ndjson"),
        pytest.param("a.jsonl.gz", id="jsonl.gz reads like jsonl"),
        pytest.param("a.ndjson.gz", id="ndjson.gz reads like jsonl.gz"),
    ],
)
def test_json_lines_formats_read_the_same_events(tmp_path, name):
    root = DataRoot.create(tmp_path)
    path = root.write_jsonl(
        name,
        [
            event("e1", value=Raw("1.5")),
            event(
                "e2",
                meter="llm_tokens",
                value="2",
                dimensions={"model": "gpt"},
                timestamp=Raw(str(NOON_MS)),
            ),
        ],
    )
    tables = root.ingest()
    assert summary(tables) == [
        ("e1", "c1", "tokens", NOON, D("1.5"), {}),
        ("e2", "c1", "llm_tokens", NOON, D("2"), {"model": "gpt"}),
    ]
    assert counts(tables) == (2, 0, 0, 2)
    data = path.read_bytes()
    assert file_entries(tables) == [
        {
            "path": f"landing/events/2026-09-01/{name}",
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "rows": 2,
        }
    ]
    assert audit_row(tables)["skipped_files"] == []


def test_amberflo_aliases_on_any_line_field_by_field(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_jsonl(
        "a.jsonl",
        [
            event("native"),
            {
                "uniqueId": "amberflo",
                "customerId": "c2",
                "meterApiName": "tokens",
                "meterTimeInMillis": NOON_MS,
                "meterValue": Raw("2.5"),
            },
            {
                "uniqueId": "mixed",
                "customer_id": "c3",
                "meterApiName": "llm_tokens",
                "timestamp": "2026-09-01T12:00:00Z",
                "meterValue": "3",
                "dimensions": {"model": "gpt"},
            },
            {
                "event_id": "ms-as-text",
                "customerId": "c4",
                "meter": "tokens",
                "meterTimeInMillis": "2026-09-01T12:00:00Z",
                "value": "4",
            },
        ],
    )
    tables = root.ingest()
    assert summary(tables) == [
        ("native", "c1", "tokens", NOON, D("1"), {}),
        ("amberflo", "c2", "tokens", NOON, D("2.5"), {}),
        ("mixed", "c3", "llm_tokens", NOON, D("3"), {"model": "gpt"}),
        ("ms-as-text", "c4", "tokens", NOON, D("4"), {}),
    ]
    assert audit_row(tables)["unknown_fields"] == []  # aliases are not unknown fields


def test_blank_lines_are_skipped_not_counted_and_lines_keep_physical_numbers(tmp_path):
    root = DataRoot.create(tmp_path)
    data = (
        b"\n"
        + to_json(event("e1")).encode()
        + b"\r\n"
        + b"   \t \n"
        + b"\r\n"
        + to_json(event("e2")).encode()
        + b"\n"
        + b"\n"
    )
    root.write_bytes("a.jsonl", data)
    tables = root.ingest()
    assert counts(tables) == (2, 0, 0, 2)
    assert [(r["event_id"], r["line_number"]) for r in clean_rows(tables)] == [("e1", 2), ("e2", 5)]
    raw = tables.raw_events.sort("line_number")
    assert raw["line_number"].to_list() == [2, 5]
    assert raw["raw_record"].to_list() == [to_json(event("e1")), to_json(event("e2"))]
    assert file_entries(tables)[0]["rows"] == 2


def test_a_byte_order_mark_at_the_start_of_a_jsonl_file_is_ignored(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_bytes("a.jsonl", b"\xef\xbb\xbf" + to_json(event("e1")).encode() + b"\n")
    tables = root.ingest()
    assert [r["event_id"] for r in clean_rows(tables)] == ["e1"]


def test_a_file_without_a_final_newline_reads_its_last_line(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_bytes("a.jsonl", (to_json(event("e1")) + "\n" + to_json(event("e2"))).encode())
    tables = root.ingest()
    assert [r["event_id"] for r in clean_rows(tables)] == ["e1", "e2"]


def test_only_newline_bytes_end_a_jsonl_line(tmp_path):
    # U+2028, U+2029 and NEL inside a string are characters, not line ends
    root = DataRoot.create(tmp_path)
    root.write_jsonl("a.jsonl", [event("x\u2028y\u2029z\u0085w"), event("e2")])
    tables = root.ingest()
    assert [(r["event_id"], r["line_number"]) for r in clean_rows(tables)] == [
        ("x\u2028y\u2029z\u0085w", 1),
        ("e2", 2),
    ]


# --- CSV -------------------------------------------------------------------------------------


def test_csv_with_dimension_columns(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_csv(
        "a.csv",
        [
            "event_id",
            "customer_id",
            "meter",
            "timestamp",
            "value",
            "dimensions.model",
            "dimensions.region",
        ],
        [
            ["e1", "c1", "llm_tokens", "2026-09-01T12:00:00Z", "1.5", "gpt", "eu"],
            ["e2", "c1", "llm_tokens", str(NOON_MS), "2", "gpt", None],
            ["e3", "c1", "llm_tokens", "2026-09-01T12:00:00Z", None, "gpt", "eu"],
            ["e4", "c1", "api_calls", "2026-09-01T12:00:00Z", None, None, None],
            ["e5", "c1", "llm_tokens", "2026-09-01T12:00:00Z", "abc", "gpt", "eu"],
            ["e6", "c1", "llm_tokens", "2026-09-01T12:00:00Z", "1e2", None, "eu"],
        ],
    )
    tables = root.ingest()
    assert summary(tables) == [
        ("e1", "c1", "llm_tokens", NOON, D("1.5"), {"model": "gpt", "region": "eu"}),
        # a timestamp cell of digits only is epoch milliseconds; an empty cell is absent
        ("e2", "c1", "llm_tokens", NOON, D("2"), {"model": "gpt"}),
        ("e4", "c1", "api_calls", NOON, None, {}),
    ]
    source = root.rel("a.csv")
    assert reasons(tables) == [
        (source, 3, "missing_field"),
        (source, 5, "invalid_value"),
        (source, 6, "missing_dimension"),
    ]
    assert tables.raw_events.sort("line_number")["raw_record"].to_list()[:2] == [
        "e1,c1,llm_tokens,2026-09-01T12:00:00Z,1.5,gpt,eu",
        f"e2,c1,llm_tokens,{NOON_MS},2,gpt,",
    ]
    assert audit_row(tables)["unknown_fields"] == []


def test_csv_with_a_dimensions_json_column_and_amberflo_header(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_csv(
        "a.csv",
        ["uniqueId", "customerId", "meterApiName", "meterTimeInMillis", "meterValue", "dimensions"],
        [
            ["e1", "c1", "llm_tokens", str(NOON_MS), "2.25", '{"model":"gpt","n":1.50,"ok":true}'],
            ["e2", "c1", "tokens", "2026-09-01T12:00:00Z", "1", "[1]"],
            ["e3", "c1", "tokens", "2026-09-01T12:00:00Z", "1", "oops"],
            ["e4", "c1", "tokens", "2026-09-01T12:00:00Z", "1", None],
            ["e5", "c1", "tokens", "2026-09-01T12:00:00Z", "1", '{"model":null}'],
        ],
    )
    tables = root.ingest()
    assert summary(tables) == [
        ("e1", "c1", "llm_tokens", NOON, D("2.25"), {"model": "gpt", "n": "1.50", "ok": "true"}),
        ("e4", "c1", "tokens", NOON, D("1"), {}),
    ]
    source = root.rel("a.csv")
    assert reasons(tables) == [
        (source, 2, "invalid_type"),
        (source, 3, "invalid_type"),
        (source, 5, "invalid_type"),
    ]
    assert tables.raw_events.sort("line_number")["raw_record"][0] == (
        'e1,c1,llm_tokens,1788264000000,2.25,"{""model"":""gpt"",""n"":1.50,""ok"":true}"'
    )


def test_csv_with_native_and_alias_columns_is_fine_unless_a_row_fills_both(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_csv(
        "a.csv",
        ["event_id", "uniqueId", "customer_id", "meter", "timestamp", "value"],
        [
            ["e1", None, "c1", "tokens", "2026-09-01T12:00:00Z", "1"],
            [None, "e2", "c1", "tokens", "2026-09-01T12:00:00Z", "1"],
            ["e3", "e3", "c1", "tokens", "2026-09-01T12:00:00Z", "1"],
        ],
    )
    tables = root.ingest()
    assert [r["event_id"] for r in clean_rows(tables)] == ["e1", "e2"]
    assert reasons(tables) == [(root.rel("a.csv"), 3, "invalid_type")]


def test_csv_gz_reads_like_csv(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_csv(
        "a.csv.gz",
        ["event_id", "customer_id", "meter", "timestamp", "value"],
        [["e1", "c1", "tokens", "2026-09-01T12:00:00Z", "0.5"]],
    )
    tables = root.ingest()
    assert summary(tables) == [("e1", "c1", "tokens", NOON, D("0.5"), {})]
    assert file_entries(tables)[0]["path"] == root.rel("a.csv.gz")


def test_csv_quoted_newlines_stay_in_one_record_and_its_raw_record(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_bytes(
        "a.csv",
        (
            b"event_id,customer_id,meter,timestamp,value,note\r\n"
            b'e1,c1,tokens,2026-09-01T12:00:00Z,1,"line one\r\nline ""two"""\r\n'
            b'e2,"c\n2",tokens,2026-09-01T12:00:00Z,2,\r\n'
            b"e3,c3,tokens,2026-09-01T12:00:00Z,3,x\r\n"
        ),
    )
    tables = root.ingest()
    assert [(r["event_id"], r["customer_id"], r["line_number"]) for r in clean_rows(tables)] == [
        ("e1", "c1", 1),
        ("e2", "c\n2", 2),
        ("e3", "c3", 3),
    ]
    assert tables.raw_events.sort("line_number")["raw_record"].to_list() == [
        'e1,c1,tokens,2026-09-01T12:00:00Z,1,"line one\r\nline ""two"""',
        'e2,"c\n2",tokens,2026-09-01T12:00:00Z,2,',
        "e3,c3,tokens,2026-09-01T12:00:00Z,3,x",
    ]
    assert audit_row(tables)["unknown_fields"] == [{"name": "note", "rows": 2}]


def test_csv_row_with_a_wrong_cell_count_is_malformed(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_bytes(
        "a.csv",
        (
            b"event_id,customer_id,meter,timestamp,value\n"
            b"e1,c1,tokens,2026-09-01T12:00:00Z,1\n"
            b"e2,c1,tokens,2026-09-01T12:00:00Z\n"
            b"e3,c1,tokens,2026-09-01T12:00:00Z,1,extra\n"
            b"e4,c1,tokens,2026-09-01T12:00:00Z,1\n"
        ),
    )
    tables = root.ingest()
    source = root.rel("a.csv")
    assert reasons(tables) == [(source, 2, "malformed"), (source, 3, "malformed")]
    assert [r["event_id"] for r in clean_rows(tables)] == ["e1", "e4"]
    q = tables.quarantined_events.sort("line_number")
    assert q["raw_record"].to_list() == [
        "e2,c1,tokens,2026-09-01T12:00:00Z",
        "e3,c1,tokens,2026-09-01T12:00:00Z,1,extra",
    ]
    assert counts(tables) == (4, 2, 0, 2)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(
            "event_id,customer_id,meter,timestamp,value,event_id",
            id="csv header naming event_id twice makes the file unreadable",
        ),
        pytest.param(
            "event_id,customer_id,meter,timestamp,value,dimensions.a,dimensions.a",
            id="csv header naming a dimension column twice makes the file unreadable",
        ),
    ],
)
def test_csv_header_naming_a_field_twice_makes_the_file_unreadable(tmp_path, header):
    root = DataRoot.create(tmp_path)
    root.write_bytes(
        "a.csv",
        (
            header
            + "\n"
            + "e1,c1,tokens,2026-09-01T12:00:00Z,1,x"
            + ",y" * (header.count(",") - 5)
            + "\n"
        ).encode(),
    )
    root.write_jsonl("b.jsonl", [event("ok")])
    tables = root.ingest()
    source = root.rel("a.csv")
    assert reasons(tables) == [(source, 0, "malformed")]
    assert tables.quarantined_events["raw_record"].to_list() == [None]
    raw = tables.raw_events.filter(source_file=source)
    assert (raw["line_number"].to_list(), raw["raw_record"].to_list()) == ([0], [None])
    assert [r["event_id"] for r in clean_rows(tables)] == ["ok"]
    assert counts(tables) == (2, 1, 0, 1)
    assert [f["rows"] for f in file_entries(tables)] == [1, 1]


def test_csv_blank_lines_and_byte_order_mark_are_ignored(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_bytes(
        "a.csv",
        (
            "\ufeffevent_id,customer_id,meter,timestamp,value\n"
            "\n"
            "e1,c1,tokens,2026-09-01T12:00:00Z,1\n"
            "\n"
            "e2,c1,tokens,2026-09-01T12:00:00Z,2\n"
            "\n"
        ).encode(),
    )
    tables = root.ingest()
    assert [r["event_id"] for r in clean_rows(tables)] == ["e1", "e2"]
    assert counts(tables) == (2, 0, 0, 2)


# --- Parquet ---------------------------------------------------------------------------------

MAP = pa.map_(pa.string(), pa.string())


def test_parquet_with_string_columns_and_map_dimensions(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_parquet(
        "a.parquet",
        pa.table(
            {
                "event_id": ["p1", "p2", "p3"],
                "customer_id": ["c1", "c1", "c1"],
                "meter": ["llm_tokens", "llm_tokens", "llm_tokens"],
                "timestamp": [
                    "2026-09-01T12:00:00Z",
                    "2026-09-01T14:00:00+02:00",
                    "2026-09-01T12:00:00Z",
                ],
                "value": ["1.5", "2", "3"],
                "dimensions": pa.array(
                    [[("model", "gpt")], [("region", "eu"), ("model", "x")], [("model", None)]], MAP
                ),
            }
        ),
    )
    tables = root.ingest()
    assert summary(tables) == [
        ("p1", "c1", "llm_tokens", NOON, D("1.5"), {"model": "gpt"}),
        ("p2", "c1", "llm_tokens", NOON, D("2"), {"model": "x", "region": "eu"}),
    ]
    assert [r["line_number"] for r in clean_rows(tables)] == [1, 2]  # row index + 1
    assert reasons(tables) == [(root.rel("a.parquet"), 3, "invalid_type")]  # null MAP value
    first = json.loads(tables.raw_events.sort("line_number")["raw_record"][0])
    assert isinstance(first, dict)
    assert {k: first[k] for k in ("event_id", "customer_id", "meter", "timestamp", "value")} == {
        "event_id": "p1",
        "customer_id": "c1",
        "meter": "llm_tokens",
        "timestamp": "2026-09-01T12:00:00Z",
        "value": "1.5",
    }


def test_parquet_raw_record_is_the_row_as_a_json_object(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_parquet(
        "a.parquet",
        pa.table(
            {
                "event_id": ["p1"],
                "customer_id": ["c1"],
                "meter": ["tokens"],
                "timestamp": ["2026-09-01T12:00:00Z"],
                "value": ["7"],
                "note": [None],
            }
        ),
    )
    tables = root.ingest()
    assert json.loads(tables.raw_events["raw_record"][0]) == {
        "event_id": "p1",
        "customer_id": "c1",
        "meter": "tokens",
        "timestamp": "2026-09-01T12:00:00Z",
        "value": "7",
        "note": None,
    }


def test_parquet_with_decimal_value_epoch_ms_and_dimension_columns(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_parquet(
        "a.parquet",
        pa.table(
            {
                "event_id": ["p1", "p2", "p3"],
                "customer_id": ["c1", "c1", "c1"],
                "meter": ["llm_tokens", "llm_tokens", "tokens"],
                "timestamp": pa.array([NOON_MS, NOON_MS + 1, -5], pa.int64()),
                "value": pa.array(
                    [D("0.1"), D("99999999999999999999.999999999"), D("1")], pa.decimal128(38, 9)
                ),
                "dimensions.model": ["gpt", "x", None],
            }
        ),
    )
    tables = root.ingest()
    assert summary(tables) == [
        ("p1", "c1", "llm_tokens", NOON, D("0.1"), {"model": "gpt"}),
        (
            "p2",
            "c1",
            "llm_tokens",
            utc(2026, 9, 1, 12, 0, 0, 1000),
            D("99999999999999999999.999999999"),
            {"model": "x"},
        ),
    ]
    assert reasons(tables) == [(root.rel("a.parquet"), 3, "invalid_timestamp")]


def test_parquet_decimal_value_beyond_nine_digits_rounds_half_even(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_parquet(
        "a.parquet",
        pa.table(
            {
                "event_id": ["p1", "p2"],
                "customer_id": ["c1", "c1"],
                "meter": ["tokens", "tokens"],
                "timestamp": ["2026-09-01T12:00:00Z"] * 2,
                "value": pa.array(
                    [D("1.000000000500"), D("1.000000001500")], pa.decimal128(20, 12)
                ),
            }
        ),
    )
    tables = root.ingest()
    assert [r["value"] for r in clean_rows(tables)] == [D("1.000000000"), D("1.000000002")]


def test_parquet_timestamps_with_time_zone(tmp_path):
    root = DataRoot.create(tmp_path)
    moment = utc(2026, 9, 1, 12, 0, 0, 123456)
    root.write_parquet(
        "a.parquet",
        pa.table(
            {
                "event_id": ["us"],
                "customer_id": ["c1"],
                "meter": ["tokens"],
                "value": ["1"],
                "timestamp": pa.array([moment], pa.timestamp("us", tz="UTC")),
            }
        ),
    )
    root.write_parquet(
        "b.parquet",
        pa.table(
            {
                "event_id": ["paris-ms"],
                "customer_id": ["c1"],
                "meter": ["tokens"],
                "value": ["1"],
                "timestamp": pa.array([moment], pa.timestamp("ms", tz="Europe/Paris")),
            }
        ),
    )
    # 2026-09-01T12:00:00.123456789Z in nanoseconds: beyond microseconds is truncated
    root.write_parquet(
        "c.parquet",
        pa.table(
            {
                "event_id": ["nanos"],
                "customer_id": ["c1"],
                "meter": ["tokens"],
                "value": ["1"],
                "timestamp": pa.array(
                    [NOON_MS * 1_000_000 + 123_456_789], pa.timestamp("ns", tz="UTC")
                ),
            }
        ),
    )
    root.write_parquet(
        "d.parquet",
        pa.table(
            {
                "event_id": ["seconds"],
                "customer_id": ["c1"],
                "meter": ["tokens"],
                "value": ["1"],
                "timestamp": pa.array([moment], pa.timestamp("s", tz="America/New_York")),
            }
        ),
    )
    tables = root.ingest()
    got = {r["event_id"]: r["event_time"] for r in clean_rows(tables)}
    assert got == {
        "us": moment,
        "paris-ms": utc(2026, 9, 1, 12, 0, 0, 123000),
        "nanos": moment,
        "seconds": NOON,
    }
    assert reasons(tables) == []


def test_parquet_timestamp_without_time_zone_is_invalid_type(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_parquet(
        "a.parquet",
        pa.table(
            {
                "event_id": ["p1", "p2"],
                "customer_id": ["c1", "c1"],
                "meter": ["tokens", "tokens"],
                "value": ["1", "1"],
                "timestamp": pa.array([dt.datetime(2026, 9, 1, 12), None], pa.timestamp("us")),
            }
        ),
    )
    root.write_parquet(
        "b.parquet",
        pa.table(
            {
                "event_id": ["p3"],
                "customer_id": ["c1"],
                "meter": ["tokens"],
                "value": ["1"],
                "timestamp": pa.array([NOON_MS * 1_000_000 + 1], pa.timestamp("ns")),
            }
        ),
    )
    tables = root.ingest()
    source = root.rel("a.parquet")
    # the null one is absent: missing_field comes first
    assert reasons(tables) == [
        (source, 1, "invalid_type"),
        (source, 2, "missing_field"),
        (root.rel("b.parquet"), 1, "invalid_type"),
    ]


def test_parquet_float_value_is_invalid_on_sum_meters_and_ignored_on_count_meters(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_parquet(
        "a.parquet",
        pa.table(
            {
                "event_id": ["sum", "count", "max", "unique"],
                "customer_id": ["c1"] * 4,
                "meter": ["tokens", "api_calls", "storage_gb", "active_users"],
                "timestamp": ["2026-09-01T12:00:00Z"] * 4,
                "value": pa.array([1.5, 2.5, 3.0, 4.0], pa.float64()),
                "dimensions.user_id": [None, None, None, "u1"],
            }
        ),
    )
    tables = root.ingest()
    source = root.rel("a.parquet")
    assert reasons(tables) == [(source, 1, "invalid_type"), (source, 3, "invalid_type")]
    assert summary(tables) == [
        ("count", "c1", "api_calls", NOON, None, {}),
        ("unique", "c1", "active_users", NOON, None, {"user_id": "u1"}),
    ]


@pytest.mark.parametrize(
    "column, array",
    [
        pytest.param(
            "value",
            pa.array([5], pa.int64()),
            id="parquet INT64 value column is invalid_type on a sum meter",
        ),
        pytest.param(
            "event_id",
            pa.array([5], pa.int64()),
            id="parquet INT64 event_id column is invalid_type",
        ),
        pytest.param(
            "dimensions.n",
            pa.array([5], pa.int32()),
            id="parquet integer dimension column is invalid_type",
        ),
        pytest.param(
            "dimensions",
            pa.array([{"model": "gpt"}], pa.struct([("model", pa.string())])),
            id="parquet STRUCT dimensions column is invalid_type",
        ),
        pytest.param(
            "timestamp",
            pa.array([1_788_264_000], pa.int32()),
            id="parquet INT32 timestamp column is invalid_type",
        ),
    ],
)
def test_parquet_columns_of_unlisted_types_are_invalid_type(tmp_path, column, array):
    columns = {
        "event_id": ["p1"],
        "customer_id": ["c1"],
        "meter": ["tokens"],
        "timestamp": ["2026-09-01T12:00:00Z"],
        "value": ["1"],
    }
    columns[column] = array
    root = DataRoot.create(tmp_path)
    root.write_parquet("a.parquet", pa.table(columns))
    tables = root.ingest()
    assert reasons(tables) == [(root.rel("a.parquet"), 1, "invalid_type")]


def test_parquet_written_by_polars(tmp_path):
    root = DataRoot.create(tmp_path)
    pl.DataFrame(
        {
            "event_id": ["p1", "p2"],
            "customer_id": ["c1", "c1"],
            "meter": ["llm_tokens", "llm_tokens"],
            "timestamp": pl.Series([NOON, NOON], dtype=pl.Datetime("us", "UTC")),
            "value": pl.Series([D("0.1"), D("0.2")], dtype=pl.Decimal(38, 9)),
            "dimensions.model": ["gpt", None],
        }
    ).write_parquet(root.landing() / "a.parquet")
    tables = root.ingest()
    assert summary(tables) == [("p1", "c1", "llm_tokens", NOON, D("0.1"), {"model": "gpt"})]
    assert reasons(tables) == [(root.rel("a.parquet"), 2, "missing_dimension")]


def test_parquet_dimensions_as_a_json_string_column(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_parquet(
        "a.parquet",
        pa.table(
            {
                "event_id": ["p1", "p2"],
                "customer_id": ["c1", "c1"],
                "meter": ["tokens", "tokens"],
                "timestamp": ["2026-09-01T12:00:00Z"] * 2,
                "value": ["1", "1"],
                "dimensions": ['{"region":"eu","tier":2}', "not json"],
            }
        ),
    )
    tables = root.ingest()
    assert summary(tables) == [("p1", "c1", "tokens", NOON, D("1"), {"region": "eu", "tier": "2"})]
    assert reasons(tables) == [(root.rel("a.parquet"), 2, "invalid_type")]


def test_parquet_nulls_and_empty_strings_are_absent(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_parquet(
        "a.parquet",
        pa.table(
            {
                "event_id": ["p1", None, ""],
                "customer_id": ["c1"] * 3,
                "meter": ["tokens"] * 3,
                "timestamp": ["2026-09-01T12:00:00Z"] * 3,
                "value": ["1"] * 3,
            }
        ),
    )
    tables = root.ingest()
    source = root.rel("a.parquet")
    assert reasons(tables) == [(source, 2, "missing_field"), (source, 3, "missing_field")]


def test_parquet_with_amberflo_column_names(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_parquet(
        "a.parquet",
        pa.table(
            {
                "uniqueId": ["p1"],
                "customerId": ["c9"],
                "meterApiName": ["tokens"],
                "meterTimeInMillis": pa.array([NOON_MS], pa.int64()),
                "meterValue": pa.array([D("4.5")], pa.decimal128(10, 2)),
            }
        ),
    )
    tables = root.ingest()
    assert summary(tables) == [("p1", "c9", "tokens", NOON, D("4.5"), {})]


# --- Files: empty, unreadable, skipped, audited ----------------------------------------------

ALL_NAMES = ["a.jsonl", "a.ndjson", "a.jsonl.gz", "a.ndjson.gz", "a.csv", "a.csv.gz", "a.parquet"]


@pytest.mark.parametrize(
    "name", [pytest.param(n, id=f"zero-byte {n} holds 0 rows") for n in ALL_NAMES]
)
def test_a_zero_byte_file_holds_zero_rows(tmp_path, name):
    root = DataRoot.create(tmp_path)
    root.write_bytes(name, b"")
    tables = root.ingest()
    assert counts(tables) == (0, 0, 0, 0)
    assert tables.raw_events.height == 0
    assert file_entries(tables) == [
        {"path": root.rel(name), "bytes": 0, "sha256": EMPTY_SHA256, "rows": 0}
    ]


def test_a_header_only_csv_and_an_empty_parquet_table_hold_zero_rows(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_bytes("a.csv", b"event_id,customer_id,meter,timestamp,value\n")
    root.write_parquet(
        "b.parquet",
        pa.table({"event_id": pa.array([], pa.string()), "value": pa.array([], pa.string())}),
    )
    root.write_bytes("c.jsonl.gz", gzip.compress(b""))
    tables = root.ingest()
    assert counts(tables) == (0, 0, 0, 0)
    assert [f["rows"] for f in file_entries(tables)] == [0, 0, 0]


def test_unreadable_files_are_one_malformed_row_each_and_the_day_still_loads(tmp_path):
    root = DataRoot.create(tmp_path)
    good = to_json(event("e1")) + "\n" + to_json(event("e2")) + "\n"
    root.write_bytes("bad.jsonl.gz", b"\x1f\x8b\x08\x00this is not deflate data")
    root.write_bytes("cut.ndjson.gz", gzip.compress(good.encode())[:-12])  # truncated
    root.write_bytes("plain.csv.gz", b"event_id,customer_id\ne9,c1\n")  # not gzip at all
    root.write_bytes("junk.parquet", b"PAR1 but not really a parquet file")
    root.write_jsonl("ok.jsonl", [event("e1"), event("e3")])
    tables = root.ingest()

    unreadable = ["bad.jsonl.gz", "cut.ndjson.gz", "junk.parquet", "plain.csv.gz"]
    assert reasons(tables) == [(root.rel(n), 0, "malformed") for n in unreadable]
    assert tables.quarantined_events["raw_record"].to_list() == [None] * 4
    raw = tables.raw_events.filter(line_number=0).sort("source_file")
    assert raw["source_file"].to_list() == [root.rel(n) for n in unreadable]
    assert raw["raw_record"].to_list() == [None] * 4
    # none of the truncated file's lines load, so e1 from ok.jsonl is not a duplicate
    assert [r["event_id"] for r in clean_rows(tables)] == ["e1", "e3"]
    assert counts(tables) == (6, 4, 0, 2)
    assert audit_row(tables)["quarantined_malformed"] == 4
    assert {f["path"]: f["rows"] for f in file_entries(tables)} == {
        root.rel("bad.jsonl.gz"): 1,
        root.rel("cut.ndjson.gz"): 1,
        root.rel("junk.parquet"): 1,
        root.rel("plain.csv.gz"): 1,
        root.rel("ok.jsonl"): 2,
    }


def test_skipped_names_and_sub_folders_are_listed_once_and_not_read(tmp_path):
    root = DataRoot.create(tmp_path)
    line = [event("skipped")]
    for name in (
        ".hidden.jsonl",
        "_x.jsonl",
        "_y.csv",
        "README.txt",
        "UPPER.JSONL",
        "a.JSONL.gz",
        "b.Csv",
        "c.json",
        "d.gz",
        "e.parquet.gz",
        ".jsonl",
    ):
        root.write_jsonl(name, line)
    root.write_jsonl("sub/inner.jsonl", line)
    root.write_jsonl("sub/deeper/inner.jsonl", line)
    root.write_jsonl("read.jsonl", [event("read")])
    tables = root.ingest()

    assert [r["event_id"] for r in clean_rows(tables)] == ["read"]
    assert counts(tables) == (1, 0, 0, 1)
    skipped = audit_row(tables)["skipped_files"]
    assert sorted(skipped) == sorted(
        root.rel(n)
        for n in (
            ".hidden.jsonl",
            "_x.jsonl",
            "_y.csv",
            "README.txt",
            "UPPER.JSONL",
            "a.JSONL.gz",
            "b.Csv",
            "c.json",
            "d.gz",
            "e.parquet.gz",
            ".jsonl",
            "sub",
        )
    )
    assert [f["path"] for f in file_entries(tables)] == [root.rel("read.jsonl")]


def test_a_day_with_no_landing_folder_gives_empty_tables_and_a_zero_audit(tmp_path):
    root = DataRoot.create(tmp_path)
    tables = root.ingest()
    assert counts(tables) == (0, 0, 0, 0)
    assert tables.raw_events.height == tables.clean_events.height == 0
    row = audit_row(tables)
    assert (row["files"], row["skipped_files"], row["unknown_fields"]) == ([], [], [])


def test_audit_lists_every_file_with_bytes_and_lowercase_sha256(tmp_path):
    root = DataRoot.create(tmp_path)
    paths = [
        root.write_jsonl("a.jsonl", [event("e1"), event("e2"), "broken"]),
        root.write_jsonl("b.ndjson.gz", [event("e3")]),
        root.write_csv(
            "c.csv",
            ["event_id", "customer_id", "meter", "timestamp", "value"],
            [["e4", "c1", "tokens", "2026-09-01T12:00:00Z", "1"]],
        ),
        root.write_parquet(
            "d.parquet",
            pa.table(
                {
                    "event_id": ["e5", "e6"],
                    "customer_id": ["c1", "c1"],
                    "meter": ["tokens"] * 2,
                    "timestamp": ["2026-09-01T12:00:00Z"] * 2,
                    "value": ["1", "2"],
                }
            ),
        ),
    ]
    tables = root.ingest()
    expected = []
    for path, rows in zip(paths, [3, 1, 1, 2], strict=True):
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        assert digest == digest.lower()
        expected.append(
            {"path": root.rel(path.name), "bytes": len(data), "sha256": digest, "rows": rows}
        )
    assert file_entries(tables) == expected
    assert counts(tables) == (7, 1, 0, 6)
    assert audit_row(tables)["landing_date"] == DAY


def test_unknown_fields_count_rows_with_a_value_whatever_becomes_of_them(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_jsonl(
        "a.jsonl",
        [
            event("e1", extra=1),
            event("e2", extra=None),
            event("e3", extra=""),
            event("e4", meter="nope", extra="x", note=False),  # quarantined, still counted
            event("e1", extra={"a": 1}),  # duplicate, still counted
            '{"event_id":"e5","extra":1,',  # does not parse: not counted
            event("e6", extra=[]),
        ],
    )
    root.write_csv(
        "b.csv",
        ["event_id", "customer_id", "meter", "timestamp", "value", "extra", "dimensions.model"],
        [
            ["e7", "c1", "tokens", "2026-09-01T12:00:00Z", "1", "a", "m"],
            ["e8", "c1", "tokens", "2026-09-01T12:00:00Z", "1", None, None],
        ],
    )
    root.write_parquet(
        "c.parquet",
        pa.table(
            {
                "event_id": ["e9", "e10"],
                "customer_id": ["c1", "c1"],
                "meter": ["tokens"] * 2,
                "timestamp": ["2026-09-01T12:00:00Z"] * 2,
                "value": ["1", "1"],
                "source": [None, "crm"],
                "extra": ["", "z"],
            }
        ),
    )
    tables = root.ingest()
    unknown = sorted(audit_row(tables)["unknown_fields"], key=lambda f: f["name"])
    assert unknown == [
        {"name": "extra", "rows": 6},
        {"name": "note", "rows": 1},
        {"name": "source", "rows": 1},
    ]
