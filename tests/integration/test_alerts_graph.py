"""SPEC §10, §17 Alerts: usage and cost alerts through the Dagster graph, and the webhook against a
real HTTP receiver on 127.0.0.1.

The root (worked by hand; grace_days 3, so landing day 2026-09-02 evaluates 2026-09 only):

| landing day | acme events                                                                  |
|-------------|------------------------------------------------------------------------------|
| 2026-09-01  | api_calls ×2, tokens 5, storage 10, seats 7 (at 10:00), users u1             |
| 2026-09-02  | api_calls ×1, tokens 6, storage 4, seats 3 (at 12:00), users u1              |
| 2026-09-03  | api_calls ×1, seats 9 (at 08:00, earlier than 3: not the latest), users u2   |

Figures per day: api_calls 2, 3, 4; tokens 5, 11, 11; storage 10, 10, 10; seats 7, 3, 3;
users 1, 1, 2. Plan "basic": platform fee 100.00, api_calls at 1.00 each, minimum 500 (not in
the cost figure): cost 102, 103, 104.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import polars as pl
import pytest

from meter_pipeline.config.errors import ConfigError
from meter_pipeline.config.reference import load_reference
from meter_pipeline.definitions import build_definitions
from meter_pipeline.io import warehouse
from meter_pipeline.io.webhook import redact_url

D = Decimal
DAYS = ["2026-09-01", "2026-09-02", "2026-09-03"]
METERS = """\
meters:
  - {name: api_calls, aggregation: count}
  - {name: tokens, aggregation: sum}
  - {name: storage, aggregation: max}
  - {name: seats, aggregation: latest}
  - {name: users, aggregation: unique_count, unique_dimension: user_id}
"""
PRICING = """\
grace_days: 3
plans:
  - id: basic
    currency: USD
    platform_fees: [{service: cloud, amount: "100.00"}]
    minimum_commitment: "500.00"
    charges:
      - {id: api, meter: api_calls, model: per_unit, unit_price: "1.00"}
