"""A corpus of hostile landing entries: each kind is one file (or folder entry) put into a landing
day beside one good file, with its documented outcome. Built as data so that one test checks
them all alike (tests/hostile/test_hostile_corpus.py)."""

from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

DAY = "2026-09-10"
TS = "2026-09-10T12:00:00Z"
#: Small limits, so that each limit can be broken cheaply.
LIMITS = {
    "max_file_bytes": 200_000,
    "max_day_bytes": 2_000_000,
    "max_line_bytes": 8_192,
    "max_parquet_rows": 50_000,
    "max_parquet_rows_per_kib": 4,
    "min_parquet_rows": 1_000,
    "max_number_chars": 100,
}
METERS = {
    "meters": [
        {"name": "api_calls", "aggregation": "count"},
        {"name": "tokens", "aggregation": "sum"},
    ],
    "limits": LIMITS,
}


@dataclass(frozen=True)
class Kind:
    """``make(folder)`` puts the hostile entry into the landing folder. ``reasons``: the
    quarantine reasons its rows get (line 0 for a whole-file outcome); ``skipped``: the reason
    the audit gives when the entry is not read; ``detail``: words the malformed detail holds."""

    id: str
    make: Callable[[Path], None]
    reasons: tuple[str, ...] = ()
    skipped: str | None = None
    detail: str | None = None
    accepted: int = 0


def ev(event_id: str = "h1", **fields: object) -> dict:
    base = {"event_id": event_id, "customer_id": "c1", "meter": "api_calls", "timestamp": TS}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not ...}


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes(data)


def _jsonl_line(line: str | bytes) -> Callable[[Path], None]:
    raw = line.encode() if isinstance(line, str) else line
    return _write("h.jsonl", raw + b"\n")


def _parquet(table: pa.Table, **kw: object) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **kw)
    return sink.getvalue()


def _symlink(target: str, name: str = "link.jsonl") -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        os.symlink(target, folder / name)

    return make


def _outside_events(folder: Path) -> None:
    outside = folder.parents[3] / "outside.jsonl"
    outside.write_text(json.dumps(ev("stolen")) + "\n")
    os.symlink(outside, folder / "link.jsonl")


def _fifo(folder: Path) -> None:
    os.mkfifo(folder / "pipe.jsonl")


def _socket(folder: Path) -> None:
    import socket

    # bound by a relative name: a socket's path is limited to ~107 bytes, and the temporary
    # folders of parallel test workers (pytest-xdist) are longer than that
    here = os.getcwd()
    os.chdir(folder)
    try:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind("sock.jsonl")
        sock.close()
    finally:
        os.chdir(here)


def _subfolder(folder: Path) -> None:
    (folder / "sub.jsonl").mkdir()
    (folder / "sub.jsonl" / "x.jsonl").write_text(json.dumps(ev("hidden")) + "\n")


def _bad_name(folder: Path) -> None:
    with open(os.path.join(os.fsencode(folder), b"bad\xff.jsonl"), "wb") as fh:
        fh.write((json.dumps(ev("badname")) + "\n").encode())


