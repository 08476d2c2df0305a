"""reference/sla.yaml, maintenance.csv, excused_downtime.csv, sla_claims.csv (SPEC §7.0, §7.2)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from meter_pipeline.config.errors import ConfigError
from meter_pipeline.config.sla import LadderStep, load_sla

UTC = dt.UTC
SLA_YAML = """\
services: [cloud_meter, billing_meter]
target_uptime_pct: "99.9"
maintenance_notice_hours: 48
excused_causes: [customer_network, third_party, force_majeure, suspension, misuse]
shortfall_rounding: floor
credit_per_point_pct: "1"
max_credit_pct: "100"
require_claim: false
claim_window_days: 30
min_coverage_pct: "99"
"""
MAINTENANCE = """\
service,start,end,announced_at,note
cloud_meter,2026-11-10T02:00:00Z,2026-11-10T03:00:00Z,2026-11-08T02:00:00Z,db upgrade
*,2026-11-20T02:00:00+01:00,2026-11-20T02:30:00+01:00,2026-11-01T00:00:00Z,
"""
EXCUSED = """\
service,start,end,cause
billing_meter,2026-11-12T10:00:00Z,2026-11-12T10:05:00.5Z,third_party
"""
CLAIMS = """\
customer_id,service,billing_period,submitted_at
acme,cloud_meter,2026-11,2026-12-05T09:00:00Z
"""


def write_root(root: Path, sla: str = SLA_YAML, **files: str) -> Path:
    ref = root / "reference"
    ref.mkdir(parents=True, exist_ok=True)
    (ref / "sla.yaml").write_text(sla, encoding="utf-8")
    for name, text in files.items():
        (ref / f"{name}.csv").write_text(text, encoding="utf-8")
    return root


def test_the_spec_example_loads_with_exact_decimals_and_utc_times(tmp_path):
    config = load_sla(
        write_root(tmp_path, maintenance=MAINTENANCE, excused_downtime=EXCUSED, sla_claims=CLAIMS)
    )
    policy = config.policy
    assert policy.services == ("cloud_meter", "billing_meter")
    assert policy.target_uptime_pct == Decimal("99.9")
    assert isinstance(policy.target_uptime_pct, Decimal)
    assert (policy.shortfall_rounding, policy.credit_per_point_pct, policy.max_credit_pct) == (
        "floor",
        Decimal("1"),
        Decimal("100"),
    )
    assert policy.credit_schedule is None and policy.require_claim is False
    assert policy.min_coverage_pct == Decimal("99")
    first, star = config.maintenance
    assert (first.line, first.service) == (2, "cloud_meter")  # the header is line 1
    assert first.announced_at == dt.datetime(2026, 11, 8, 2, tzinfo=UTC)
    assert (star.line, star.service, star.start) == (
        3,
        "*",
        dt.datetime(2026, 11, 20, 1, tzinfo=UTC),
    )
    (incident,) = config.excused_downtime
    assert incident.end == dt.datetime(2026, 11, 12, 10, 5, 0, 500000, tzinfo=UTC)
    assert incident.cause == "third_party"
    (claim,) = config.claims
    assert (claim.customer_id, claim.billing_period) == ("acme", "2026-11")


def test_defaults_and_absent_optional_files(tmp_path):
    config = load_sla(write_root(tmp_path, sla="services: [cloud_meter]\n"))
    assert config.policy.target_uptime_pct == Decimal("99.9")
    assert config.policy.maintenance_notice_hours == 48
    assert config.policy.claim_window_days == 30
    assert "force_majeure" in config.policy.excused_causes
    assert (config.maintenance, config.excused_downtime, config.claims) == ((), (), ())


def test_a_ladder_is_sorted_by_bound_and_replaces_the_linear_rule(tmp_path):
    sla = (
        SLA_YAML
        + """credit_schedule:
  - {below: "99.0", credit_pct: "30"}
  - {below: "99.9", credit_pct: "10"}
  - {below: "95.0", credit_pct: "100"}
