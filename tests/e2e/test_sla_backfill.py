"""End to end: three months of monitoring exports and meter events through ``meter-pipeline
backfill``; uptime, SLA credits, the credit ledger and the credit lines on the next invoices
match an independent computation (tests/helpers/sla_reference.py) and hand-worked figures.

Backfill of landing days 2026-08-01 … 2026-11-03 (grace 3 days): the monitoring partition of
2026-07-31 (the day before the start), 95 daily partitions, then August, September and October
close in order. The scenario, per service (unexcused down minutes in brackets):

- August (44,640 min). cloud_meter [2,770 → 93.794…%, 6 %]: a 2,760-minute outage; 182 down
  minutes on 08-20 02:00–05:01, of which 181 are excused by a maintenance window announced
  exactly 48 h before (02:00–04:00) and an overlapping third_party incident (03:30–05:00:30,
  service ``*``), each minute counted once; 5 minutes at 08-01 00:00 that only an early export
  landed on 07-31 reports down (its copies disagree with the 08-01 export: down); 3 minutes from
  a re-sent export on 08-25 that disagrees; 1 minute on 08-05 (beside ignored "degraded" rows).
  billing_meter [491 → 98.90008…%, shown 98.9000, 0 %: the shown value would give 1 %]: a
  462-minute outage and 60 down minutes of which the ``*`` incident excuses 31; no probes at
  all on 08-16 (1,440 no-data minutes, counted up).
- September (43,200 min). cloud_meter [2,204 → 94.898…%, 5 %]; billing_meter [2,203 →
  94.9004…%, 4 %] — SPEC §7.4's worked minutes — including a maintenance window announced 47 h
  before (not excused), 10 minutes of an outage that runs into October, and an hour of
  maintenance on ``*`` announced 72 h before (excused on both services).
- October (44,640 min). cloud_meter [1,060 → 2 %]: an outage whose incident cause is not
  excused, and an hour on 10-31 23:00 that only the export landed on 11-01 holds.
  billing_meter [33 → met]: 35 down minutes, 2 excused by an incident 10:07:30–10:09:00 (a
  minute overlapped by part of it is excused).

Every minute is probed from two regions (one-region outages leave the minute up); each day's
exports overlap by ten minutes across two landing days; an export holds rows of an unknown
service and an unknown status with an extra column (ignored).

Customers (credits applied on the next invoice, oldest first, never below zero):

- acme (USD, open-ended): credits fit the next invoice; 5 % of 299.70 = 14.985 → 14.99
  (half up).
- bigco (USD): enterprise (4,000 + 1,500) until 08-31, then starter (40 + 20). Its August credit
  of 240.00 exceeds the September invoice (61.21, including a late August event priced on the
  enterprise plan) and October's (61.24): carried twice, 117.55 still open after October.
- kaisha (JPY): subscription ends 09-01. August credit ¥2,000; September invoice ¥1,531 (one
  prorated day) → ¥469 forfeited in September, and September's own credits forfeited there.
- dora (USD): a plan without platform fees: no credit (status none, credit_pct kept).
- ende (USD): subscription ends on 09-30, the last day of a month: its September credits are
  forfeited in September, nothing reaches October.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest

from meter_pipeline.cli import main
from tests.helpers.sla_reference import Reference, shown

pytestmark = pytest.mark.slow

D = Decimal
START, END = dt.date(2026, 8, 1), dt.date(2026, 11, 3)
PERIODS = ["2026-08", "2026-09", "2026-10"]
SERVICES = ("billing_meter", "cloud_meter")
REGIONS = {"eu-west": "05", "us-east": "35"}  # region → second of the minute it probes at
BASE = dt.date(2026, 7, 31)
HM = [f"{m // 60:02d}:{m % 60:02d}" for m in range(1440)]

METERS = """\
max_event_age_days: 35
future_tolerance: 1h
dedup_window_days: 40
meters:
  - {name: api_calls, aggregation: count, unit: call}
