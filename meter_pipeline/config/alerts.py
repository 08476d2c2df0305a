"""``reference/alerts.csv``: usage and cost thresholds per customer
(docs/alerts-and-formats.md#usage-and-cost-alerts).

``customer_id,meter,threshold_kind,threshold``, one alert per row:

- ``usage``: the period-to-date quantity of ``meter`` (a meter of meters.yaml) reaches
  ``threshold`` (in the meter's unit);
- ``cost``: the period-to-date invoice subtotal reaches ``threshold`` (in the customer's currency);
  ``meter`` is empty.

The file is optional (absent: no alerts) and read by the rule of every reference CSV file
(:func:`meter_pipeline.config.errors.parse_csv_rows`). ``threshold`` is a decimal string > 0 with
at most 9 decimal places (it is stored as decimal(38, 9)). Rows that are the same alert (same
customer, meter, kind and threshold value: ``100`` and ``100.0`` are one) count once. Customers
need not be in customers.csv: usage alerts work for any customer, and a cost alert of a customer
not invoiced in a period never fires in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from meter_pipeline.config.charges import require_decimal
from meter_pipeline.config.errors import ConfigError, CsvLayout, CsvRows, line, read_csv_rows
from meter_pipeline.config.meters import MetersConfig

FILE = "reference/alerts.csv"
COLUMNS = ("customer_id", "meter", "threshold_kind", "threshold")
LAYOUT = CsvLayout(FILE, COLUMNS)
KINDS = ("usage", "cost")


@dataclass(frozen=True, order=True)
class Alert:
    """One threshold: ``meter`` is None for a cost alert."""

    customer_id: str
    threshold_kind: str
    meter: str | None
    threshold: Decimal


def _parse_row(cells: dict[str, str], number: int, meters: MetersConfig) -> Alert:
    where = line(number)
    customer, meter, kind = cells["customer_id"], cells["meter"], cells["threshold_kind"]
    if not customer:
        raise ConfigError(FILE, where, "customer_id is empty")
    if kind not in KINDS:
        raise ConfigError(FILE, where, f"threshold_kind must be usage or cost, got {kind!r}")
    if kind == "usage":
        if not meter:
            raise ConfigError(FILE, where, "a usage alert names its meter")
        if meter not in meters.meters:
            raise ConfigError(FILE, where, f"meter {meter!r} is not in reference/meters.yaml")
    elif meter:
        raise ConfigError(
            FILE,
            where,
            f"a cost alert is on the invoice subtotal: leave meter empty, got {meter!r}",
        )
    threshold = require_decimal(
        cells["threshold"], FILE, f"{where}: threshold", positive=True, max_scale=9
    )
    return Alert(customer, kind, meter or None, threshold)


def parse_alert_rows(rows: CsvRows, meters: MetersConfig) -> tuple[Alert, ...]:
    """The alerts of the file's rows, each once, sorted."""
    return tuple(sorted({_parse_row(cells, number, meters) for number, cells in rows}))


def load_alerts(root: str | Path, meters: MetersConfig) -> tuple[Alert, ...]:
    """Load ``<root>/reference/alerts.csv``; ``()`` when the file does not exist.

    Raises
    ------
    ConfigError
        ``reference/alerts.csv: line N: <rule>`` (N the file's line, the header being line 1)
        for an unknown kind, a threshold ≤ 0 or not a decimal, a usage row without a known
        meter, or a cost row naming a meter.
    """
    rows = read_csv_rows(root, LAYOUT, required=False)
    return () if rows is None else parse_alert_rows(rows, meters)