"""
ALERTS = """\
customer_id,meter,threshold_kind,threshold
acme,api_calls,usage,3
acme,tokens,usage,11
acme,storage,usage,10
acme,seats,usage,5
acme,seats,usage,8
acme,users,usage,2
acme,,cost,103
acme,,cost,103.0
nobody,,cost,1
nobody,api_calls,usage,1
"""
EXPECTED = {  # (meter or currency, threshold) → (landing day, value)
    ("api_calls", D(3)): ("2026-09-02", D(3)),
    ("tokens", D(11)): ("2026-09-02", D(11)),
    ("storage", D(10)): ("2026-09-01", D(10)),
    ("seats", D(5)): ("2026-09-01", D(7)),
    ("users", D(2)): ("2026-09-03", D(2)),
    ("USD", D(103)): ("2026-09-02", D(103)),
}


def _event(n, meter, time, value=None, dims=None):
    line = {"event_id": f"{meter}-{n}", "customer_id": "acme", "meter": meter, "timestamp": time}
    if value is not None:
        line["value"] = value
    if dims:
        line["dimensions"] = dims
    return json.dumps(line)


LANDING = {
    "2026-09-01": [
        _event(1, "api_calls", "2026-09-01T01:00:00Z"),
        _event(2, "api_calls", "2026-09-01T02:00:00Z"),
        _event(1, "tokens", "2026-09-01T03:00:00Z", "5"),
        _event(1, "storage", "2026-09-01T04:00:00Z", "10"),
        _event(1, "seats", "2026-09-01T10:00:00Z", "7"),
        _event(1, "users", "2026-09-01T05:00:00Z", dims={"user_id": "u1"}),
    ],
    "2026-09-02": [
        _event(3, "api_calls", "2026-09-02T01:00:00Z"),
        _event(2, "tokens", "2026-09-02T03:00:00Z", "6"),
        _event(2, "storage", "2026-09-02T04:00:00Z", "4"),
        _event(2, "seats", "2026-09-02T12:00:00Z", "3"),
        _event(2, "users", "2026-09-02T05:00:00Z", dims={"user_id": "u1"}),
    ],
    "2026-09-03": [
        _event(4, "api_calls", "2026-09-03T01:00:00Z"),
        _event(3, "seats", "2026-09-02T08:00:00Z", "9"),
        _event(3, "users", "2026-09-03T05:00:00Z", dims={"user_id": "u2"}),
    ],
}


def write_root(path: Path) -> Path:
    ref = path / "reference"
    ref.mkdir(parents=True)
    (ref / "meters.yaml").write_text(METERS)
    (ref / "pricing.yaml").write_text(PRICING)
    (ref / "customers.csv").write_text(
        "customer_id,customer_name,plan_id,start_date,end_date\nacme,Acme,basic,2026-01-01,\n"
    )
    (ref / "alerts.csv").write_text(ALERTS)
    for day, lines in LANDING.items():
        folder = path / "landing" / "events" / day
        folder.mkdir(parents=True)
        (folder / "events.jsonl").write_text("\n".join(lines) + "\n")
    return path


def run(root: Path, keys: list[str], instance):
    """The daily job over the landing days ``keys`` (a range), as a backfill runs it."""
    job = build_definitions(str(root)).resolve_job_def("daily_ingestion")
    tags = {
        "dagster/asset_partition_range_start": keys[0],
        "dagster/asset_partition_range_end": keys[-1],
    }
    return job.execute_in_process(instance=instance, tags=tags, raise_on_error=False)


def fired(root: Path) -> dict:
    frame = warehouse.scan_partitions(root, "usage_alerts", DAYS).collect()
    return {
        (r["meter"] or r["currency"], r["threshold"]): (str(r["landing_date"]), r["value"])
        for r in frame.iter_rows(named=True)
    }


def test_alerts_fire_once_on_the_first_day_at_or_over_the_threshold(tmp_path, instance):
    root = write_root(tmp_path)
    result = run(root, DAYS, instance)
    assert result.success
    assert fired(root) == EXPECTED
    per_day = [
        m.metadata["alerts"].value for m in result.asset_materializations_for_node("usage_alerts")
    ]
    assert [len(listed) for listed in per_day] == [2, 3, 1]
    assert "2026-09 acme cost USD ≥ 103: 103 (landed 2026-09-02)" in per_day[1]
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["usage_alerts_reported"] is False and checks["usage_alerts_delivered"] is True


@pytest.mark.slow
def test_the_result_does_not_depend_on_the_order_days_are_materialized_in(tmp_path, instance):
    root = write_root(tmp_path)
    run(root, DAYS, instance)
    before = {day: warehouse.scan_partitions(root, "usage_alerts", [day]).collect() for day in DAYS}
    for day in reversed(DAYS):  # each day alone, newest first, and again
        assert run(root, [day], instance).success
        assert run(root, [day], instance).success
    for day in DAYS:
        after = warehouse.scan_partitions(root, "usage_alerts", [day]).collect()
        assert after.equals(before[day])


@pytest.mark.parametrize(
    "row, rule",
    [
        ("acme,api_calls,usage,0", "must be > 0"),
        ("acme,api_calls,usage,-1", "must be > 0"),
        ("acme,nope,usage,1", "not in reference/meters.yaml"),
        ("acme,api_calls,cost,1", "leave meter empty"),
        ("acme,,usage,1", "names its meter"),
        ("acme,api_calls,spend,1", "usage or cost"),
        ("acme,api_calls,usage,1.0000000001", "at most 9 decimal places"),
    ],
)
def test_a_bad_alert_row_is_a_configuration_error(tmp_path, row, rule):
    root = write_root(tmp_path)
    (root / "reference" / "alerts.csv").write_text(
        f"customer_id,meter,threshold_kind,threshold\n{row}\n"
    )
    with pytest.raises(ConfigError, match=rule) as err:
        load_reference(root)
    assert str(err.value).startswith("reference/alerts.csv: line 2: ")


def test_no_alerts_file_means_no_alerts_and_identical_rows_are_one(tmp_path):
    root = write_root(tmp_path)
    assert len(load_reference(root).alerts) == 9  # 10 rows, 103 and 103.0 are one alert
    (root / "reference" / "alerts.csv").unlink()
    assert load_reference(root).alerts == ()


class Receiver:
    """A real HTTP server on 127.0.0.1 that fails the first ``failures`` requests with 503."""

    def __init__(self, failures: int = 0):
        self.failures, self.requests = failures, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body, self.path))
                failing = len(receiver.requests) <= receiver.failures
                self.send_response(503 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def url(self, secret_query: str = "") -> str:
        return f"http://hook-user:pa55word@127.0.0.1:{self.server.server_port}/alerts{secret_query}"


def test_the_webhook_retries_failures_signs_and_never_resends_on_a_rerun(
    tmp_path, instance, monkeypatch, capfd
):
    root = write_root(tmp_path)
    with Receiver(failures=2) as receiver:
        monkeypatch.setenv("ALERT_WEBHOOK_URL", receiver.url("?token=s3cr3t"))
        monkeypatch.setenv("ALERT_WEBHOOK_SECRET", "hmac-key")
        monkeypatch.setenv("ALERT_WEBHOOK_BACKOFF_SECONDS", "0.01")
        result = run(root, DAYS, instance)
        assert result.success
        assert len(receiver.requests) == 6 + 2  # the first alert took three attempts
        bodies = {
            json.loads(body)["alert_id"]: (headers, body) for headers, body, _ in receiver.requests
        }
        assert len(bodies) == 6
        for alert_id, (headers, body) in bodies.items():
            assert headers["Idempotency-Key"] == alert_id
            digest = hmac.new(b"hmac-key", body, hashlib.sha256).hexdigest()
            assert headers["X-Meter-Pipeline-Signature"] == f"sha256={digest}"
        cost = next(
            json.loads(b) for _, b in bodies.values() if json.loads(b)["threshold_kind"] == "cost"
        )
        assert (cost["value"], cost["currency"], cost["landing_date"]) == (
            "103.000000000",
            "USD",
            "2026-09-02",
        )
        assert {path for _, _, path in receiver.requests} == {"/alerts?token=s3cr3t"}
        sent = len(receiver.requests)
        assert run(root, DAYS, instance).success
        assert run(root, ["2026-09-02"], instance).success
        assert len(receiver.requests) == sent  # re-runs send nothing new
        checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert checks["usage_alerts_delivered"] is True
    out = capfd.readouterr()
    for secret in ("s3cr3t", "pa55word", "hmac-key"):
        assert secret not in out.out + out.err
        metadata = [m.metadata for m in result.asset_materializations_for_node("usage_alerts")]
        assert secret not in str(metadata)


def test_a_delivery_that_keeps_failing_warns_is_recorded_and_is_retried_next_run(
    tmp_path, instance, monkeypatch
):
    root = write_root(tmp_path)
    monkeypatch.setenv("ALERT_WEBHOOK_BACKOFF_SECONDS", "0.01")
    with Receiver(failures=1000) as down:
        monkeypatch.setenv("ALERT_WEBHOOK_URL", down.url())
        result = run(root, DAYS, instance)
        assert result.success  # a warning, not a failed run
        assert len(down.requests) == 6 * 4  # six alerts, four attempts each
        checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert checks["usage_alerts_delivered"] is False
    records = pl.read_parquet(root / "warehouse" / "_alert_deliveries" / "*" / "*.parquet")
    assert records["status"].to_list() == ["failed"] * 6
    assert records["http_status"].to_list() == [503] * 6
    assert not any("pa55word" in e for e in records["error"].to_list())
    with Receiver() as up:
        monkeypatch.setenv("ALERT_WEBHOOK_URL", up.url())
        assert run(root, ["2026-09-03"], instance).success  # the next run retries them
        assert len(up.requests) == 6
        assert run(root, ["2026-09-03"], instance).success
        assert len(up.requests) == 6
    records = pl.read_parquet(root / "warehouse" / "_alert_deliveries" / "*" / "*.parquet")
    assert set(records["status"]) == {"delivered"}


def test_redact_url_drops_user_info_query_and_fragment():
    url = "https://user:pw@hooks.example.com:8443/a/b?token=x#frag"
    assert redact_url(url) == "https://hooks.example.com:8443/a/b"
