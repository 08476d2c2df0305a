"""``meter-pipeline``: backfill and demo from the command line, through the Dagster graph."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

import dagster as dg

from meter_pipeline.config.errors import ConfigError
from meter_pipeline.config.reference import resolve_root
from meter_pipeline.runner import Backfill, check_config, run_backfill


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _instance() -> dg.DagsterInstance:
    """Dagster's default instance when $DAGSTER_HOME is set (runs show in the UI), else an
    ephemeral one."""
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def _root(args: argparse.Namespace) -> Path:
    return resolve_root(args.root)


def cmd_backfill(args: argparse.Namespace) -> int:
    if args.end < args.start:
        print(f"error: --end {args.end} is before --start {args.start}", file=sys.stderr)
        return 2
    root = _root(args)
    try:
        reference = check_config(root)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    with _instance() as instance:
        result = run_backfill(
            Backfill(root, args.start, args.end), instance, echo=print, reference=reference
        )
    return 0 if result.ok else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from meter_pipeline.demo import run_demo

    root = _root(args)
    with _instance() as instance:
        return run_demo(root, instance, echo=print)


def _period(text: str) -> str:
    from meter_pipeline.calendar import is_period

    if not is_period(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a billing period YYYY-MM")
    return text


def cmd_verify(args: argparse.Namespace) -> int:
    from meter_pipeline.verify import run_verify

    root = _root(args)
    try:
        return run_verify(root, args.period, Path(args.html) if args.html else None)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="meter-pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    backfill = sub.add_parser(
        "backfill",
        help="materialize the landing days [start, end] and "
        "every closed month, through the Dagster graph",
    )
    backfill.add_argument("--root", help="data root (default $METER_PIPELINE_ROOT or ./data)")
    backfill.add_argument("--start", type=_date, required=True, help="first landing day")
    backfill.add_argument("--end", type=_date, required=True, help="last landing day")
    backfill.set_defaults(func=cmd_backfill)
    demo = sub.add_parser("demo", help="make a demo data root (if it has none) and run it all")
    demo.add_argument("--root", help="data root (default $METER_PIPELINE_ROOT or ./data)")
    demo.set_defaults(func=cmd_demo)
    verify = sub.add_parser(
        "verify",
        help="re-hash every file the close manifests list, check their hash chain, recompute "
        "the closed months from landing and reference files into scratch space and compare "
        "them value by value; exit 1 with one line per difference",
    )
    verify.add_argument("--root", help="data root (default $METER_PIPELINE_ROOT or ./data)")
    verify.add_argument("--period", type=_period, help="only this closed month (YYYY-MM)")
    verify.add_argument("--html", help="also write the findings as an evidence page (HTML)")
    verify.set_defaults(func=cmd_verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
