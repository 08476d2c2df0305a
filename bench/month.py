"""Month benchmark: the whole pipeline for one month vs DuckDB doing the equivalent in SQL.

    python bench/month.py --events N [--runs 3] [--root /tmp/meter-bench-month] [--regenerate]

Data: ``generate.py --billing`` over the landing days of 2026-09 plus its grace days
(2026-09-01 … 2026-10-03, 33 days, N // 33 lines a day; ~3% re-sends, some days later; ~3% late
arrivals; ~0.5% bad rows of every reason; 5,000 customers on two plans, a mid-month plan change;
every charge model). The root is reused while its parameters match (``--regenerate`` forces).

meter-pipeline side (a child process): ``run_backfill`` over the 33 landing days through the
Dagster graph, from an empty warehouse: every SPEC rule, exact decimals, the 40-day id index,
raw/quarantine/clean/duplicate/audit tables per day, then the month 2026-09 closed: period usage,
unbilled usage, invoice lines of every charge model, invoices.

DuckDB side (a child process), on the same files, results to Parquet under ``<root>/duckdb``:
read the JSONL with an explicit schema; the main validations with the first failing reason
(malformed, required fields, known meter, value present, timestamp parse, too_old/future window,
value numeric and < 10^20, non-negative, required dimensions); dedup by event_id keeping the
first arrival (landing day, file, line) over the whole window; billing period with grace days
and next-open-period for late events; period usage per customer × meter (count, sum, max,
latest, unique_count); every per_unit and graduated charge of the price book priced per
subscription (plan change, filter, free units, tiers, half-up rounding to cents).

Sides alternate pair by pair; each pair prints both times and the ratio. After the first pair
the DuckDB results are checked against meter-pipeline's tables (counts, period usage, priced
lines), so the two sides are seen to do the same work. Not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _harness import alternate  # noqa: E402
from _pipeline import (  # noqa: E402
    DAYS,
    FIRST_DAY,
    LAST_DAY,
    MONTH,
    PIPELINE,
    last_json,
    steps_line,
)
from generate import (  # noqa: E402
    DEDUP_WINDOW_DAYS,
    FUTURE_TOLERANCE_HOURS,
    GRACE_DAYS,
    MAX_EVENT_AGE_DAYS,
    METERS,
    PRICE_BOOK,
    REQUIRED_DIMENSIONS,
    UNIQUE_DIMENSION,
    ensure_generated,
)

#: Dimension keys read into the STRUCT column: required, unique and filter dimensions.
DIMS = ("region", "user_id")
PRICED_MODELS = ("per_unit", "graduated")
VALUE_AGGREGATIONS = ("sum", "max", "latest")


def _q(text: str | None) -> str:
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"


def _dec(text: str | None) -> str:
    return "NULL" if text is None else f"CAST('{text}' AS DECIMAL(38, 9))"


def _meters_values() -> str:
    rows = []
    for name, agg in METERS:
        required = set(REQUIRED_DIMENSIONS.get(name, ())) | (
            {UNIQUE_DIMENSION[name]} if name in UNIQUE_DIMENSION else set()
        )
        flags = ", ".join("true" if d in required else "false" for d in DIMS)
        rows.append(
            f"({_q(name)}, {_q(agg)}, {str(agg in VALUE_AGGREGATIONS).lower()}, "
            f"{_q(UNIQUE_DIMENSION.get(name))}, {flags})"
        )
    cols = ", ".join(f"req_{d}" for d in DIMS)
    return (
        f"SELECT * FROM (VALUES {', '.join(rows)}) "
        f"t(meter, aggregation, needs_value, unique_dim, {cols})"
    )


def _charges_and_tiers() -> tuple[str, str, list[str]]:
    """VALUES of the priced charges and of their tiers (per_unit = one tier, no flat fee)."""
    aggregation = dict(METERS)
    charges, tiers, ids = [], [], []
    for plan in PRICE_BOOK["plans"]:
        assert plan["currency"] == "USD"  # amounts are rounded to cents below
        for c in plan["charges"]:
            if c["model"] not in PRICED_MODELS:
                continue
            ids.append(c["id"])
            filt = c.get("filter", {})
            assert set(filt) <= set(DIMS)
            charges.append(
                f"({_q(plan['id'])}, {_q(c['id'])}, {_q(c['meter'])}, "
                f"{_q(aggregation[c['meter']])}, {_dec(c.get('free_units', '0'))}, "
                + ", ".join(_q(filt.get(d)) for d in DIMS)
                + ")"
            )
            steps = (
                c["tiers"]
                if c["model"] == "graduated"
                else [{"up_to": None, "unit_price": c.get("unit_price", "0")}]
            )
            lower = "0"
            for n, tier in enumerate(steps, 1):
                tiers.append(
                    f"({_q(plan['id'])}, {_q(c['id'])}, {n}, {_dec(lower)}, "
                    f"{_dec(tier['up_to'])}, {_dec(tier.get('unit_price', '0'))}, "
                    f"{_dec(tier.get('flat_fee', '0'))})"
                )
                lower = tier["up_to"]
    filters = ", ".join(f"filter_{d}" for d in DIMS)
    return (
        f"SELECT * FROM (VALUES {', '.join(charges)}) "
        f"t(plan_id, charge_id, meter, aggregation, free_units, {filters})",
        f"SELECT * FROM (VALUES {', '.join(tiers)}) "
        f"t(plan_id, charge_id, tier_no, lower, upper, unit_price, flat_fee)",
        ids,
    )


def duckdb_statements(root: Path) -> list[str]:
    out = root / "duckdb"
    period_start = f"{MONTH}-01"
    period_end = "2026-09-30"
    charges, tiers, _ = _charges_and_tiers()
    struct = ", ".join(f"{d} VARCHAR" for d in DIMS)
    missing_dims = " OR ".join(f"(req_{d} AND coalesce(dimensions.{d}, '') = '')" for d in DIMS)
    unique = " ".join(f"WHEN {_q(m)} THEN e.dimensions.{d}" for m, d in UNIQUE_DIMENSION.items())
    unique_u = unique.replace("e.dimensions", "dimensions")
    filters = " AND ".join(
        f"(c.filter_{d} IS NULL OR e.dimensions.{d} = c.filter_{d})" for d in DIMS
    )
    parquet = "(FORMAT parquet, COMPRESSION zstd)"
    return [
        "SET preserve_insertion_order = true",
        "SET enable_progress_bar = false",
        f"CREATE TEMP TABLE meters AS {_meters_values()}",
        f"""CREATE TEMP TABLE checked AS
        WITH raw AS (
          SELECT row_number() OVER () AS line, filename AS source_file,
                 CAST(regexp_extract(filename, '([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})/[^/]*$', 1)
                      AS DATE) AS landing_date,
                 event_id, customer_id, meter, "timestamp" AS ts, value, dimensions
          FROM read_json('{root}/landing/events/*/*.jsonl', format = 'newline_delimited',
                         filename = true, ignore_errors = true,
                         columns = {{'event_id': 'VARCHAR', 'customer_id': 'VARCHAR',
                                    'meter': 'VARCHAR', 'timestamp': 'VARCHAR',
                                    'value': 'VARCHAR', 'dimensions': 'STRUCT({struct})'}})
        ), typed AS (
          SELECT raw.*, m.aggregation, coalesce(m.needs_value, false) AS needs_value,
                 m.unique_dim, {", ".join(f"m.req_{d}" for d in DIMS)},
                 try_strptime(ts, ['%Y-%m-%dT%H:%M:%S.%fZ', '%Y-%m-%dT%H:%M:%SZ']) AS event_time,
                 TRY_CAST(value AS DECIMAL(38, 9)) AS dec_value
          FROM raw LEFT JOIN meters m USING (meter)
          WHERE landing_date BETWEEN DATE '{FIRST_DAY}' AND DATE '{LAST_DAY}'
        )
        SELECT *, CASE
          WHEN event_id IS NULL AND customer_id IS NULL AND meter IS NULL AND ts IS NULL
               AND value IS NULL AND dimensions IS NULL THEN 'malformed'
          WHEN coalesce(event_id, '') = '' OR coalesce(customer_id, '') = ''
               OR coalesce(meter, '') = '' OR coalesce(ts, '') = '' THEN 'missing_field'
          WHEN aggregation IS NULL THEN 'unknown_meter'
          WHEN needs_value AND coalesce(value, '') = '' THEN 'missing_field'
          WHEN event_time IS NULL THEN 'invalid_timestamp'
          WHEN event_time < landing_date - INTERVAL {MAX_EVENT_AGE_DAYS} DAY THEN 'too_old'
          WHEN event_time >= landing_date + INTERVAL 1 DAY
                             + INTERVAL {FUTURE_TOLERANCE_HOURS} HOUR THEN 'future_timestamp'
          WHEN needs_value AND (dec_value IS NULL
               OR abs(dec_value) >= CAST('1e20' AS DECIMAL(38, 9))) THEN 'invalid_value'
          WHEN needs_value AND dec_value < 0 THEN 'negative_value'
          WHEN {missing_dims} THEN 'missing_dimension'
        END AS reason
        FROM typed""",
        f"""COPY (SELECT landing_date, source_file, line, reason, event_id, customer_id, meter,
                         ts AS "timestamp", value
                  FROM checked WHERE reason IS NOT NULL)
            TO '{out}/quarantined_events.parquet' {parquet}""",
        # The window is the whole month (33 days < dedup_window_days), so dedup over all rows.
        f"""CREATE TEMP TABLE clean AS
        SELECT event_id, customer_id, meter, aggregation, unique_dim, event_time,
               CASE WHEN needs_value THEN dec_value END AS value, dimensions, landing_date,
               source_file, line,
               landing_date > last_day(event_time) + {GRACE_DAYS} AS late,
               strftime(CASE WHEN landing_date > last_day(event_time) + {GRACE_DAYS}
                             THEN landing_date - {GRACE_DAYS} ELSE event_time END,
                        '%Y-%m') AS billing_period
        FROM checked WHERE reason IS NULL
        QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY source_file, line) = 1""",
        f"""COPY (SELECT * EXCLUDE (aggregation, unique_dim) FROM clean)
            TO '{out}/clean_events.parquet' {parquet}""",
        f"""COPY (
          SELECT billing_period, customer_id, meter,
                 CASE any_value(aggregation)
                   WHEN 'count' THEN CAST(count(*) AS DECIMAL(38, 9))
                   WHEN 'sum' THEN sum(value)
                   WHEN 'max' THEN max(value)
                   WHEN 'latest' THEN arg_max(value, (event_time, source_file, line))
                   ELSE CAST(count(DISTINCT CASE meter {unique_u} END) AS DECIMAL(38, 9))
                 END AS quantity,
                 count(*) AS event_count, count(*) FILTER (WHERE late) AS late_event_count
          FROM clean WHERE billing_period = '{MONTH}'
          GROUP BY billing_period, customer_id, meter
        ) TO '{out}/period_usage.parquet' {parquet}""",
        f"""CREATE TEMP TABLE subs AS SELECT * FROM read_csv('{root}/reference/customers.csv',
            header = true, columns = {{'customer_id': 'VARCHAR', 'customer_name': 'VARCHAR',
            'plan_id': 'VARCHAR', 'start_date': 'DATE', 'end_date': 'DATE'}})""",
        f"CREATE TEMP TABLE charges AS {charges}",
        f"CREATE TEMP TABLE tiers AS {tiers}",
        f"""CREATE TEMP TABLE lines AS
        WITH sc AS (
          SELECT s.customer_id, s.plan_id, s.start_date AS subscription_start,
                 coalesce(s.end_date, DATE '9999-12-31') AS subscription_end, c.* EXCLUDE (plan_id)
          FROM subs s JOIN charges c USING (plan_id)
          WHERE s.start_date <= DATE '{period_end}'
            AND (s.end_date IS NULL OR s.end_date >= DATE '{period_start}')
        )
        SELECT c.customer_id, c.plan_id, c.subscription_start, c.charge_id, c.meter,
               any_value(c.free_units) AS free_units, count(e.event_id) AS event_count,
               CASE any_value(c.aggregation)
                 WHEN 'count' THEN CAST(count(e.event_id) AS DECIMAL(38, 9))
                 WHEN 'sum' THEN coalesce(sum(e.value), 0)
                 WHEN 'max' THEN coalesce(max(e.value), 0)
                 WHEN 'latest' THEN coalesce(arg_max(e.value, (e.event_time, e.source_file,
                                                               e.line)), 0)
                 ELSE CAST(count(DISTINCT CASE e.meter {unique} END) AS DECIMAL(38, 9))
               END AS aggregate
        FROM sc c LEFT JOIN clean e
          ON e.customer_id = c.customer_id AND e.meter = c.meter
         AND e.billing_period = '{MONTH}'
         AND CAST(e.event_time AS DATE) BETWEEN c.subscription_start AND c.subscription_end
         AND {filters}
        GROUP BY c.customer_id, c.plan_id, c.subscription_start, c.charge_id, c.meter""",
        f"""COPY (
          SELECT l.customer_id, l.plan_id, l.subscription_start, l.charge_id, l.meter,
                 any_value(greatest(l.aggregate - l.free_units, 0)) AS quantity,
                 any_value(least(l.aggregate, l.free_units)) AS free_quantity,
                 any_value(l.event_count) AS event_count,
                 round(sum(greatest(least(greatest(l.aggregate - l.free_units, 0),
                                          coalesce(t.upper, greatest(l.aggregate - l.free_units,
                                                                     0))) - t.lower, 0)
                           * t.unit_price
                           + CASE WHEN t.tier_no = 1
                                    OR greatest(l.aggregate - l.free_units, 0) > t.lower
                                  THEN t.flat_fee ELSE 0 END), 2) AS amount
          FROM lines l JOIN tiers t USING (plan_id, charge_id)
          GROUP BY l.customer_id, l.plan_id, l.subscription_start, l.charge_id, l.meter
        ) TO '{out}/usage_lines.parquet' {parquet}""",
    ]


DUCKDB = """
import json, shutil, sys
from pathlib import Path
import duckdb
out = Path(sys.argv[1]) / "duckdb"
shutil.rmtree(out, ignore_errors=True)
out.mkdir()
con = duckdb.connect()
for statement in json.loads(sys.argv[2]):
    con.execute(statement)
