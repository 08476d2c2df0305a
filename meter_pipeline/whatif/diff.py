"""``meter-pipeline asof --diff``: per customer, how the as-of invoice differs from the stored one.

Lines are matched by what they bill (kind, what an adjustment adjusts, plan, subscription start,
charge, service, earned period), not by line number; money is shown at the currency's minor
unit."""

from __future__ import annotations

from functools import partial

import polars as pl

from meter_pipeline.finance.money_format import format_money

KEY = ["kind", "adjusts", "plan_id", "subscription_start", "charge_id", "service", "earned_period"]


def _label(row: dict) -> str:
    what = row["charge_id"] or row["service"] or ""
    kind = f"{row['kind']} of {row['adjusts']}" if row.get("adjusts") else row["kind"]
    plan = f" ({row['plan_id']} from {row['subscription_start']})" if row["plan_id"] else ""
    earned = f" earned {row['earned_period']}" if row.get("earned_period") else ""
    return f"{kind} {what}{plan}{earned}".replace("  ", " ")


def _quantity(row: dict, suffix: str) -> str:
    value = row.get(f"quantity{suffix}")
    return "" if value is None else f"quantity {value.normalize():f}, "


def invoice_diff(stored: pl.DataFrame, asof: pl.DataFrame) -> list[str]:
    """One block per customer whose invoice lines differ: the totals, then each line added,
    removed or changed; an empty list when every invoice is the same."""
    cols = [*KEY, "customer_id", "currency", "quantity", "event_count", "amount"]
    joined = stored.select(cols).join(
        asof.select(cols),
        on=["customer_id", *KEY],
        how="full",
        coalesce=True,
        nulls_equal=True,
        suffix="_asof",
    )
    out: list[str] = []
    for (customer,), lines in joined.sort("customer_id").group_by(
        "customer_id", maintain_order=True
    ):
        currency = lines["currency"].drop_nulls().append(lines["currency_asof"].drop_nulls())[0]
        money = partial(format_money, currency=currency)
        changes = []
        for row in lines.iter_rows(named=True):
            before, after = row["amount"], row["amount_asof"]
            if before is None:
                changes.append(f"  + {_label(row)}: {_quantity(row, '_asof')}{money(after)}")
            elif after is None:
                changes.append(f"  - {_label(row)}: {_quantity(row, '')}{money(before)}")
            elif before != after or any(
                row[c] != row[f"{c}_asof"] for c in ("quantity", "event_count")
            ):
                q = ""
                if row["event_count"] != row["event_count_asof"]:
                    q = f"events {row['event_count']} → {row['event_count_asof']}, "
                if row["quantity"] is not None:
                    q += f"quantity {row['quantity'].normalize():f} → "
                    q += f"{row['quantity_asof'].normalize():f}, "
                changes.append(f"  ~ {_label(row)}: {q}{money(before)} → {money(after)}")
        if changes:
            was, now = lines["amount"].drop_nulls().sum(), lines["amount_asof"].drop_nulls().sum()
            out.append(
                f"{customer}: total {money(was)} stored → {money(now)} as of ({money(now - was)})"
            )
            out += changes
    return out
