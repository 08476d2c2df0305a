"""``meter-pipeline``: backfill and demo from the command line, through the Dagster graph."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import dagster as dg

from meter_pipeline.config.errors import ConfigError
from meter_pipeline.config.reference import resolve_root
from meter_pipeline.deployment import DeploymentError, broker_problem, celery_config
from meter_pipeline.deployment import check_environment as check_deployment
from meter_pipeline.finance import cli as finance_cli
from meter_pipeline.instance import (
    instance_home,
    instance_problem,
    open_instance,
    run_tags,
    ui_command,
)
from meter_pipeline.operator_errors import explain_exception
from meter_pipeline.progress import progress_display
from meter_pipeline.root_hint import remote_problem, root_problem
from meter_pipeline.runner import Backfill, check_config, run_backfill
from meter_pipeline.storage import is_remote
from meter_pipeline.whatif import cli as whatif_cli


def _version() -> str:
    """``meter-pipeline 0.1.0 (dagster 1.13.27, polars 2.1.0)``: what a bug report needs."""
    from importlib.metadata import PackageNotFoundError, version

    def of(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    return f"meter-pipeline {of('meter-pipeline')} (dagster {of('dagster')}, polars {of('polars')})"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _instance(root: Path) -> dg.DagsterInstance:
    """$DAGSTER_HOME's instance when set, else ``.dagster/`` beside the data root: the UI
    command the CLI prints shows the same runs (meter_pipeline/instance.py)."""
    return open_instance(root)


def _root(args: argparse.Namespace) -> Path:
    return resolve_root(args.root)


def cmd_backfill(args: argparse.Namespace) -> int:
    if args.end < args.start:
        print(f"error: --end {args.end} is before --start {args.start}", file=sys.stderr)
        return 2
    root = _root(args)
    problem = root_problem(root)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        reference = check_config(root)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    problem = deployment_problem(root)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    try:
        with _instance(root) as instance, progress_display():
            result = run_backfill(
                Backfill(root, args.start, args.end),
                instance,
                echo=print,
                reference=reference,
                tags=args.tags,
                debug=args.debug,
                log_level=args.log_level,
            )
    except (OSError, RuntimeError) as exc:  # e.g. the instance's storage: full, read-only
        if args.debug:
            raise
        print(f"error: {explain_exception(exc)}", file=sys.stderr)
        return 1
    print(ui_hint(root))
    if result.blocked:
        print(f"NOT CLOSED (a landing day is incomplete): {', '.join(result.blocked)}")
    return 0 if result.ok else 1


def deployment_problem(root: Path) -> str | None:
    """One line when the deployment's configuration cannot work, before anything runs: a
    deployment variable that does not parse, an instance whose Postgres refuses the connection,
    a Celery broker that cannot be reached or has no worker (docs/deploy.md)."""
    try:
        check_deployment()
        celery = celery_config()
    except DeploymentError as exc:
        return f"configuration error: {exc}"
    problem = instance_problem(instance_home(root))
    if problem:
        return f"error: {problem}"
    if celery is not None:
        import os

        problem = broker_problem(os.environ[celery.broker_var])
        if problem:
            return f"error: {problem}"
    return None


def ui_hint(root: Path) -> str:
    """Where the runs are and the command that shows them (``dagster dev`` takes the same
    arguments as ``dg dev``)."""
    return (
        f"Runs recorded in {instance_home(root)}; see them in the UI: {ui_command(root)} "
        "(or dagster dev with the same arguments)"
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from meter_pipeline.demo import run_demo

    root = _root(args)
    if is_remote(root) and (problem := remote_problem(str(root), need_reference=False)):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    with _instance(root) as instance, progress_display():
        code = run_demo(root, instance, echo=print, tags=args.tags, log_level=args.log_level)
    print(ui_hint(root))
    return code


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
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument(
        "--log-level",
        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
        type=str.upper,
        help="show Dagster's own log of the runs at this level (default: only failures, "
        "summarised by meter-pipeline)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    backfill = sub.add_parser(
        "backfill",
        help="materialize the landing days [start, end] and "
        "every closed month, through the Dagster graph",
    )
    backfill.add_argument("--root", help="data root (default $METER_PIPELINE_ROOT or ./data)")
    backfill.add_argument("--start", type=_date, required=True, help="first landing day")
    backfill.add_argument("--end", type=_date, required=True, help="last landing day")
    backfill.add_argument(
        "--debug", action="store_true", help="show Dagster's log and full stack traces"
    )
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
    finance_cli.register(sub)
    whatif_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    args.tags = run_tags(argv)
    try:
        return args.func(args)
    except DeploymentError as exc:  # a deployment variable, read when the definitions load
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
