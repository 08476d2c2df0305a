"""A small real data root for running the Dagster graph end to end: meters.yaml and three landing
days (JSONL and gzip) with duplicates, a re-sent id with another value and a malformed line."""

import gzip
import json
from pathlib import Path

METERS = """\
max_event_age_days: 35
future_tolerance: 1h
dedup_window_days: 40
meters:
  - {name: api_calls, aggregation: count}
  - {name: llm_tokens, aggregation: sum, required_dimensions: [model]}
"""


def event(eid, day, meter="api_calls", value=None, customer="c1", **dims):
    e = {"event_id": eid, "customer_id": customer, "meter": meter, "timestamp": f"{day}T12:00:00Z"}
    if value is not None:
        e["value"] = value
    if dims:
        e["dimensions"] = dims
    return json.dumps(e)


def write_root(root: Path) -> Path:
    (root / "reference").mkdir(parents=True)
    (root / "reference" / "meters.yaml").write_text(METERS)
    days = {
        "2026-09-01": {
            "a.jsonl": [
                event("e1", "2026-09-01"),
                event("t1", "2026-09-01", "llm_tokens", "0.1", model="m"),
                event("e1", "2026-09-01"),
                "not json",
            ]
        },
        "2026-09-02": {
            "b.jsonl.gz": [
                event("e1", "2026-09-01"),
                event("t2", "2026-09-02", "llm_tokens", "0.2", model="m"),
            ]
        },
        "2026-09-03": {
            "c.jsonl": [
                event("e3", "2026-09-03"),
                event("t2", "2026-09-02", "llm_tokens", "9", model="m"),
            ]
        },
    }
    for day, files in days.items():
        folder = root / "landing" / "events" / day
        folder.mkdir(parents=True)
        for name, lines in files.items():
            data = ("\n".join(lines) + "\n").encode()
            (folder / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return root
