"""POST alerts to a webhook (docs/alerts-and-formats.md#usage-and-cost-alerts): one JSON request per
alert, retried with backoff, each delivery recorded in the warehouse so that no alert is sent twice.

- The body is the alert as a JSON object with sorted keys (:func:`alert_body`); its
  ``Idempotency-Key`` header is the alert's identity (``alert_id``), so a receiver can drop a
  repeat (a retry after a lost response).
- With a secret (``ALERT_WEBHOOK_SECRET``), ``X-Meter-Pipeline-Signature: sha256=<hex>`` holds the
  HMAC-SHA256 of the body.
- A request is retried on a network error, a timeout, 408, 429 and 5xx, with exponential
  backoff (``backoff``, 2 × ``backoff``, 4 × ``backoff`` … seconds); another 4xx is not retried
  (sending it again would not help). A delivery that still fails is recorded as ``failed`` and
  retried by the next run.
- Records live in ``warehouse/_alert_deliveries/alert_id=<id>/part-0.parquet`` (one row, written
  atomically like any partition): a ``delivered`` alert is never sent again.
- The URL's user info and query (where tokens live) and the secret never appear in a record, a
  log line or an error: :func:`redact_url`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import polars as pl

from meter_pipeline.io import warehouse

TABLE = "_alert_deliveries"
COLUMN = "alert_id"
RECORD_SCHEMA = pl.Schema(
    {
        "alert_id": pl.String,
        "status": pl.String,  # delivered | failed
        "attempts": pl.Int64,
        "http_status": pl.Int64,
        "error": pl.String,
        "body": pl.String,  # the JSON sent: a failed delivery is retried with it
    }
)
RETRY_STATUSES = frozenset({408, 429})
SIGNATURE_HEADER = "X-Meter-Pipeline-Signature"


def redact_url(url: str) -> str:
    """``scheme://host[:port]/path``: without user info, query or fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(invalid URL)"
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))


def alert_body(row: dict[str, Any]) -> str:
    """The JSON of one ``usage_alerts`` row: decimals and dates as strings, keys sorted."""
    return json.dumps(
        {k: (None if v is None else v if isinstance(v, str) else str(v)) for k, v in row.items()},
        sort_keys=True,
        separators=(",", ":"),
    )


@dataclass(frozen=True)
class Outcome:
    alert_id: str
    status: str
    attempts: int
    http_status: int | None
    error: str | None
    body: str


@dataclass
class Webhook:
    """Where and how to POST: ``url`` (kept out of every message), an optional HMAC ``secret``."""

    url: str
    secret: str | None = None
    attempts: int = 4
    backoff: float = 1.0
    timeout: float = 10.0
    sleep: Callable[[float], None] = time.sleep

    def _scrub(self, text: str) -> str:
        for secret in (self.url, self.secret):
            if secret:
                text = text.replace(secret, redact_url(self.url) if secret == self.url else "***")
        return text

    def post(self, client: httpx.Client, alert_id: str, body: str) -> Outcome:
        headers = {"Content-Type": "application/json", "Idempotency-Key": alert_id}
        if self.secret:
            digest = hmac.new(self.secret.encode(), body.encode(), hashlib.sha256).hexdigest()
            headers[SIGNATURE_HEADER] = f"sha256={digest}"
        status: int | None = None
        error: str | None = None
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                self.sleep(self.backoff * 2 ** (attempt - 2))
            try:
                response = client.post(self.url, content=body.encode(), headers=headers)
            except httpx.HTTPError as exc:  # network errors and timeouts
                status, error = None, self._scrub(f"{type(exc).__name__}: {exc}")[:300]
                continue
            status = response.status_code
            if 200 <= status < 300:
                return Outcome(alert_id, "delivered", attempt, status, None, body)
            error = f"HTTP {status} from {redact_url(self.url)}"
            if status < 500 and status not in RETRY_STATUSES:
                return Outcome(alert_id, "failed", attempt, status, error, body)
        return Outcome(alert_id, "failed", self.attempts, status, error, body)


def read_record(root: Path, alert_id: str) -> dict[str, Any] | None:
    found = warehouse.read_stored(root, TABLE, alert_id, COLUMN)
    return None if found is None else found.row(0, named=True)


def failed_ids(root: Path) -> list[str]:
    """Alerts whose last delivery failed, to be retried."""
    return [
        key
        for key in warehouse.existing_keys(root, TABLE, COLUMN)
        if (record := read_record(root, key)) is not None and record["status"] == "failed"
    ]


def write_record(root: Path, outcome: Outcome) -> None:
    row = {
        "alert_id": outcome.alert_id,
        "status": outcome.status,
        "attempts": outcome.attempts,
        "http_status": outcome.http_status,
        "error": outcome.error,
        "body": outcome.body,
    }
    frame = pl.DataFrame([row], schema=RECORD_SCHEMA)
    warehouse.write_partition(root, TABLE, outcome.alert_id, frame, column=COLUMN)


def deliver(root: Path, webhook: Webhook, bodies: dict[str, str]) -> list[Outcome]:
    """Send each alert (``alert_id`` → body) not delivered yet, and every earlier failed one;
    record each outcome. Returns the outcomes of the requests made, in alert_id order."""
    pending = dict(bodies)
    for key in failed_ids(root):
        record = read_record(root, key)
        if record is not None:
            pending.setdefault(key, record["body"])
    outcomes = []
    with httpx.Client(timeout=webhook.timeout, follow_redirects=False) as client:
        for key in sorted(pending):
            record = read_record(root, key)
            if record is not None and record["status"] == "delivered":
                continue
            outcome = webhook.post(client, key, pending[key])
            write_record(root, outcome)
            outcomes.append(outcome)
    return outcomes
