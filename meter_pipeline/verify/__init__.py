"""``meter-pipeline verify`` (docs/audit.md#meter-pipeline-verify): re-prove closed months from
their inputs.

For every period with a close manifest (or the one asked for):

1. **files** — every input and output the manifest lists is re-hashed (path, bytes, sha256), and
   files in its folders that it does not list are named;
2. **chain** — the manifest names its own month and records the SHA-256 of the previous month's
   manifest as that file is now;
3. **recompute** — the months are recomputed from the landing and reference files alone into a
   scratch root (:mod:`.recompute`), and invoices, invoice lines, SLA credits, the credit ledger,
   the period trace and the lineage are compared value by value with the stored tables;
4. **conservation** — each landing day's audit (read = quarantined + duplicate + accepted), the
   stored period trace (events = billed + unbilled + not_priced), and each usage line's lineage
   against its event_count and events_sha256.

Every difference is one line; the exit code is 0 when there is none, 1 otherwise.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from meter_pipeline.billing.manifest_scope import input_folders, output_folders
from meter_pipeline.calendar import period_landing_days
from meter_pipeline.config.reference import load_reference
from meter_pipeline.verify import compare, files
from meter_pipeline.verify.recompute import read_stored, recompute
from meter_pipeline.workers import worker_map

SECTIONS = ("files", "chain", "recompute", "conservation")


@dataclass
class Report:
    """What verify found, per section, and what it looked at."""

    root: str
    periods: list[str]
    problems: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in SECTIONS})
    checked: dict[str, int] = field(default_factory=lambda: {s: 0 for s in SECTIONS})

    @property
    def ok(self) -> bool:
        return not any(self.problems.values())

    def lines(self) -> list[str]:
        return [f"{s}: {p}" for s in SECTIONS for p in self.problems[s]]


def _compare_period(root: Path, scratch: Path, period: str, report: Report) -> None:
    for table in compare.COMPARED:
        stored, recomputed = read_stored(root, table, period), read_stored(scratch, table, period)
        report.checked["recompute"] += 1
        if stored is None or recomputed is None:
            where = "stored table" if stored is None else "recompute"
            report.problems["recompute"].append(
                f"{period}: {table}: partition missing from the {where}"
            )
            continue
        report.problems["recompute"] += compare.compare_table(table, period, stored, recomputed)
    lines = read_stored(root, "invoice_lines", period)
    lineage = read_stored(root, "invoice_line_events", period)
    fresh = read_stored(scratch, "invoice_line_events", period)
    if lineage is None or lines is None:
        report.problems["conservation"].append(
            f"{period}: invoice_line_events or invoice_lines missing"
        )
        return
    report.checked["conservation"] += 1
    report.problems["conservation"] += compare.lineage_problems(period, lines, lineage)
    if fresh is not None:
        report.problems["recompute"] += compare.lineage_differences(period, lineage, fresh)
    trace = read_stored(root, "period_trace", period)
    if trace is not None:
        report.problems["conservation"] += compare.trace_problems(period, trace)


def _audit(root: Path, days: list[str], report: Report) -> None:
    frames = [
        f.with_columns(pl.lit(day).alias("landing_date"))
        for day in days
        if (f := read_stored(root, "ingestion_audit", day)) is not None
    ]
    report.checked["conservation"] += len(frames)
    if frames:
        report.problems["conservation"] += compare.audit_problems(
            pl.concat(frames, how="diagonal_relaxed")
        )


def verify(root: Path, period: str | None = None, scratch: Path | None = None) -> Report:
    """Verify ``period`` (default: every period with a manifest) of the data root."""
    chain = files.manifest_periods(root)
    periods = [period] if period else chain
    report = Report(str(root), periods)
    if period and period not in chain:
        report.problems["files"].append(f"{period}: no close manifest (the month was not closed)")
        return report
    if not chain:
        report.problems["files"].append(
            "no close manifest under warehouse/_manifests/: close a month first "
            "(meter-pipeline backfill through its last landing day)"
        )
        return report
    reference = load_reference(root)
    days: set[str] = set()
    with worker_map() as map_:  # files are hashed two at a time
        for key in periods:
            doc, unreadable = files.load(root, key)
            report.problems["files"] += unreadable
            if doc is None:
                continue
            checked, problems = files.check_files(root, key, doc, map_)
            report.checked["files"] += checked
            report.problems["files"] += problems
            report.problems["files"] += files.check_unlisted(
                root, key, doc, input_folders(key, reference), output_folders(key)
            )
            report.checked["chain"] += 1
            report.problems["chain"] += files.check_chain(root, key, doc)
            days.update(
                period_landing_days(key, reference.grace_days, reference.meters.future_tolerance_us)
            )
    _audit(root, sorted(days), report)
    with tempfile.TemporaryDirectory(prefix="meter-verify-") as tmp:
        scratch = Path(tmp) / "root" if scratch is None else scratch
        failed = recompute(root, chain[0], max(periods), scratch)
        report.problems["recompute"] += [f"recompute failed: {line}" for line in failed]
        for key in periods:
            _compare_period(root, scratch, key, report)
    return report


def run_verify(
    root: Path,
    period: str | None = None,
    html: Path | None = None,
    echo: Callable[[str], None] = print,
) -> int:
    """The CLI: print one line per difference (or a summary), write the HTML page; 0 or 1."""
    report = verify(root, period)
    for line in report.lines():
        echo(line)
    counts = ", ".join(f"{s} {report.checked[s]}" for s in SECTIONS)
    verdict = "OK" if report.ok else f"FAILED ({len(report.lines())} differences)"
    echo(f"verify {', '.join(report.periods) or '(no closed month)'}: {verdict}; checked: {counts}")
    if html is not None:
        from meter_pipeline.verify.html import render_html

        html.write_text(render_html(report), encoding="utf-8")
        echo(f"evidence page: {html}")
    return 0 if report.ok else 1
