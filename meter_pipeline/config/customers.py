"""``reference/customers.csv``: subscriptions — which customer is on which plan, when
(docs/rules.md#11-reference-files, docs/rules.md#7-pricing).

``customer_id,customer_name,plan_id,start_date,end_date``: one row per subscription, dates
``YYYY-MM-DD`` and inclusive, an empty ``end_date`` is open-ended.

Choices the rules leave open:

- The file is read by the rule of every reference CSV file (see
  :func:`meter_pipeline.config.errors.parse_csv_rows`): a row is named by the line of the file
  it starts on (the header is line 1, the first data row line 2), blank lines are skipped,
  cells are taken as written (no trimming), extra columns are ignored, a UTF-8 byte order mark is
  ignored.
- ``customer_name`` may be empty; ``customer_id``, ``plan_id`` and ``start_date`` may not.
- A customer's ``customer_name`` may differ between rows (a rename); each row keeps its own.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from meter_pipeline.config.errors import (
    ConfigError,
    CsvLayout,
    CsvRows,
    line,
    parse_csv_rows,
    read_csv_rows,
)
from meter_pipeline.config.pricing import PricingConfig
from meter_pipeline.grammar import DATE

FILE = "reference/customers.csv"
COLUMNS = ("customer_id", "customer_name", "plan_id", "start_date", "end_date")
LAYOUT = CsvLayout(
    FILE,
    COLUMNS,
    no_header="the header {expected} is missing",
    missing="the header lacks column(s) {missing}",
    twice="the header names a column twice",
)
_DATE = re.compile(DATE + r"\Z")  # YYYY-MM-DD, as in an RFC 3339 timestamp


@dataclass(frozen=True)
class Subscription:
    """One row of customers.csv: ``customer_id`` on ``plan_id`` from start to end, inclusive."""

    customer_id: str
    customer_name: str
    plan_id: str
    start_date: dt.date
    end_date: dt.date | None
    line: int = 0  # the line of customers.csv the row is on (0: not from the file)

    def covers(self, day: dt.date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)

    def active_days(self, first: dt.date, last: dt.date) -> int:
        """Days of [first, last] inside the subscription (0 when they do not overlap)."""
        start = max(first, self.start_date)
        end = last if self.end_date is None else min(last, self.end_date)
        return max((end - start).days + 1, 0)


def _parse_date(text: str, where: str, column: str, *, required: bool) -> dt.date | None:
    if text == "" and not required:
        return None
    if not _DATE.match(text):
        raise ConfigError(FILE, where, f"{column} must be a date YYYY-MM-DD, got {text!r}")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(FILE, where, f"{column} {text!r} is not a calendar date") from None


def _parse_row(cells: dict[str, str], number: int, pricing: PricingConfig) -> Subscription:
    where = line(number)
    for column in ("customer_id", "plan_id"):
        if not cells[column]:
            raise ConfigError(FILE, where, f"{column} is empty")
    plan_id = cells["plan_id"]
    if plan_id not in pricing.plans:
        raise ConfigError(FILE, where, f"unknown plan {plan_id!r} (not in reference/pricing.yaml)")
    start = _parse_date(cells["start_date"], where, "start_date", required=True)
    end = _parse_date(cells["end_date"], where, "end_date", required=False)
    if end is not None and end < start:
        raise ConfigError(FILE, where, f"end_date {end} is before start_date {start}")
    return Subscription(cells["customer_id"], cells["customer_name"], plan_id, start, end, number)


def _check_customer(subs: list[Subscription], pricing: PricingConfig) -> None:
    """One currency per customer; no two subscriptions share a day."""
    first = subs[0]
    currency = pricing.plans[first.plan_id].currency
    for sub in subs[1:]:
        other = pricing.plans[sub.plan_id].currency
        if other != currency:
            raise ConfigError(
                FILE,
                line(sub.line),
                f"customer {sub.customer_id!r} mixes "
                f"currencies: plan {sub.plan_id!r} is {other} but {line(first.line)} "
                f"is {currency}",
            )
    ordered = sorted(subs, key=lambda s: (s.start_date, s.line))
    for before, after in pairwise(ordered):
        if before.end_date is None or after.start_date <= before.end_date:
            late, early = sorted((before, after), key=lambda s: s.line, reverse=True)
            raise ConfigError(
                FILE,
                line(late.line),
                f"subscription of customer {after.customer_id!r} overlaps {line(early.line)}",
            )


def _subscriptions(rows: CsvRows, pricing: PricingConfig) -> tuple[Subscription, ...]:
    by_customer: dict[str, list[Subscription]] = {}
    for row, cells in rows:
        sub = _parse_row(cells, row, pricing)
        by_customer.setdefault(sub.customer_id, []).append(sub)
    for subs in by_customer.values():
        _check_customer(subs, pricing)
    every = (s for subs in by_customer.values() for s in subs)
    return tuple(sorted(every, key=lambda s: (s.customer_id, s.start_date)))


def parse_customers(text: str, pricing: PricingConfig) -> tuple[Subscription, ...]:
    """Validate customers.csv text (see :func:`load_customers`)."""
    return _subscriptions(parse_csv_rows(text, LAYOUT), pricing)


def load_customers(root: str | Path, pricing: PricingConfig) -> tuple[Subscription, ...]:
    """Load ``<root>/reference/customers.csv``, sorted by (customer_id, start_date).

    Raises
    ------
    ConfigError
        ``reference/customers.csv: row N: <rule>`` for an unknown plan, a bad date, an end before
        the start, overlapping subscriptions of a customer, or mixed currencies of a customer.
    """
    return _subscriptions(read_csv_rows(root, LAYOUT, required=True), pricing)
