"""The Dagster UI as its users meet it: the README's UI command (`dg dev`), as written, on a fresh
demo root, a ranged backfill launched through GraphQL the way the UI does, invoices on disk, and
the asset graph in a real headless Chromium (Debian's package, driven by Playwright with the
system executable). `dagster dev -w workspace.yaml` keeps working too."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from meter_pipeline.demo_data import write_demo_root
from tests.helpers import running_in_ci
from tests.helpers.readme import environment, readme_blocks, shell_script
from tests.helpers.services import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
GROUPS = {
    "landing": ["landing_events", "landing_corrections", "landing_monitoring", "reference_files"],
    "ingestion": [
        "raw_events",
        "quarantined_events",
        "clean_events",
        "duplicate_events",
        "ingestion_audit",
        "daily_usage",
        "event_corrections",
        "quarantined_corrections",
        "duplicate_corrections",
        "correction_audit",
    ],
    "monitoring": ["probe_results", "probe_minutes"],
    "billing": [
        "period_usage",
        "unbilled_usage",
        "invoice_lines",
        "invoices",
        "sla_credits",
        "sla_credit_ledger",
        "invoice_line_events",
        "period_trace",
        "close_manifest",
    ],
    "sla": ["uptime"],
}
DAILY = GROUPS["ingestion"] + GROUPS["monitoring"]
MONTHLY = GROUPS["billing"] + GROUPS["sla"]
DEBIAN_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

LAUNCH = """mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on UnauthorizedError { message }
  }
}"""
STATUS = """query BackfillStatus($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status }
    ... on PythonError { message }
  }
}"""


def find_chromium() -> str | None:
    """``$CHROMIUM``, else Debian's ``/usr/bin/chromium``, else ``chromium`` or
    ``chromium-browser`` on PATH."""
    candidates = [
        os.environ.get("CHROMIUM"),
        DEBIAN_CHROMIUM,
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


@pytest.fixture
def chromium() -> str:
    """The Chromium executable. Without one the test skips on a workstation, and fails under
    ``CI=true``: CI installs Chromium, so a skip there would hide a broken install."""
    path = find_chromium()
    if path is None:
        reason = (
            "Chromium not found ($CHROMIUM, /usr/bin/chromium, chromium or "
            "chromium-browser on PATH); install Debian's package: apt-get install chromium"
        )
        if running_in_ci():
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)
    return path


def readme_ui_command() -> str:
    """The README's UI command, as written (the one block marked not-run that starts dg dev)."""
    (block,) = [
        b for b in readme_blocks() if b.lang == "sh" and b.is_not_run and "dg dev" in b.body
    ]
    return block.body.strip()