"""

PRICING = """\
grace_days: 3
late_events: next_open_period
rounding: half_up
plans:
  - id: growth_usd
    currency: USD
    platform_fees:
      - {service: cloud_meter, amount: "299.70"}
      - {service: billing_meter, amount: "200.25"}
    charges:
      - {id: api, meter: api_calls, model: per_unit, unit_price: "0.013"}
  - id: enterprise_usd
    currency: USD
    platform_fees:
      - {service: cloud_meter, amount: "4000.00"}
      - {service: billing_meter, amount: "1500.00"}
    charges:
      - {id: api, meter: api_calls, model: per_unit, unit_price: "0.004"}
  - id: starter_usd
    currency: USD
    platform_fees:
      - {service: cloud_meter, amount: "40.00"}
      - {service: billing_meter, amount: "20.00"}
    charges:
      - {id: api, meter: api_calls, model: per_unit, unit_price: "0.02"}
  - id: standard_jpy
    currency: JPY
    platform_fees:
      - {service: cloud_meter, amount: "33333"}
      - {service: billing_meter, amount: "12345"}
    charges:
      - {id: api, meter: api_calls, model: per_unit, unit_price: "2"}
  - id: payg_usd
    currency: USD
    platform_fees: []
    charges:
      - {id: api, meter: api_calls, model: per_unit, unit_price: "0.05"}