clean = con.execute(f"select count(*) from '{out}/clean_events.parquet'").fetchone()[0]
lines = con.execute(f"select count(*), sum(amount) from '{out}/usage_lines.parquet'").fetchone()
print(json.dumps({"clean": clean, "lines": lines[0], "amount": str(lines[1])}))
"""


def check(root: Path, echo=print) -> bool:
    """Compare DuckDB's Parquet results with meter-pipeline's warehouse tables for the month."""
    import polars as pl

    from meter_pipeline.io import warehouse

    days = [(FIRST_DAY + dt.timedelta(days=i)).isoformat() for i in range(DAYS)]
    duck = root / "duckdb"
    ok = True

    def same(label: str, ours: object, theirs: object) -> None:
        nonlocal ok
        ok &= ours == theirs
        echo(
            f"  {label:<44} meter-pipeline {ours!s:>12}  duckdb {theirs!s:>12}"
            f"{'' if ours == theirs else '  MISMATCH'}"
        )

    audit = warehouse.scan_partitions(root, "ingestion_audit", days).collect()
    quarantined = pl.read_parquet(duck / "quarantined_events.parquet")
    clean = pl.scan_parquet(duck / "clean_events.parquet")
    reasons = quarantined.group_by("reason").len()
    by_reason = dict(reasons.iter_rows())
    for reason in sorted(
        set(by_reason)
        | {c.removeprefix("quarantined_") for c in audit.columns if c.startswith("quarantined_")}
    ):
        ours = (
            int(audit.get_column(f"quarantined_{reason}").sum())
            if f"quarantined_{reason}" in audit.columns
            else 0
        )
        if ours or by_reason.get(reason, 0):
            same(f"quarantined {reason}", ours, by_reason.get(reason, 0))
    same(
        "clean events (accepted)",
        int(audit.get_column("rows_accepted").sum()),
        clean.select(pl.len()).collect().item(),
    )
    same(
        "duplicates",
        int(audit.get_column("rows_duplicate").sum()),
        int(audit.get_column("rows_read").sum())
        - quarantined.height
        - clean.select(pl.len()).collect().item(),
    )
    same(
        f"clean events billed in {MONTH}",
        int(
            warehouse.scan_partitions(root, "clean_events", days)
            .filter(pl.col("billing_period") == MONTH)
            .select(pl.len())
            .collect()
            .item()
        ),
        clean.filter(pl.col("billing_period") == MONTH).select(pl.len()).collect().item(),
    )

    def compare(
        label: str, ours: pl.DataFrame, theirs: pl.DataFrame, keys: list[str], values: list[str]
    ) -> None:
        dec = pl.Decimal(38, 9)
        norm = [
            pl.col(v).cast(dec)
            if v not in ("event_count", "late_event_count")
            else pl.col(v).cast(pl.Int64)
            for v in values
        ]
        a = ours.select(*keys, *norm)
        b = theirs.select(*keys, *norm)
        joined = a.join(b, on=keys, how="full", suffix="_duckdb", coalesce=True)
        differ = joined.filter(
            pl.any_horizontal(pl.col(v).ne_missing(pl.col(f"{v}_duckdb")) for v in values)
        )
        same(f"{label} rows", a.height, b.height)
        same(f"{label} rows that differ", 0, differ.height)
        if differ.height:
            echo(str(differ.head(5)))

    usage = warehouse.scan_partitions(root, "period_usage", [MONTH]).collect()
    compare(
        "period_usage",
        usage,
        pl.read_parquet(duck / "period_usage.parquet"),
        ["customer_id", "meter"],
        ["quantity", "event_count", "late_event_count"],
    )
    _, _, ids = _charges_and_tiers()
    priced = pl.read_parquet(duck / "usage_lines.parquet")
    lines = (
        warehouse.scan_partitions(root, "invoice_lines", [MONTH])
        .filter(pl.col("kind") == "usage")
        .collect()
        .join(priced.select("plan_id", "charge_id").unique(), on=["plan_id", "charge_id"])
    )
    compare(
        "per_unit + graduated lines",
        lines,
        priced,
        ["customer_id", "plan_id", "subscription_start", "charge_id"],
        ["quantity", "free_quantity", "event_count", "amount"],
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--root", type=Path, default=Path("/tmp/meter-bench-month"))
    parser.add_argument(
        "--regenerate",
        action="store_true",
        help="generate the root again even when its parameters match",
    )
    parser.add_argument(
        "--no-check",
        action="store_true",
        help="skip comparing DuckDB's results with meter-pipeline's",
    )
    args = parser.parse_args()
    assert DEDUP_WINDOW_DAYS > DAYS  # DuckDB dedups over the whole month
    events = ensure_generated(args.root, args.events, FIRST_DAY, DAYS, regenerate=args.regenerate)
    print(
        f"month {MONTH}: {events:,} event lines over landing days {FIRST_DAY} … {LAST_DAY} "
        f"in {args.root}",
        flush=True,
    )
    statements = json.dumps(duckdb_statements(args.root))

    def notes(out1: str, out2: str) -> tuple[str, str]:
        o, d = last_json(out1), last_json(out2)
        return (
            f"backfill {o['backfill_s']:.2f} s in {o['runs']} Dagster runs: "
            f"{steps_line(o['steps'])}",
            f"{d['clean']:,} clean, {d['lines']:,} priced lines",
        )

    def check_first(pair: int) -> None:
        if pair == 0 and not args.no_check:
            print("check (first pair): DuckDB's results against meter-pipeline's tables")
            if not check(args.root):
                print("  the sides disagree: the DuckDB side is not doing the same work")

    alternate(
        (PIPELINE, str(args.root), FIRST_DAY.isoformat(), LAST_DAY.isoformat()),
        (DUCKDB, str(args.root), statements),
        args.runs,
        events,
        notes,
        check_first,
    )


if __name__ == "__main__":
    main()