class DagsterDev:
    """A UI server in its own process group, stopped with everything it started: the README's
    UI command run as written in ``cwd`` (``.venv/bin/`` = this venv; only the host and port are
    added), or ``command`` with ``env``."""

    def __init__(self, cwd: Path, port: int, log: Path, command: list[str] | None = None, env=None):
        self.url = f"http://127.0.0.1:{port}"
        self.log = log.open("w")
        if command is None:
            script = shell_script(readme_ui_command()) + f" -h 127.0.0.1 -p {port}"
            command, env = ["bash", "-euo", "pipefail", "-c", script], environment()
        self.proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_up(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "the UI server exited early; see its log"
            try:
                urllib.request.urlopen(self.url + "/server_info", timeout=2)
                return
            except OSError:
                time.sleep(0.5)
        raise AssertionError("the UI server did not come up")

    def graphql(self, query: str, variables: dict) -> dict:
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(
            self.url + "/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)["data"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # anything the group left behind
        except ProcessLookupError:
            pass
        self.log.close()


@pytest.fixture
def dagster_dev(tmp_path):
    """The README's UI command in a folder like the repository after setup: the project
    (pyproject.toml, by which ``dg`` finds it, and its packages, linked) and ``data``, the demo
    root, so the repository's own ``data`` and ``.dagster`` are left alone."""
    work = tmp_path / "work"
    work.mkdir()
    for name in ("pyproject.toml", "meter_pipeline", "data_contracts"):
        (work / name).symlink_to(REPO / name)
    write_demo_root(work / "data")
    server = DagsterDev(work, free_port(), tmp_path / "dg-dev.log")
    try:
        server.wait_until_up()
        yield server, work / "data"
    finally:
        server.stop()


ASSET_GROUPS = "{ assetNodes { assetKey { path } groupName isExecutable } }"


def test_dagster_dev_still_serves_the_definitions(tmp_path):
    """``dagster dev -w workspace.yaml``, the command before ``dg dev``, keeps working."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home), "METER_PIPELINE_ROOT": str(tmp_path / "data")}
    port = free_port()
    dagster = str(Path(sys.executable).parent / "dagster")
    command = [dagster, "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)]
    server = DagsterDev(REPO, port, tmp_path / "dagster-dev.log", command, env)
    try:
        server.wait_until_up()
        nodes = server.graphql(ASSET_GROUPS, {})["assetNodes"]
    finally:
        server.stop()
    groups = {n["assetKey"]["path"][0]: (n["groupName"], n["isExecutable"]) for n in nodes}
    assert {name: groups[name] for name in GROUPS["landing"]} == {
        name: ("landing", False) for name in GROUPS["landing"]
    }
    assert all(
        groups[name] == (group, True)
        for group in GROUPS
        if group != "landing"
        for name in GROUPS[group]
    )


def launch_ranged_backfill(server: DagsterDev) -> str:
    """What the UI sends for "Materialize → backfill" over a range of each asset's partitions:
    the landing days of August (and the day before, for early probe exports), then August."""
    by_asset = [
        {
            "assetKey": {"path": [asset]},
            "partitions": {"range": {"start": "2026-07-31", "end": "2026-09-03"}},
        }
        for asset in DAILY
    ]
    by_asset += [
        {
            "assetKey": {"path": [asset]},
            "partitions": {"range": {"start": "2026-08", "end": "2026-08"}},
        }
        for asset in MONTHLY
    ]
    result = server.graphql(
        LAUNCH,
        {"backfillParams": {"partitionsByAssets": by_asset, "title": "browser test backfill"}},
    )
    launched = result["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    return launched["backfillId"]


def wait_for_backfill(server: DagsterDev, backfill_id: str, timeout: float = 600) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = server.graphql(STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        if status.get("status") not in (None, "REQUESTED"):
            return status["status"]
        time.sleep(2)
    raise AssertionError("the backfill did not finish in time")


def screenshot_groups(server: DagsterDev, out: Path, chromium: str) -> dict[str, list[str]]:
    """Open each asset group's graph in headless Chromium, screenshot it, and return the asset
    names that are visible on the page."""
    from playwright.sync_api import sync_playwright

    seen: dict[str, list[str]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 2000, "height": 4000})
            for group, assets in GROUPS.items():
                page.goto(
                    f"{server.url}/locations/meter_pipeline/asset-groups/{group}",
                    wait_until="networkidle",
                )
                skip = page.get_by_role("button", name="Skip")  # the first-visit newsletter
                if skip.count():
                    skip.first.click()
                try:
                    page.get_by_text(assets[0], exact=True).first.wait_for(timeout=30_000)
                finally:  # the page as it was, also when the wait failed
                    page.screenshot(path=str(out / f"asset-graph-{group}.png"))
                seen[group] = [
                    a for a in assets if page.get_by_text(a, exact=True).first.is_visible()
                ]
        finally:
            browser.close()
    return seen


def test_ui_backfill_then_asset_graph_in_chromium(chromium, dagster_dev, tmp_path):
    # ``chromium`` comes first: without a browser the test stops before starting the server.
    server, root = dagster_dev
    status = wait_for_backfill(server, launch_ranged_backfill(server))
    assert status == "COMPLETED_SUCCESS"

    invoices = duckdb.sql(
        f"select billing_period, count(*), count(distinct currency), min(total) >= 0 "
        f"from read_parquet('{root}/warehouse/invoices/*/*.parquet', hive_partitioning=true) "
        "group by all"
    ).fetchall()
    assert invoices == [("2026-08", 30, 2, True)]  # every subscribed demo customer, USD + JPY
    audit_days = duckdb.sql(
        f"select count(*) from read_parquet('{root}/warehouse/ingestion_audit/*/*.parquet')"
    ).fetchall()[0][0]
    assert audit_days == 35  # 2026-07-31 … 2026-09-03

    shots = Path(os.environ.get("METER_PIPELINE_TEST_OUTPUT", tmp_path)) / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    seen = screenshot_groups(server, shots, chromium)
    assert seen == GROUPS
    assert sorted(p.name for p in shots.glob("*.png")) == sorted(
        f"asset-graph-{g}.png" for g in GROUPS
    )