"""

CUSTOMERS = """\
customer_id,customer_name,plan_id,start_date,end_date
acme,Acme Corp,growth_usd,2026-01-01,
bigco,BigCo Inc,enterprise_usd,2026-03-01,2026-08-31
bigco,BigCo Inc,starter_usd,2026-09-01,
kaisha,Kaisha KK,standard_jpy,2026-06-15,2026-09-01
dora,Dora LLC,payg_usd,2026-08-10,
ende,Ende GmbH,starter_usd,2026-07-01,2026-09-30
"""

SLA = """\
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
service,start,end,announced_at
cloud_meter,2026-08-20T02:00:00Z,2026-08-20T04:00:00Z,2026-08-18T02:00:00Z
billing_meter,2026-09-10T01:00:00Z,2026-09-10T02:30:00Z,2026-09-08T02:00:00Z
*,2026-09-28T00:00:00Z,2026-09-28T01:00:00Z,2026-09-25T00:00:00Z
"""

EXCUSED = """\
service,start,end,cause
*,2026-08-20T03:30:00Z,2026-08-20T05:00:30Z,third_party
cloud_meter,2026-10-05T09:00:00Z,2026-10-06T02:00:00Z,deployment
billing_meter,2026-10-20T00:00:00Z,2026-10-20T06:00:00Z,customer_network
billing_meter,2026-10-18T10:07:30Z,2026-10-18T10:09:00Z,force_majeure
"""

#: (service, first down minute, minutes, regions): every region down unless named.
OUTAGES = [
    ("cloud_meter", "2026-08-12T08:00", 2760, None),
    ("cloud_meter", "2026-08-05T06:01", 1, None),
    ("cloud_meter", "2026-08-20T02:00", 182, None),
    ("cloud_meter", "2026-08-22T00:00", 120, ["eu-west"]),
    ("cloud_meter", "2026-09-03T12:00", 120, ["eu-west"]),
    ("cloud_meter", "2026-09-14T22:00", 2204, None),
    ("cloud_meter", "2026-09-28T00:00", 60, None),
    ("cloud_meter", "2026-10-05T09:00", 1000, None),
    ("cloud_meter", "2026-10-31T23:00", 60, None),
    ("billing_meter", "2026-08-20T04:30", 60, None),
    ("billing_meter", "2026-08-27T13:00", 462, None),
    ("billing_meter", "2026-09-10T01:00", 90, None),
    ("billing_meter", "2026-09-21T06:00", 2103, None),
    ("billing_meter", "2026-09-28T00:00", 60, None),
    ("billing_meter", "2026-09-30T23:50", 30, None),
    ("billing_meter", "2026-10-18T10:00", 15, None),
]
NO_PROBES = ("billing_meter", dt.date(2026, 8, 16))


# --- the data root --------------------------------------------------------------------------------


def _minute(text: str) -> int:
    """Minutes since BASE 00:00 UTC."""
    t = dt.datetime.fromisoformat(text)
    return (t.date() - BASE).days * 1440 + t.hour * 60 + t.minute


def _down_sets() -> dict[tuple[str, str], set[int]]:
    down = defaultdict(set)
    for service, start, length, regions in OUTAGES:
        first = _minute(start)
        for region in regions or REGIONS:
            down[(service, region)].update(range(first, first + length))
    return down


def _probe_rows(day: dt.date, lo: int, hi: int, down: dict, status=None) -> list[str]:
    """Probe rows of ``day`` for minutes of the day in [lo, hi): both services, both regions."""
    offset = (day - BASE).days * 1440
    rows = []
    for service in SERVICES:
        if (service, day) == NO_PROBES:
            continue
        for region, second in REGIONS.items():
            down_here = down[(service, region)]
            prefix = f"{day}T"
            suffix = f":{second}Z,{service},{region},"
            for k in range(lo, hi):
                state = (
                    status(service, region, k)
                    if status
                    else ("down" if offset + k in down_here else "up")
                )
                rows.append(f"{prefix}{HM[k]}{suffix}{state}\n")
    return rows


def _write(path: Path, header: str, rows: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n" + "".join(rows))


def _event(eid: str, customer: str, when: str) -> str:
    return json.dumps(
        {"event_id": eid, "customer_id": customer, "meter": "api_calls", "timestamp": f"{when}Z"}
    )


EVENT_TIMES = {
    "acme": ["08:00", "12:00", "16:00"],
    "bigco": ["09:30", "21:45"],
    "kaisha": ["06:00", "10:00", "14:00", "18:00"],
    "dora": ["07:00", "09:00", "11:00", "13:00", "15:00"],
    "ende": ["20:00"],
}
ACTIVE = {
    "acme": (dt.date(2026, 1, 1), None),
    "bigco": (dt.date(2026, 3, 1), None),
    "kaisha": (dt.date(2026, 6, 15), dt.date(2026, 9, 1)),
    "dora": (dt.date(2026, 8, 10), None),
    "ende": (dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
}


def _day_events(day: dt.date) -> list[str]:
    lines = []
    for customer, times in EVENT_TIMES.items():
        start, end = ACTIVE[customer]
        if start <= day and (end is None or day <= end):
            lines += [
                _event(f"{customer}-{day}-{i}", customer, f"{day}T{t}:00")
                for i, t in enumerate(times)
            ]
    return lines


def build_root(root: Path) -> None:
    ref = root / "reference"
    ref.mkdir(parents=True)
    for name, text in (
        ("meters.yaml", METERS),
        ("pricing.yaml", PRICING),
        ("customers.csv", CUSTOMERS),
        ("sla.yaml", SLA),
        ("maintenance.csv", MAINTENANCE),
        ("excused_downtime.csv", EXCUSED),
    ):
        (ref / name).write_text(text)

    header = "checked_at,service,region,status"
    mon = root / "landing" / "monitoring"
    down = _down_sets()
    day = BASE
    while day <= dt.date(2026, 11, 1):
        # each day's probes in two exports: 00:00–11:59 lands that day, 11:50–23:59 the next
        # (ten minutes of the same probes in both)
        _write(mon / f"{day}" / f"probes-{day}-am.csv", header, _probe_rows(day, 0, 720, down))
        _write(
            mon / f"{day + dt.timedelta(days=1)}" / f"probes-{day}-pm.csv",
            header,
            _probe_rows(day, 710, 1440, down),
        )
        day += dt.timedelta(days=1)
    # an early export landed on 07-31 says 08-01 00:00–00:04 was down (08-01's says up)
    _write(
        mon / "2026-07-31" / "early.csv",
        header,
        _probe_rows(
            dt.date(2026, 8, 1), 0, 5, down, lambda s, r, k: "down" if s == "cloud_meter" else "up"
        ),
    )
    # a re-sent export on 08-25: eu-west disagrees 10:00–10:09 (minute stays up), both
    # regions disagree 10:10–10:12 (minute down); the rest are identical copies

    def resend(service: str, region: str, k: int) -> str:
        if service == "cloud_meter" and (600 <= k < 610 and region == "eu-west" or 610 <= k < 613):
            return "down"
        return "up"

    _write(
        mon / "2026-08-25" / "probes-2026-08-25-resend.csv",
        header,
        _probe_rows(dt.date(2026, 8, 25), 600, 660, down, resend),
    )
    # ignored rows: a service not in sla.yaml, a status neither up nor down, an extra column.
    # Three "degraded" probes in 06:00 (both regions up) and in 06:01 (both down): counted as
    # down they would make 06:00 down, counted as up they would make 06:01 up
    _write(
        mon / "2026-08-05" / "extra.csv",
        "checked_at,service,region,status,latency_ms",
        ["2026-08-05T06:00:50Z,status_page,eu-west,down,12\n"]
        + [
            f"2026-08-05T06:0{m}:50Z,cloud_meter,{r},degraded,900\n"
            for m in (0, 1)
            for r in ("ap-south", "sa-east", "af-south")
        ],
    )

    events = root / "landing" / "events"
    day = START
    while day <= END:
        folder = events / f"{day}"
        folder.mkdir(parents=True)
        (folder / f"events-{day}.jsonl").write_text("\n".join(_day_events(day)) + "\n")
        day += dt.timedelta(days=1)
    # a retry of 08-09's acme events (duplicates) and late August events landed 09-10
    retry = [line for line in _day_events(dt.date(2026, 8, 9)) if '"acme"' in line]
    (events / "2026-08-10" / "retry.jsonl").write_text("\n".join(retry) + "\n")
    late = [_event(f"late-acme-{i}", "acme", "2026-08-29T23:00:00") for i in range(2)]
    late += [_event(f"late-bigco-{i}", "bigco", "2026-08-30T10:00:00") for i in range(3)]
    (events / "2026-09-10" / "late.jsonl").write_text("\n".join(late) + "\n")


# --- reading the warehouse ---------------------------------------------------------------------


def read_table(root: Path, table: str) -> list[dict]:
    path = root / "warehouse" / table / "*" / "*.parquet"
    con = duckdb.connect()
    try:
        cur = con.execute(
            f"select * from read_parquet('{path}', hive_partitioning = true, "
            f"hive_types = {{'billing_period': VARCHAR}})"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


# --- the test ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Build the root, run the backfill once (an ephemeral Dagster instance), read the tables
    back with DuckDB and compute the reference."""
    root = tmp_path_factory.mktemp("sla_e2e") / "root"
    build_root(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("DAGSTER_HOME", raising=False)
        code = main(["backfill", "--root", str(root), "--start", f"{START}", "--end", f"{END}"])
    expected = Reference(root).run(PERIODS)
    tables = {
        name: read_table(root, name)
        for name in ("uptime", "sla_credits", "sla_credit_ledger", "invoice_lines", "invoices")
    }
    return code, tables, expected


def test_backfill_succeeds(run):
    code, tables, _ = run
    assert code == 0
    assert sorted({r["billing_period"] for r in tables["invoices"]}) == PERIODS


def test_scenario_is_the_one_designed(run):
    """The independent reference sees the minutes the scenario was built to have."""
    _, _, expected = run
    unexcused = {
        (p, s): (
            u["down_minutes"] - u["excused_minutes"],
            u["excused_minutes"],
            u["no_data_minutes"],
        )
        for p in PERIODS
        for s, u in expected[p]["uptime"].items()
    }
    assert unexcused == {
        ("2026-08", "cloud_meter"): (2770, 181, 0),
        ("2026-08", "billing_meter"): (491, 31, 1440),
        ("2026-09", "cloud_meter"): (2204, 60, 0),
        ("2026-09", "billing_meter"): (2203, 60, 0),
        ("2026-10", "cloud_meter"): (1060, 0, 0),
        ("2026-10", "billing_meter"): (33, 2, 0),
    }
    aug_billing = expected["2026-08"]["uptime"]["billing_meter"]["exact"]
    assert shown(aug_billing) == D("98.9000")  # shown − target is a whole point, exact is not
    assert Fraction(D("99.9")) - aug_billing < 1


def test_uptime_matches_reference(run):
    _, tables, expected = run
    got = {(r["billing_period"], r["service"]): r for r in tables["uptime"]}
    assert set(got) == {(p, s) for p in PERIODS for s in SERVICES}
    for (period, service), row in got.items():
        ref = expected[period]["uptime"][service]
        assert (
            row["minutes"],
            row["down_minutes"],
            row["excused_minutes"],
            row["no_data_minutes"],
        ) == (
            ref["minutes"],
            ref["down_minutes"],
            ref["excused_minutes"],
            ref["no_data_minutes"],
        ), (period, service)
        assert row["uptime_pct"] == shown(ref["exact"]), (period, service)
        assert row["coverage_pct"] == shown(ref["coverage"]), (period, service)
        assert row["target_pct"] == D("99.9")
        assert row["met"] == (ref["exact"] >= Fraction(D("99.9"))), (period, service)
    assert got[("2026-08", "billing_meter")]["coverage_pct"] == D("96.7741")
    assert [got[(p, "cloud_meter")]["uptime_pct"] for p in PERIODS] == [
        D("93.7948"),
        D("94.8981"),
        D("97.6254"),
    ]


def _credit_key(r: dict) -> tuple:
    return r["customer_id"], r["service"], r["earned_period"]


def test_sla_credits_match_reference(run):
    _, tables, expected = run
    columns = ("currency", "uptime_pct", "credit_pct", "fee_amount", "credit_amount", "status")
    for period in PERIODS:
        got = {
            _credit_key(r): tuple(r[c] for c in columns)
            for r in tables["sla_credits"]
            if r["billing_period"] == period
        }
        want = {
            _credit_key(r): tuple(r[c] for c in columns) for r in expected[period]["sla_credits"]
        }
        assert got == want, period
    by = {(r["billing_period"], *_credit_key(r)): r for r in tables["sla_credits"]}
    # hand-worked: 6 % of 299.70 = 17.982; 5 % of 299.70 = 14.985 → 14.99 (half up);
    # 4 % of 200.25 = 8.01; JPY 6 % of 33,333 = 1,999.98 → 2,000; zero-fee plan → none
    assert by[("2026-08", "acme", "cloud_meter", "2026-08")]["credit_amount"] == D("17.98")
    assert by[("2026-08", "acme", "billing_meter", "2026-08")]["status"] == "none"
    assert by[("2026-08", "acme", "billing_meter", "2026-08")]["credit_pct"] == 0
    assert by[("2026-09", "acme", "cloud_meter", "2026-09")]["credit_amount"] == D("14.99")
    assert by[("2026-09", "acme", "billing_meter", "2026-09")]["credit_amount"] == D("8.01")
    assert by[("2026-08", "kaisha", "cloud_meter", "2026-08")]["credit_amount"] == D("2000")
    assert by[("2026-09", "kaisha", "cloud_meter", "2026-09")]["fee_amount"] == D("1111")
    assert by[("2026-09", "kaisha", "billing_meter", "2026-09")]["fee_amount"] == D("412")
    dora = by[("2026-08", "dora", "cloud_meter", "2026-08")]
    assert (dora["credit_pct"], dora["credit_amount"], dora["status"]) == (6, 0, "none")
    assert not any(
        r["customer_id"] == "kaisha" and r["billing_period"] == "2026-10"
        for r in tables["sla_credits"]
    )


def test_ledger_matches_reference_and_balances(run):
    _, tables, expected = run
    columns = ("status", "currency", "amount", "opening", "applied", "carried", "forfeited")
    for period in PERIODS:
        got = {
            _credit_key(r): tuple(r[c] for c in columns)
            for r in tables["sla_credit_ledger"]
            if r["billing_period"] == period
        }
        want = {
            _credit_key(r): tuple(r[c] for c in columns[2:]) for r in expected[period]["ledger"]
        }
        assert {k: v[2:] for k, v in got.items()} == want, period
        assert {v[0] for v in got.values()} <= {"granted"}
    # earned = applied + carried + forfeited over each credit's life
    life = defaultdict(lambda: {"amount": None, "applied": D(0), "forfeited": D(0)})
    for r in sorted(tables["sla_credit_ledger"], key=lambda r: r["billing_period"]):
        entry = life[_credit_key(r)]
        entry["amount"] = r["amount"]
        entry["applied"] += r["applied"]
        entry["forfeited"] += r["forfeited"]
        entry["carried"] = r["carried"]
    for key, e in life.items():
        assert e["amount"] == e["applied"] + e["forfeited"] + e["carried"], key
    by = {(r["billing_period"], *_credit_key(r)): r for r in tables["sla_credit_ledger"]}
    # bigco: 240.00 earned in August, 61.21 applied in September, 61.24 in October
    aug = [by[(p, "bigco", "cloud_meter", "2026-08")] for p in PERIODS]
    assert [(r["applied"], r["carried"]) for r in aug] == [
        (0, D("240.00")),
        (D("61.21"), D("178.79")),
        (D("61.24"), D("117.55")),
    ]
    for service in SERVICES:  # September's credits wait behind August's
        oct_row = by[("2026-10", "bigco", service, "2026-09")]
        assert oct_row["applied"] == 0 and oct_row["carried"] > 0
    # kaisha: ¥2,000 against a ¥1,531 invoice, the subscription ends 09-01
    k = by[("2026-09", "kaisha", "cloud_meter", "2026-08")]
    assert (k["applied"], k["carried"], k["forfeited"]) == (D("1531"), 0, D("469"))
    for service, amount in (("cloud_meter", D("56")), ("billing_meter", D("16"))):
        k = by[("2026-09", "kaisha", service, "2026-09")]
        assert (k["amount"], k["applied"], k["forfeited"]) == (amount, 0, amount)
    for customer in ("kaisha", "ende"):  # left: nothing outstanding in October
        assert not any(
            r["customer_id"] == customer and r["billing_period"] == "2026-10"
            for r in tables["sla_credit_ledger"]
        )
    # ende: August's 6 % of 40.00 fits September's invoice; September's credits are forfeited
    assert by[("2026-09", "ende", "cloud_meter", "2026-08")]["applied"] == D("2.40")
    for service, amount in (("cloud_meter", D("2.00")), ("billing_meter", D("0.80"))):
        e = by[("2026-09", "ende", service, "2026-09")]
        assert (e["applied"], e["carried"], e["forfeited"]) == (0, 0, amount)


def test_credit_lines_on_next_invoices(run):
    _, tables, expected = run
    for period in PERIODS:
        lines = sorted(
            (r for r in tables["invoice_lines"] if r["billing_period"] == period),
            key=lambda r: (r["customer_id"], r["line_no"]),
        )
        by_customer = defaultdict(list)
        for r in lines:
            by_customer[r["customer_id"]].append(r)
        assert set(by_customer) == set(expected[period]["invoices"]), period
        for customer, rows in by_customer.items():
            fees = sorted(
                (r["plan_id"], r["service"], r["amount"])
                for r in rows
                if r["kind"] == "platform_fee"
            )
            assert fees == sorted(expected[period]["invoices"][customer]["fees"]), (
                period,
                customer,
            )
            credit_rows = [r for r in rows if r["kind"] == "sla_credit"]
            assert [
                (r["service"], r["earned_period"], r["amount"]) for r in credit_rows
            ] == expected[period]["credit_lines"].get(customer, []), (period, customer)
            # credit lines come last, in the currency of the invoice
            assert rows[len(rows) - len(credit_rows) :] == credit_rows
            assert all(r["currency"] == rows[0]["currency"] for r in rows)
    # the credits earned in August are the lines of September's invoices
    sep = {
        (r["customer_id"], r["service"]): r["amount"]
        for r in tables["invoice_lines"]
        if r["billing_period"] == "2026-09" and r["kind"] == "sla_credit"
    }
    assert sep == {
        ("acme", "cloud_meter"): D("-17.98"),
        ("bigco", "cloud_meter"): D("-61.21"),
        ("kaisha", "cloud_meter"): D("-1531"),
        ("ende", "cloud_meter"): D("-2.40"),
    }


def test_invoices_match_reference(run):
    _, tables, expected = run
    for period in PERIODS:
        got = {
            r["customer_id"]: (r["currency"], r["subtotal"], r["credits"], r["total"])
            for r in tables["invoices"]
            if r["billing_period"] == period
        }
        want = {
            c: (t["currency"], t["subtotal"], t["credits"], t["total"])
            for c, t in expected[period]["totals"].items()
        }
        assert got == want, period
        assert all(total >= 0 for *_, total in got.values())
    totals = {(r["billing_period"], r["customer_id"]): r["total"] for r in tables["invoices"]}
    assert totals[("2026-09", "bigco")] == 0  # the credit took the whole invoice
    assert totals[("2026-10", "bigco")] == 0
    assert totals[("2026-09", "kaisha")] == 0
