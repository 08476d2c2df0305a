"""The ``asof`` and ``reprice`` subcommands of ``meter-pipeline`` (registered by cli.py)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from meter_pipeline.billing.reprice import RepriceError, parse_plan_map
from meter_pipeline.calendar import is_period
from meter_pipeline.config.errors import ConfigError
from meter_pipeline.config.reference import resolve_root
from meter_pipeline.finance.money_format import format_money, plural


def _period(text: str) -> str:
    if not is_period(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a billing period YYYY-MM")
    return text


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def cmd_asof(args: argparse.Namespace) -> int:
    from meter_pipeline.io.warehouse import read_stored
    from meter_pipeline.whatif.asof import asof
    from meter_pipeline.whatif.diff import invoice_diff

    root, out = resolve_root(args.root), Path(args.out)
    try:
        result = asof(root, args.period, args.as_of, out)
    except (ConfigError, RepriceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in result.failed:
        print(line)
    if not result.ok:
        return 1
    print(
        f"{args.period} as of {args.as_of} (landing days through {result.cutoff}) "
        f"written to {out}/warehouse"
    )
    if args.diff:
        stored, recomputed = (read_stored(r, "invoice_lines", args.period) for r in (root, out))
        if stored is None:
            print(f"no stored invoice_lines for {args.period} in {root}: nothing to compare")
            return 0
        assert recomputed is not None
        lines = invoice_diff(stored, recomputed)
        print("\n".join(lines) if lines else "every invoice equals the stored close")
    return 0


def cmd_reprice(args: argparse.Namespace) -> int:
    from meter_pipeline.whatif.reprice import REPORT, reprice

    root = resolve_root(args.root)
    try:
        result = reprice(
            root,
            Path(args.pricing),
            args.start,
            args.end,
            Path(args.out),
            parse_plan_map(args.plan_map or []),
        )
    except (ConfigError, RepriceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for period in result.skipped:
        print(f"{period}: not closed in {root} (no stored invoices): skipped")
    if result.summary is None:
        print("no closed month in the range: nothing repriced")
        return 1
    import polars as pl

    for (period, currency), month in result.summary.group_by(
        "billing_period", "currency", maintain_order=True
    ):
        changed = month.filter(pl.col("difference") != 0).height
        current = format_money(month["current_subtotal"].sum(), currency)
        candidate = format_money(month["candidate_subtotal"].sum(), currency)
        print(
            f"{period} {currency}: current {current}, candidate {candidate}, "
            f"difference {format_money(month['difference'].sum(), currency)}; "
            f"{plural(changed, 'customer')} affected of {month.height}"
        )
    print(f"reprice_lines, reprice_summary under {args.out}/warehouse; report {args.out}/{REPORT}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    asof = sub.add_parser(
        "asof",
        help="a month's tables as a close would have written them from the landing days up to "
        "a date only, into a separate root (the data root is only read)",
    )
    asof.add_argument("--root", help="data root (default $METER_PIPELINE_ROOT or ./data)")
    asof.add_argument("--period", type=_period, required=True, help="billing month YYYY-MM")
    asof.add_argument("--as-of", type=_date, required=True, help="last landing day to read")
    asof.add_argument("--out", required=True, help="a new folder for the as-of root")
    asof.add_argument(
        "--diff", action="store_true", help="print how each invoice differs from the stored one"
    )
    asof.set_defaults(func=cmd_asof)
    reprice = sub.add_parser(
        "reprice",
        help="price the stored usage of closed months under a candidate pricing.yaml: "
        "reprice_lines, reprice_summary and an HTML report in a separate folder",
    )
    reprice.add_argument("--root", help="data root (default $METER_PIPELINE_ROOT or ./data)")
    reprice.add_argument("--pricing", required=True, help="the candidate pricing.yaml")
    reprice.add_argument("--start", type=_period, required=True, help="first month YYYY-MM")
    reprice.add_argument("--end", type=_period, required=True, help="last month YYYY-MM")
    reprice.add_argument("--out", required=True, help="a new folder for the results")
    reprice.add_argument(
        "--plan-map",
        nargs="*",
        metavar="OLD=NEW",
        help="bill the subscriptions of plan OLD under the candidate's plan NEW",
    )
    reprice.set_defaults(func=cmd_reprice)
