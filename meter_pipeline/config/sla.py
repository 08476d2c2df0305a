"""``reference/sla.yaml`` and the SLA's CSV files (docs/rules.md#11-reference-files,
docs/rules.md#8-uptime-and-sla-credits, docs/rules.md#sla-claims), validated.

- ``sla.yaml`` is required. Every key but ``services`` has the default listed in
  docs/rules.md#11-reference-files. Numbers that are percentages are decimal strings (a YAML integer
  is accepted, it is exact; a YAML float such as ``99.9`` is refused: it has already been through
  binary floating point). When ``credit_schedule`` is present it replaces ``shortfall_rounding``,
  ``credit_per_point_pct`` and ``max_credit_pct`` (they are still validated when given). A ladder
  step's ``below`` may not exceed the target (it would credit a month that met it) and a lower
  ``below`` may not give a smaller credit.
- ``maintenance.csv`` and ``excused_downtime.csv`` may be absent (no windows, no incidents);
  ``sla_claims.csv`` is optional. They are read by the rule of every reference CSV file (see
  :func:`meter_pipeline.config.errors.parse_csv_rows`): extra columns are allowed (notes, ticket
  ids) and ignored; blank lines are skipped; a row is named by the line of the file it starts on
  (the header is line 1, the first data row line 2).
- A row's ``service`` must be a service of sla.yaml, or ``*`` (all services) in maintenance and
  excused downtime. A claim names one service; a claim naming a service that is not in sla.yaml
  (or a customer or period with no credit) is loaded and simply matches no credit: the month
  close counts it and warns (``sla_claims_matched``), it does not stop billing. A maintenance
  window announced too late and an incident whose cause is not in ``excused_causes`` are valid
  rows that excuse nothing (see :mod:`meter_pipeline.sla.excused`): the policy, not the loader,
  decides.
- Times are RFC 3339 (docs/rules.md#2-an-event), kept as UTC ``datetime`` at microsecond precision.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

from data_contracts.base import PERIOD_PATTERN
from meter_pipeline.config.errors import (
    ConfigError,
    CsvLayout,
    CsvRows,
    line,
    read_csv_rows,
    read_yaml,
    reject_unknown_keys,
    require_int,
    require_str,
)
from meter_pipeline.grammar import EPOCH, parse_rfc3339_us
from meter_pipeline.money import parse_decimal

SLA_FILE = "reference/sla.yaml"
MAINTENANCE_FILE = "reference/maintenance.csv"
EXCUSED_FILE = "reference/excused_downtime.csv"
CLAIMS_FILE = "reference/sla_claims.csv"
MAINTENANCE = CsvLayout(MAINTENANCE_FILE, ("service", "start", "end", "announced_at"))
EXCUSED = CsvLayout(EXCUSED_FILE, ("service", "start", "end", "cause"))
CLAIMS = CsvLayout(CLAIMS_FILE, ("customer_id", "service", "billing_period", "submitted_at"))
ALL_SERVICES = "*"
SHORTFALL_ROUNDINGS = ("floor", "ceil", "exact")
DEFAULT_CAUSES = ("customer_network", "third_party", "force_majeure", "suspension", "misuse")
_PERIOD = re.compile(PERIOD_PATTERN)  # fullmatch: no newline may follow
_TOP = {
    "services",
    "target_uptime_pct",
    "maintenance_notice_hours",
    "excused_causes",
    "shortfall_rounding",
    "credit_per_point_pct",
    "max_credit_pct",
    "credit_schedule",
    "require_claim",
    "claim_window_days",
    "min_coverage_pct",
}


@dataclass(frozen=True)
class LadderStep:
    """Uptime strictly under ``below`` earns ``credit_pct`` (the lowest such step wins)."""

    below: Decimal
    credit_pct: Decimal


@dataclass(frozen=True)
class SlaPolicy:
    services: tuple[str, ...]
    target_uptime_pct: Decimal = Decimal("99.9")
    maintenance_notice_hours: int = 48
    excused_causes: tuple[str, ...] = DEFAULT_CAUSES
    shortfall_rounding: str = "floor"
    credit_per_point_pct: Decimal = Decimal("1")
    max_credit_pct: Decimal = Decimal("100")
    credit_schedule: tuple[LadderStep, ...] | None = None  # sorted by ``below``, ascending
    require_claim: bool = False
    claim_window_days: int = 30
    min_coverage_pct: Decimal = Decimal("99")


@dataclass(frozen=True)
class Maintenance:
    line: int
    service: str
    start: dt.datetime
    end: dt.datetime
    announced_at: dt.datetime


@dataclass(frozen=True)
class ExcusedDowntime:
    line: int
    service: str
    start: dt.datetime
    end: dt.datetime
    cause: str


@dataclass(frozen=True)
class SlaClaim:
    line: int
    customer_id: str
    service: str
    billing_period: str
    submitted_at: dt.datetime


@dataclass(frozen=True)
class SlaConfig:
    policy: SlaPolicy
    maintenance: tuple[Maintenance, ...] = ()
    excused_downtime: tuple[ExcusedDowntime, ...] = ()
    claims: tuple[SlaClaim, ...] = ()


def _percent(value: Any, key: str, *, low: Decimal = Decimal(0), allow_low: bool = True) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ConfigError(
            SLA_FILE, key, f'must be a decimal string in quotes (e.g. "99.9"), got {value!r}'
        )
    try:
        number = parse_decimal(str(value))
    except ValueError:
        raise ConfigError(SLA_FILE, key, f"must be a decimal number, got {value!r}") from None
    if number > 100 or number < low or (number == low and not allow_low):
        bound = "≥" if allow_low else ">"
        raise ConfigError(
            SLA_FILE, key, f"must be a percentage {bound} {low} and ≤ 100, got {value!r}"
        )
    return number


def _names(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(SLA_FILE, key, "must be a list of non-empty names")
    dupes = sorted({v for v in value if value.count(v) > 1})
    if dupes:
        raise ConfigError(SLA_FILE, key, f"names {', '.join(map(repr, dupes))} more than once")
    return tuple(value)


def _ladder(value: Any, target: Decimal) -> tuple[LadderStep, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(
            SLA_FILE, "credit_schedule", "must be a non-empty list of {below, credit_pct} steps"
        )
    steps = []
    for i, raw in enumerate(value):
        where = f"credit_schedule[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(SLA_FILE, where, "must be a mapping with below and credit_pct")
        reject_unknown_keys(raw, {"below", "credit_pct"}, SLA_FILE, f"{where}.")
        for key in ("below", "credit_pct"):
            if key not in raw:
                raise ConfigError(SLA_FILE, f"{where}.{key}", "is required")
        below = _percent(raw["below"], f"{where}.below", allow_low=False)
        if below > target:
            raise ConfigError(
                SLA_FILE,
                f"{where}.below",
                f"must not exceed target_uptime_pct "
                f"({target}): it would credit a month that met the target",
            )
        steps.append(LadderStep(below, _percent(raw["credit_pct"], f"{where}.credit_pct")))
    steps.sort(key=lambda s: s.below)
    for lower, higher in pairwise(steps):
        if lower.below == higher.below:
            raise ConfigError(SLA_FILE, "credit_schedule", f"names below {lower.below} twice")
        if lower.credit_pct < higher.credit_pct:
            raise ConfigError(
                SLA_FILE,
                "credit_schedule",
                f"below {lower.below} gives less "
                f"credit than below {higher.below}: lower uptime must not earn less",
            )
    return tuple(steps)


def parse_policy(data: dict) -> SlaPolicy:
    """Validate a parsed sla.yaml mapping."""
    reject_unknown_keys(data, _TOP, SLA_FILE, "")
    if "services" not in data:
        raise ConfigError(SLA_FILE, "services", "is required (the services platform fees name)")
    services = _names(data["services"], "services")
    if not services or ALL_SERVICES in services:
        raise ConfigError(SLA_FILE, "services", "must name at least one service, and not '*'")
    target = _percent(data.get("target_uptime_pct", "99.9"), "target_uptime_pct", allow_low=False)
    rounding = data.get("shortfall_rounding", "floor")
    if rounding not in SHORTFALL_ROUNDINGS:
        raise ConfigError(
            SLA_FILE,
            "shortfall_rounding",
            f"must be one of {', '.join(SHORTFALL_ROUNDINGS)}, got {rounding!r}",
        )
    require_claim = data.get("require_claim", False)
    if not isinstance(require_claim, bool):
        raise ConfigError(
            SLA_FILE, "require_claim", f"must be true or false, got {require_claim!r}"
        )
    return SlaPolicy(
        services=services,
        target_uptime_pct=target,
        maintenance_notice_hours=require_int(
            data.get("maintenance_notice_hours", 48), SLA_FILE, "maintenance_notice_hours"
        ),
        excused_causes=_names(data.get("excused_causes", list(DEFAULT_CAUSES)), "excused_causes"),
        shortfall_rounding=rounding,
        credit_per_point_pct=_percent(
            data.get("credit_per_point_pct", "1"), "credit_per_point_pct"
        ),
        max_credit_pct=_percent(data.get("max_credit_pct", "100"), "max_credit_pct"),
        credit_schedule=(
            _ladder(data["credit_schedule"], target)
            if data.get("credit_schedule") is not None
            else None
        ),
        require_claim=require_claim,
        claim_window_days=require_int(
            data.get("claim_window_days", 30), SLA_FILE, "claim_window_days"
        ),
        min_coverage_pct=_percent(data.get("min_coverage_pct", "99"), "min_coverage_pct"),
    )


def _time(cell: str, rel: str, where: str, column: str) -> dt.datetime:
    us = parse_rfc3339_us(cell)
    if us is None:
        raise ConfigError(
            rel,
            where,
            f"{column} must be an RFC 3339 timestamp (e.g. 2026-11-03T02:00:00Z), got {cell!r}",
        )
    return EPOCH + dt.timedelta(microseconds=us)


def _service(cell: str, policy: SlaPolicy, rel: str, where: str, *, star: bool) -> str:
    if cell in policy.services or (star and cell == ALL_SERVICES):
        return cell
    allowed = ", ".join(policy.services) + (", or * for all" if star else "")
    raise ConfigError(rel, where, f"service {cell!r} is not a service of sla.yaml ({allowed})")


def _window(rel: str, number: int, cells: dict[str, str], policy: SlaPolicy):
    where = line(number)
    service = _service(cells["service"], policy, rel, where, star=True)
    start = _time(cells["start"], rel, where, "start")
    end = _time(cells["end"], rel, where, "end")
    if end <= start:
        raise ConfigError(rel, where, "end must be after start")
    return where, service, start, end


def parse_maintenance(rows: CsvRows, policy: SlaPolicy) -> tuple[Maintenance, ...]:
    out = []
    for number, cells in rows:
        where, service, start, end = _window(MAINTENANCE_FILE, number, cells, policy)
        announced = _time(cells["announced_at"], MAINTENANCE_FILE, where, "announced_at")
        out.append(Maintenance(number, service, start, end, announced))
    return tuple(out)


def parse_excused(rows: CsvRows, policy: SlaPolicy) -> tuple[ExcusedDowntime, ...]:
    out = []
    for number, cells in rows:
        where, service, start, end = _window(EXCUSED_FILE, number, cells, policy)
        if not cells["cause"]:
            raise ConfigError(EXCUSED_FILE, where, "cause must not be empty")
        out.append(ExcusedDowntime(number, service, start, end, cells["cause"]))
    return tuple(out)


def parse_claims(rows: CsvRows) -> tuple[SlaClaim, ...]:
    out = []
    for number, cells in rows:
        where = line(number)
        customer = require_str(cells["customer_id"], CLAIMS_FILE, f"{where}: customer_id")
        # A service not in sla.yaml is a claim that matches no credit: ignored, counted and
        # flagged by the close (docs/rules.md#sla-claims), not a configuration error.
        service = require_str(cells["service"], CLAIMS_FILE, f"{where}: service")
        period = cells["billing_period"]
        if not _PERIOD.fullmatch(period):
            raise ConfigError(CLAIMS_FILE, where, f"billing_period must be YYYY-MM, got {period!r}")
        submitted = _time(cells["submitted_at"], CLAIMS_FILE, where, "submitted_at")
        out.append(SlaClaim(number, customer, service, period, submitted))
    return tuple(out)


def load_sla(root: str | Path) -> SlaConfig:
    """Load sla.yaml, maintenance.csv, excused_downtime.csv and sla_claims.csv under ``root``.

    Raises :class:`ConfigError` (``<file>: <line or key>: <rule>``) on the first problem.
    """
    policy = parse_policy(read_yaml(root, SLA_FILE, required=True))
    maintenance = read_csv_rows(root, MAINTENANCE, required=False) or []
    excused = read_csv_rows(root, EXCUSED, required=False) or []
    claims = read_csv_rows(root, CLAIMS, required=False) or []
    return SlaConfig(
        policy,
        parse_maintenance(maintenance, policy),
        parse_excused(excused, policy),
        parse_claims(claims),
    )