"""
    )
    ladder = load_sla(write_root(tmp_path, sla=sla)).policy.credit_schedule
    assert ladder == (
        LadderStep(Decimal("95.0"), Decimal("100")),
        LadderStep(Decimal("99.0"), Decimal("30")),
        LadderStep(Decimal("99.9"), Decimal("10")),
    )


YAML_ERRORS = [
    (
        "target as a YAML float",
        SLA_YAML.replace('"99.9"', "99.9"),
        "reference/sla.yaml: target_uptime_pct: must be a decimal string in quotes",
    ),
    (
        "target above 100",
        SLA_YAML.replace('"99.9"', '"100.1"'),
        "reference/sla.yaml: target_uptime_pct: must be a percentage",
    ),
    (
        "target not a number",
        SLA_YAML.replace('"99.9"', '"99,9"'),
        "reference/sla.yaml: target_uptime_pct: must be a decimal number",
    ),
    ("unknown key", SLA_YAML + "grace: 3\n", "reference/sla.yaml: grace: is not a known key"),
    ("services missing", 'target_uptime_pct: "99"\n', "reference/sla.yaml: services: is required"),
    (
        "service named twice",
        SLA_YAML.replace("billing_meter]", "cloud_meter]"),
        "reference/sla.yaml: services: names 'cloud_meter' more than once",
    ),
    (
        "services naming *",
        SLA_YAML.replace("billing_meter]", "'*']"),
        "reference/sla.yaml: services: must name at least one service, and not '*'",
    ),
    (
        "bad shortfall rounding",
        SLA_YAML.replace("floor", "round"),
        "reference/sla.yaml: shortfall_rounding: must be one of floor, ceil, exact",
    ),
    (
        "require_claim not a boolean",
        SLA_YAML.replace("require_claim: false", "require_claim: 1"),
        "reference/sla.yaml: require_claim: must be true or false",
    ),
    (
        "negative claim window",
        SLA_YAML.replace("claim_window_days: 30", "claim_window_days: -1"),
        "reference/sla.yaml: claim_window_days: must be an integer ≥ 0",
    ),
    (
        "ladder bound above the target",
        SLA_YAML + 'credit_schedule: [{below: "99.95", credit_pct: "10"}]\n',
        "reference/sla.yaml: credit_schedule[0].below: must not exceed target_uptime_pct",
    ),
    (
        "ladder step without credit_pct",
        SLA_YAML + 'credit_schedule: [{below: "99"}]\n',
        "reference/sla.yaml: credit_schedule[0].credit_pct: is required",
    ),
    (
        "ladder that pays less for lower uptime",
        SLA_YAML + 'credit_schedule: [{below: "99.9", credit_pct: "30"}, '
        '{below: "99.0", credit_pct: "10"}]\n',
        "reference/sla.yaml: credit_schedule: below 99.0 gives less credit than below 99.9",
    ),
    ("not YAML", "services: [a\n", "reference/sla.yaml: line"),
]


@pytest.mark.parametrize("sla, message", [pytest.param(s, m, id=i) for i, s, m in YAML_ERRORS])
def test_sla_yaml_errors_name_file_key_and_rule(tmp_path, sla, message):
    with pytest.raises(ConfigError) as err:
        load_sla(write_root(tmp_path, sla=sla))
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_sla_yaml_is_required(tmp_path):
    with pytest.raises(ConfigError, match=r"^reference/sla.yaml: \(file\): is required"):
        load_sla(tmp_path)


HEAD_M = "service,start,end,announced_at\n"
HEAD_C = "customer_id,service,billing_period,submitted_at\n"
CSV_ERRORS = [
    (
        "maintenance end before start",
        "maintenance",
        HEAD_M + "cloud_meter,2026-11-10T02:00:00Z,2026-11-10T03:00:00Z,2026-11-01T00:00:00Z\n"
        "cloud_meter,2026-11-10T02:00:00Z,2026-11-10T02:00:00Z,2026-11-01T00:00:00Z\n",
        "reference/maintenance.csv: line 3: end must be after start",
    ),
    (
        "maintenance of an unknown service",
        "maintenance",
        HEAD_M + "search,2026-11-10T02:00:00Z,2026-11-10T03:00:00Z,2026-11-01T00:00:00Z\n",
        "reference/maintenance.csv: line 2: service 'search' is not a service of sla.yaml",
    ),
    (
        "maintenance time without a zone",
        "maintenance",
        HEAD_M + "cloud_meter,2026-11-10T02:00:00,2026-11-10T03:00:00Z,2026-11-01T00:00:00Z\n",
        "reference/maintenance.csv: line 2: start must be an RFC 3339 timestamp",
    ),
    (
        "maintenance missing a column",
        "maintenance",
        "service,start,end\n",
        "reference/maintenance.csv: line 1: misses column announced_at",
    ),
    (
        "maintenance row with too few cells",
        "maintenance",
        HEAD_M + "cloud_meter,x\n",
        "reference/maintenance.csv: line 2: has 2 cells, the header has 4",
    ),
    (
        "incident without a cause",
        "excused_downtime",
        "service,start,end,cause\n*,2026-11-10T02:00:00Z,2026-11-10T03:00:00Z,\n",
        "reference/excused_downtime.csv: line 2: cause must not be empty",
    ),
    (
        "claim with a bad period",
        "sla_claims",
        HEAD_C + "acme,cloud_meter,2026-13,2026-12-01T00:00:00Z\n",
        "reference/sla_claims.csv: line 2: billing_period must be YYYY-MM",
    ),
    (
        "claim without a customer",
        "sla_claims",
        HEAD_C + ",cloud_meter,2026-11,2026-12-01T00:00:00Z\n",
        "reference/sla_claims.csv: line 2: customer_id: must be a non-empty string",
    ),
]


@pytest.mark.parametrize(
    "name, text, message", [pytest.param(n, t, m, id=i) for i, n, t, m in CSV_ERRORS]
)
def test_csv_errors_name_file_row_and_rule(tmp_path, name, text, message):
    with pytest.raises(ConfigError) as err:
        load_sla(write_root(tmp_path, **{name: text}))
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_blank_lines_are_skipped_and_rows_keep_their_line_numbers(tmp_path):
    text = (
        HEAD_M + "\ncloud_meter,2026-11-10T02:00:00Z,2026-11-10T03:00:00Z,"
        "2026-11-01T00:00:00Z\n\nbad,2026-11-10T02:00:00Z,2026-11-10T03:00:00Z,"
        "2026-11-01T00:00:00Z\n"
    )
    with pytest.raises(ConfigError, match=r"^reference/maintenance.csv: line 5: service 'bad'"):
        load_sla(write_root(tmp_path, maintenance=text))