J = json.dumps
BIG = "9" * 5000
LINE_KINDS: list[tuple[str, str | bytes, str]] = [
    (
        "huge integer timestamp (int-string limit)",
        J(ev(timestamp=0))[:-2] + BIG + "}",
        "invalid_timestamp",
    ),
    (
        "huge negative integer timestamp",
        J(ev(timestamp=0))[:-2] + "-" + BIG + "}",
        "invalid_timestamp",
    ),
    ("integer timestamp one digit too long", J(ev(timestamp=10**16)), "invalid_timestamp"),
    ("timestamp float", J(ev(timestamp=1.5)), "invalid_type"),
    ("timestamp exponent", J(ev())[:-1].replace(f'"{TS}"', "1e12") + "}", "invalid_type"),
    ("timestamp boolean", J(ev(timestamp=True)), "invalid_type"),
    ("timestamp lowercase t", J(ev(timestamp=TS.replace("T", "t"))), "invalid_timestamp"),
    ("timestamp second 60", J(ev(timestamp="2026-09-10T12:00:60Z")), "invalid_timestamp"),
    ("timestamp offset 24:00", J(ev(timestamp="2026-09-10T12:00:00+24:00")), "invalid_timestamp"),
    ("timestamp year 0000", J(ev(timestamp="0000-01-01T00:00:00Z")), "invalid_timestamp"),
    (
        "timestamp 10 fraction digits",
        J(ev(timestamp="2026-09-10T12:00:00.1234567890Z")),
        "invalid_timestamp",
    ),
    ("timestamp huge string", J(ev(timestamp="2" * 3000)), "invalid_timestamp"),
    ("timestamp too old", J(ev(timestamp="2020-01-01T00:00:00Z")), "too_old"),
    ("timestamp future", J(ev(timestamp="2026-09-12T00:00:00Z")), "future_timestamp"),
    ("value huge digits", J(ev(meter="tokens"))[:-1] + ', "value": ' + BIG + "}", "invalid_value"),
    ("value NaN bare", J(ev(meter="tokens"))[:-1] + ', "value": NaN}', "malformed"),
    ("value Infinity string", J(ev(meter="tokens", value="Infinity")), "invalid_value"),
    (
        "value huge exponent",
        J(ev(meter="tokens"))[:-1] + ', "value": 1e999999999}',
        "invalid_value",
    ),
    ("value 10^20", J(ev(meter="tokens", value="100000000000000000000")), "invalid_value"),
    ("value leading plus", J(ev(meter="tokens", value="+1")), "invalid_value"),
    ("value boolean", J(ev(meter="tokens", value=True)), "invalid_type"),
    ("value object", J(ev(meter="tokens", value={})), "invalid_type"),
    ("value negative", J(ev(meter="tokens", value="-1")), "negative_value"),
    ("value missing", J(ev(meter="tokens")), "missing_field"),
    ("not JSON", "{not json", "malformed"),
    ("JSON array", "[1, 2]", "malformed"),
    ("JSON string", '"text"', "malformed"),
    ("repeated key", '{"event_id": "a", "event_id": "b"}', "malformed"),
    ("lone surrogate escape", J(ev())[:-1] + ', "x": "\\ud800"}', "malformed"),
    ("invalid UTF-8 byte", J(ev()).encode()[:-1] + b', "x": "\xff"}', "malformed"),
    ("deep nesting", '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "malformed"),
    ("NUL byte in line", J(ev()) + "\x00", "malformed"),
    ("missing event_id", J(ev(event_id=...)), "missing_field"),
    ("empty customer_id", J(ev(customer_id="")), "missing_field"),
    ("null meter", J(ev(meter=None)), "missing_field"),
    ("event_id number", J(ev(event_id=5)), "invalid_type"),
    ("event_id too long", J(ev(event_id="x" * 257)), "field_too_long"),
    ("dimension key too long", J(ev(dimensions={"k" * 257: "v"})), "field_too_long"),
    ("dimension value null", J(ev(dimensions={"k": None})), "invalid_type"),
    ("dimension value array", J(ev(dimensions={"k": []})), "invalid_type"),
    ("dimensions a list", J(ev(dimensions=["a"])), "invalid_type"),
    ("both names for event_id", J({**ev(), "uniqueId": "other"}), "invalid_type"),
    ("unknown meter", J(ev(meter="nope")), "unknown_meter"),
    ("line over max_line_bytes", J(ev(pad="x" * 10_000)), "malformed"),
]

FILE_KINDS: list[Kind] = [
    Kind(f"jsonl: {name}", _jsonl_line(line), (reason,))
    for name, line, reason in LINE_KINDS
    if name != "line over max_line_bytes"
] + [
    Kind(
        "jsonl: line over max_line_bytes",
        _jsonl_line(J(ev(pad="x" * 10_000))),
        ("malformed",),
        detail="max_line_bytes",
    ),
    Kind("jsonl: only blank lines", _write("h.jsonl", b"\n \n\t\r\n")),
    Kind("jsonl: zero bytes", _write("h.jsonl", b"")),
    Kind(
        "jsonl: BOM then event",
        _write("h.jsonl", b"\xef\xbb\xbf" + J(ev()).encode() + b"\n"),
        accepted=1,
    ),
    Kind("jsonl: CRLF line ends", _write("h.jsonl", J(ev()).encode() + b"\r\n"), accepted=1),
    Kind(
        "jsonl: whole file not UTF-8",
        _write("h.jsonl", b"\xff\xfe\n" + J(ev()).encode() + b"\n"),
        ("malformed",),
        accepted=1,
    ),
    Kind(
        "gzip: not gzip at all",
        _write("h.jsonl.gz", b"plain text"),
        ("malformed",),
        detail="decompress",
    ),
    Kind(
        "gzip: truncated",
        _write("h.jsonl.gz", gzip.compress(J(ev()).encode() * 50)[:30]),
        ("malformed",),
        detail="decompress",
    ),
    Kind(
        "gzip: bomb over max_file_bytes",
        _write("h.jsonl.gz", gzip.compress(b"\n" * 5_000_000)),
        ("malformed",),
        detail="max_file_bytes",
    ),
    Kind(
        "gzip: bomb in a second member",
        _write(
            "h.jsonl.gz", gzip.compress(J(ev()).encode() + b"\n") + gzip.compress(b" " * 1_000_000)
        ),
        ("malformed",),
        detail="max_file_bytes",
    ),
    Kind(
        "gzip: two members",
        _write(
            "h.jsonl.gz",
            gzip.compress(J(ev("m1")).encode() + b"\n")
            + gzip.compress(J(ev("m2")).encode() + b"\n"),
        ),
        accepted=2,
    ),
    Kind("gzip: zero bytes", _write("h.jsonl.gz", b"")),
    Kind(
        "gzip: trailing garbage",
        _write("h.jsonl.gz", gzip.compress(J(ev()).encode()) + b"garbage"),
        ("malformed",),
    ),
    Kind(
        "gzip: long line inside",
        _write("h.ndjson.gz", gzip.compress(J(ev(pad="x" * 10_000)).encode())),
        ("malformed",),
        detail="max_line_bytes",
    ),
    Kind(
        "gzip csv: bomb",
        _write("h.csv.gz", gzip.compress(b"event_id\n" + b"a\n" * 200_000)),
        ("malformed",),
        detail="max_file_bytes",
    ),
    Kind(
        "file: plain over max_file_bytes",
        _write("h.jsonl", (J(ev()) + "\n").encode() * 3000),
        ("malformed",),
        detail="max_file_bytes",
    ),
    Kind(
        "csv: huge integer timestamp cell",
        _write("h.csv", f"event_id,customer_id,meter,timestamp\nh1,c1,api_calls,{BIG}\n".encode()),
        ("invalid_timestamp",),
    ),
    Kind(
        "csv: header names a field twice",
        _write("h.csv", b"event_id,event_id\na,b\n"),
        ("malformed",),
    ),
    Kind(
        "csv: quote inside an unquoted cell (kept, RFC 4180 as the csv module reads it)",
        _write(
            "h.csv",
            b'event_id,customer_id,meter,timestamp\nh"1,c1,api_calls,' + TS.encode() + b"\n",
        ),
        accepted=1,
    ),
    Kind(
        "csv: unterminated quote",
        _write(
            "h.csv",
            b'event_id,customer_id,meter,timestamp\n"h1,c1,api_calls,' + TS.encode() + b"\n",
        ),
        ("malformed",),
    ),
    Kind(
        "csv: too many cells",
        _write(
            "h.csv",
            b"event_id,customer_id,meter,timestamp\nh1,c1,api_calls," + TS.encode() + b",x\n",
        ),
        ("malformed",),
    ),
    Kind("csv: header only", _write("h.csv", b"event_id,customer_id,meter,timestamp\n")),
    Kind(
        "csv: dimensions cell not JSON",
        _write(
            "h.csv",
            b"event_id,customer_id,meter,timestamp,dimensions\nh1,c1,api_calls,"
            + TS.encode()
            + b",[1]\n",
        ),
        ("invalid_type",),
    ),
    Kind(
        "csv: invalid UTF-8 row",
        _write(
            "h.csv",
            b"event_id,customer_id,meter,timestamp\nh\xff,c1,api_calls," + TS.encode() + b"\n",
        ),
        ("malformed",),
    ),
    Kind("csv: invalid UTF-8 header", _write("h.csv", b"event_\xff\n"), ("malformed",)),
    Kind(
        "csv: line over max_line_bytes",
        _write("h.csv", b"event_id\n" + b"x" * 10_000 + b"\n"),
        ("malformed",),
        detail="max_line_bytes",
    ),
    Kind(
        "csv: NUL in cell",
        _write(
            "h.csv",
            b"event_id,customer_id,meter,timestamp\nh\x001,c1,api_calls," + TS.encode() + b"\n",
        ),
        accepted=1,
    ),
    Kind(
        "csv: value NaN",
        _write(
            "h.csv",
            b"event_id,customer_id,meter,timestamp,value\nh1,c1,tokens," + TS.encode() + b",NaN\n",
        ),
        ("invalid_value",),
    ),
    Kind(
        "csv: BOM and CRLF",
        _write(
            "h.csv",
            b"\xef\xbb\xbfevent_id,customer_id,meter,timestamp\r\nh1,c1,api_calls,"
            + TS.encode()
            + b"\r\n",
        ),
        accepted=1,
    ),
    Kind(
        "parquet: dictionary-encoded strings",
        _write(
            "h.parquet",
            _parquet(pa.table({k: pa.array([v]).dictionary_encode() for k, v in ev().items()})),
        ),
        accepted=1,
    ),
    Kind(
        "parquet: row amplification",
        _write("h.parquet", _parquet(pa.table({"event_id": pa.array(["x"] * 40_000)}))),
        ("malformed",),
        detail="max_parquet_rows_per_kib",
    ),
    Kind(
        "parquet: over max_parquet_rows",
        _write("h.parquet", _parquet(pa.table({"event_id": pa.array(["x"] * 60_000)}))),
        ("malformed",),
        detail="max_parquet_rows",
    ),
    Kind("parquet: not parquet", _write("h.parquet", b"PAR1 not really PAR1"), ("malformed",)),
    Kind(
        "parquet: truncated",
        _write("h.parquet", _parquet(pa.table({k: [v] for k, v in ev().items()}))[:-20]),
        ("malformed",),
    ),
    Kind(
        "parquet: float value column",
        _write(
            "h.parquet",
            _parquet(pa.table({**{k: [v] for k, v in ev(meter="tokens").items()}, "value": [1.5]})),
        ),
        ("invalid_type",),
    ),
    Kind(
        "parquet: timestamp without zone",
        _write(
            "h.parquet",
            _parquet(
                pa.table(
                    {
                        **{k: [v] for k, v in ev().items()},
                        "timestamp": pa.array([0], pa.timestamp("us")),
                    }
                )
            ),
        ),
        ("invalid_type",),
    ),
    Kind(
        "parquet: int32 timestamp",
        _write(
            "h.parquet",
            _parquet(
                pa.table(
                    {**{k: [v] for k, v in ev().items()}, "timestamp": pa.array([1], pa.int32())}
                )
            ),
        ),
        ("invalid_type",),
    ),
    Kind(
        "parquet: struct dimensions",
        _write(
            "h.parquet",
            _parquet(
                pa.table({**{k: [v] for k, v in ev().items()}, "dimensions": pa.array([{"a": 1}])})
            ),
        ),
        ("invalid_type",),
    ),
    Kind(
        "parquet: zero rows",
        _write("h.parquet", _parquet(pa.table({"event_id": pa.array([], pa.string())}))),
    ),
    Kind("parquet: zero bytes", _write("h.parquet", b"")),
    Kind(
        "parquet: int64 timestamp far future",
        _write(
            "h.parquet",
            _parquet(
                pa.table(
                    {
                        **{k: [v] for k, v in ev().items()},
                        "timestamp": pa.array([2**62], pa.int64()),
                    }
                )
            ),
        ),
        ("invalid_timestamp",),
    ),
    Kind(
        "fs: link to the password file",
        _symlink("/etc/passwd"),
        skipped="symbolic link (not followed)",
    ),
    Kind(
        "fs: link to events outside the root",
        _outside_events,
        skipped="symbolic link (not followed)",
    ),
    Kind(
        "fs: link to a folder",
        _symlink("/tmp", "dir.jsonl"),
        skipped="symbolic link (not followed)",
    ),
    Kind(
        "fs: dangling link",
        _symlink("/nonexistent/x.jsonl"),
        skipped="symbolic link (not followed)",
    ),
    Kind("fs: link to /dev/zero", _symlink("/dev/zero"), skipped="symbolic link (not followed)"),
    Kind("fs: FIFO", _fifo, skipped="not a regular file"),
    Kind("fs: socket", _socket, skipped="not a regular file"),
    Kind("fs: sub-folder with a landing name", _subfolder, skipped="sub-folder"),
    Kind("fs: name not valid UTF-8", _bad_name, skipped="name is not valid UTF-8 (listed escaped)"),
    Kind("fs: dot file", _write(".h.jsonl", J(ev()).encode()), skipped="not a landing file name"),
    Kind(
        "fs: underscore file",
        _write("_h.jsonl", J(ev()).encode()),
        skipped="not a landing file name",
    ),
    Kind(
        "fs: upper-case suffix",
        _write("h.JSONL", J(ev()).encode()),
        skipped="not a landing file name",
    ),
    Kind(
        "fs: bare suffix name",
        _write(".jsonl", J(ev()).encode()),
        skipped="not a landing file name",
    ),
]
