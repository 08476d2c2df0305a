"""The finance subcommands of ``meter-pipeline``: ``query``, ``invoices`` and ``report``,
registered on the main parser by :func:`register`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from meter_pipeline.config.reference import resolve_root
from meter_pipeline.finance.money_format import plural

ROOT_HELP = "data root (default $METER_PIPELINE_ROOT or ./data)"


def cmd_query(args: argparse.Namespace) -> int:
    from meter_pipeline.finance.query import QueryError, query

    root = resolve_root(args.root)
    try:
        csv = Path(args.csv) if args.csv else None
        parquet = Path(args.parquet) if args.parquet else None
        print(query(root, args.sql, csv=csv, parquet=parquet))
    except QueryError as exc:
        print(f"query error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write the result: {exc}", file=sys.stderr)
        return 1
    return 0


def _period(text: str) -> str:
    from meter_pipeline.calendar import is_period

    if not is_period(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a billing period YYYY-MM")
    return text


def cmd_invoices(args: argparse.Namespace) -> int:
    from meter_pipeline.finance.documents import write_invoices
    from meter_pipeline.finance.tables import FinanceError

    root = resolve_root(args.root)
    try:
        written = write_invoices(root, args.period, Path(args.out), pdf=not args.no_pdf)
    except FinanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    documents = sum(1 for p in written if p.suffix == ".html")
    print(
        f"{args.period}: {plural(documents, 'invoice document')}, invoices.csv and "
        f"invoice_lines.csv in {args.out}"
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from meter_pipeline.finance.report import write_report
    from meter_pipeline.finance.tables import FinanceError

    root = resolve_root(args.root)
    try:
        path = write_report(root, args.period, Path(args.out))
    except FinanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.period}: usage report in {path}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``query``, ``invoices`` and ``report`` to the main parser's subcommands."""
    query = sub.add_parser(
        "query",
        help="run SQL (DuckDB) over the warehouse; every table is a view by its name",
        description="Run one SQL statement with DuckDB over the warehouse. Every table is a view "
        "by its name (invoices, invoice_lines, sla_credits, clean_events, …), its partition "
        "column (billing_period or landing_date) included; amounts are exact decimals.",
    )
    query.add_argument(
        "sql", help="e.g. \"select * from invoices where billing_period = '2026-10'\""
    )
    query.add_argument("--root", help=ROOT_HELP)
    query.add_argument("--csv", metavar="FILE", help="write the result as CSV instead of printing")
    query.add_argument("--parquet", metavar="FILE", help="write the result as Parquet")
    query.set_defaults(func=cmd_query)
    invoices = sub.add_parser(
        "invoices",
        help="write one HTML and PDF document per invoice of a closed month, and the month's "
        "invoices.csv and invoice_lines.csv",
    )
    invoices.add_argument("--period", type=_period, required=True, help="closed month YYYY-MM")
    invoices.add_argument("--out", required=True, help="folder to write the documents to")
    invoices.add_argument("--root", help=ROOT_HELP)
    invoices.add_argument("--no-pdf", action="store_true", help="HTML and CSV only")
    invoices.set_defaults(func=cmd_invoices)
    report = sub.add_parser(
        "report",
        help="write an HTML usage report of a closed month (charts render offline)",
    )
    report.add_argument("--period", type=_period, required=True, help="closed month YYYY-MM")
    report.add_argument("--out", required=True, help="folder to write report.html to")
    report.add_argument("--root", help=ROOT_HELP)
    report.set_defaults(func=cmd_report)
