"""``reference/customers.csv``: subscriptions — which customer is on which plan, when (SPEC §6.3).

``customer_id,customer_name,plan_id,start_date,end_date``: one row per subscription, dates
``YYYY-MM-DD`` and inclusive, an empty ``end_date`` is open-ended.

Choices where SPEC is silent:

- Rows are numbered like event CSV files: the header is row 0, data rows count from 1 and
  blank lines are skipped without being counted.
- Cells are taken as written (no trimming); extra columns are ignored; blank lines are skipped;
  a UTF-8 byte order mark is ignored.
- ``customer_name`` may be empty; ``customer_id``, ``plan_id`` and ``start_date`` may not.
- A customer's ``customer_name`` may differ between rows (a rename); each row keeps its own.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

from meter_pipeline.config.errors import ConfigError
from meter_pipeline.config.pricing import PricingConfig

FILE = "reference/customers.csv"
COLUMNS = ("customer_id", "customer_name", "plan_id", "start_date", "end_date")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


@dataclass(frozen=True)
class Subscription:
    """One row of customers.csv: ``customer_id`` on ``plan_id`` from start to end, inclusive."""

    customer_id: str
    customer_name: str
    plan_id: str
    start_date: dt.date
    end_date: dt.date | None
    row: int = 0

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


def _parse_row(cells: dict[str, str], row: int, pricing: PricingConfig) -> Subscription:
    where = f"row {row}"
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
    return Subscription(cells["customer_id"], cells["customer_name"], plan_id, start, end, row)


def _check_customer(subs: list[Subscription], pricing: PricingConfig) -> None:
    """One currency per customer; no two subscriptions share a day."""
    first = subs[0]
    currency = pricing.plans[first.plan_id].currency
    for sub in subs[1:]:
        other = pricing.plans[sub.plan_id].currency
        if other != currency:
            raise ConfigError(FILE, f"row {sub.row}", f"customer {sub.customer_id!r} mixes "
                              f"currencies: plan {sub.plan_id!r} is {other} but row {first.row} "
                              f"is {currency}")
    ordered = sorted(subs, key=lambda s: (s.start_date, s.row))
    for before, after in zip(ordered, ordered[1:]):
        if before.end_date is None or after.start_date <= before.end_date:
            late, early = sorted((before, after), key=lambda s: s.row, reverse=True)
            raise ConfigError(FILE, f"row {late.row}", f"subscription of customer "
                              f"{after.customer_id!r} overlaps row {early.row}")


def parse_customers(text: str, pricing: PricingConfig) -> tuple[Subscription, ...]:
    """Validate customers.csv text (see :func:`load_customers`)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = next(reader, None)
    if header is None:
        raise ConfigError(FILE, "row 0", f"the header {','.join(COLUMNS)} is missing")
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ConfigError(FILE, "row 0", f"the header lacks column(s) {', '.join(missing)}")
    if len(set(header)) != len(header):
        raise ConfigError(FILE, "row 0", "the header names a column twice")
    by_customer: dict[str, list[Subscription]] = {}
    row = 0
    for cells in reader:
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # a blank line: skipped and not counted
        row += 1
        if len(cells) != len(header):
            raise ConfigError(FILE, f"row {row}", f"has {len(cells)} cells, the header has "
                              f"{len(header)}")
        sub = _parse_row(dict(zip(header, cells)), row, pricing)
        by_customer.setdefault(sub.customer_id, []).append(sub)
    for subs in by_customer.values():
        _check_customer(subs, pricing)
    every = (s for subs in by_customer.values() for s in subs)
    return tuple(sorted(every, key=lambda s: (s.customer_id, s.start_date)))


def load_customers(root: str | Path, pricing: PricingConfig) -> tuple[Subscription, ...]:
    """Load ``<root>/reference/customers.csv``, sorted by (customer_id, start_date).

    Raises
    ------
    ConfigError
        ``reference/customers.csv: row N: <rule>`` for an unknown plan, a bad date, an end before
        the start, overlapping subscriptions of a customer, or mixed currencies of a customer.
    """
    path = Path(root) / FILE
    if not path.exists():
        raise ConfigError(FILE, "(file)", "is required but does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(FILE, "(file)", "is not valid UTF-8") from None
    try:
        return parse_customers(text, pricing)
    except csv.Error as exc:
        raise ConfigError(FILE, "(file)", f"is not valid CSV ({exc})") from None
