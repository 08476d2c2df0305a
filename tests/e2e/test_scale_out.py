"""The scale-out, proven on one machine (SPEC §13): a Postgres-backed Dagster instance (its
``dagster.yaml`` is deploy/dagster.yaml), a Redis broker, two Celery workers as separate
processes and an S3-compatible server (moto's server mode), all on 127.0.0.1, and
``meter-pipeline backfill`` of an ``s3://`` data root over a multi-day landing range and one
month with ``METER_PIPELINE_EXECUTOR=celery`` and runs of 7 days executed at once.

It checks that every table equals, value for value, a plain local run of the same inputs, and
that every landing day conserves its rows; that steps ran in both workers (the process ids of
the run's STEP_START events, read back from Postgres, and the worker named by dagster-celery's
engine events); that a worker killed with SIGKILL in the middle of a step leaves every partition
old or new, never half, and that the backfill run again completes with the tables of a local run;
that the Postgres password (a canary) appears in no output and no event; and that every service
is gone when the test ends.

The data root is the one fixture :func:`scale_root`: ``s3://meter-scale/root`` on the moto
server, which the workers reach with the standard AWS variables.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import obstore
import polars as pl
import pytest
from dagster._serdes import serialize_value
from polars.testing import assert_frame_equal

from tests.helpers import services
from tests.helpers.graph_root import event
from tests.helpers.month_root import END, PERIOD, START, write_month_root
from tests.helpers.s3 import S3Server, s3_server

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CANARY = f"canary-s3cr3t-{uuid.uuid4().hex[:12]}"
BIG_DAY = "2026-09-02"
BIG_EVENTS = 300_000
CLI = str(services.BIN / "meter-pipeline")
BUCKET, PREFIX = "meter-scale", "root"


@dataclasses.dataclass
class Cluster:
    stack: contextlib.ExitStack
    pg: services.Postgres
    redis: services.Redis
    s3: S3Server
    workers: services.Workers
    home: Path
    folder: Path
    env: dict[str, str]
    outputs: list[str] = dataclasses.field(default_factory=list)

    def instance(self) -> dg.DagsterInstance:
        with pytest.MonkeyPatch.context() as mp:
            for name, value in self.env.items():
                mp.setenv(name, value)
            return dg.DagsterInstance.from_config(str(self.home))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    """Postgres (password: the canary), Redis and two Celery workers, stopped on the way out
    (the last test stops them itself and checks that they are gone)."""
    folder = tmp_path_factory.mktemp("scale")
    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(services.postgres(password=CANARY))
        redis = stack.enter_context(services.redis())
        s3 = stack.enter_context(s3_server())
        s3.create_bucket(BUCKET)
        env = {
            **services.celery_deployment(pg, redis, folder),
            "METER_PIPELINE_PARTITIONS_PER_RUN": "7",
            **s3.env(),
        }
        home = Path(env["DAGSTER_HOME"])
        workers = stack.enter_context(
            services.celery_workers(2, env, REPO / "deploy" / "celery.yaml", folder)
        )
        yield Cluster(stack, pg, redis, s3, workers, home, folder, env)


@pytest.fixture(scope="module")
def scale_root(cluster, tmp_path_factory) -> str:
    """THE data root of the Celery runs: the month root's files under ``s3://meter-scale/root``."""
    local = write_month_root(tmp_path_factory.mktemp("scale-root") / "root")
    cluster.s3.upload(local, BUCKET, PREFIX)
    return f"s3://{BUCKET}/{PREFIX}"


def read_tables(root: str, s3: S3Server | None = None) -> dict[str, pl.DataFrame]:
    """Every warehouse partition of ``root`` (not the event index), by its path under the root;
    an ``s3://`` root is read from ``s3`` (each object in one GET: whole, as written)."""
    if s3 is not None:
        local = Path(tempfile.mkdtemp(prefix="meter-read-"))
        try:
            s3.download(BUCKET, PREFIX, local)
            return read_tables(str(local))
        finally:
            shutil.rmtree(local, ignore_errors=True)
    warehouse = Path(root) / "warehouse"
    return {
        str(path.relative_to(root)): pl.read_parquet(path)
        for path in sorted(warehouse.rglob("*.parquet"))
        if not path.relative_to(warehouse).parts[0].startswith("_")
    }


def add_big_day(root: Path, s3: S3Server | None = None) -> None:
    """A larger file on BIG_DAY, so that ingesting the day takes long enough to be killed (on the
    store when ``s3`` is given, else under the local ``root``)."""
    lines = [event(f"big{i:07d}", BIG_DAY) for i in range(BIG_EVENTS)]
    data = ("\n".join(lines) + "\n").encode()
    rel = f"landing/events/{BIG_DAY}/z-big.jsonl"
    if s3 is not None:
        obstore.put(s3.store(BUCKET, PREFIX), rel, data)
    else:
        (root / rel).write_bytes(data)


def local_run(root: Path, start=START, end=END) -> subprocess.CompletedProcess:
    """The plain local run: the default executor, the instance beside the root."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "DAGSTER_HOME" and not k.startswith(("METER_PIPELINE_", "DAGSTER_PG_"))
    }
    args = [CLI, "backfill", "--root", str(root), "--start", str(start), "--end", str(end)]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def celery_args(root: str, start=START, end=END) -> list[str]:
    return [CLI, "backfill", "--root", root, "--start", str(start), "--end", str(end)]


def celery_env(cluster: Cluster) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("METER_PIPELINE_")}
    return {**env, **cluster.env}


def celery_run(cluster: Cluster, root: str, start=START, end=END) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        celery_args(root, start, end),
        env=celery_env(cluster),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    cluster.outputs += [proc.stdout, proc.stderr]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def assert_same_tables(got: dict[str, pl.DataFrame], expected: dict[str, pl.DataFrame]) -> None:
    assert got.keys() == expected.keys()
    for path, frame in expected.items():
        try:
            assert_frame_equal(got[path], frame, check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"{path}: {exc}") from None


@pytest.fixture(scope="module")
def first_run(cluster, scale_root, tmp_path_factory):
    """The Celery backfill of the month root, and a local run of the same inputs."""
    local = write_month_root(tmp_path_factory.mktemp("local") / "root")
    local_run(local)
    proc = celery_run(cluster, scale_root)
    return proc, read_tables(str(local))


def test_celery_tables_equal_a_local_run_value_for_value(first_run, cluster, scale_root):
    proc, local = first_run
    assert f"{PERIOD}      1 invoice: USD" in proc.stdout
    got = read_tables(scale_root, cluster.s3)
    assert len(got) > 30
    assert_same_tables(got, local)


def test_every_landing_day_conserves_its_rows(first_run, cluster, scale_root):
    tables = read_tables(scale_root, cluster.s3)

    def rows(table: str, day: str) -> int:
        return tables[f"warehouse/{table}/landing_date={day}/part-0.parquet"].height

    audits = {  # the day is in the partition's folder name (Hive layout)
        path.split("landing_date=")[1].split("/")[0]: frame
        for path, frame in tables.items()
        if path.startswith("warehouse/ingestion_audit/")
    }
    assert len(audits) == (END - START).days + 1
    for day, audit in audits.items():
        (row,) = audit.to_dicts()
        assert row["rows_read"] == (
            row["rows_quarantined"] + row["rows_duplicate"] + row["rows_accepted"]
        ), day
        assert row["rows_read"] == rows("raw_events", day)
        assert row["rows_accepted"] == rows("clean_events", day)
        assert row["rows_duplicate"] == rows("duplicate_events", day)
        assert row["rows_quarantined"] == rows("quarantined_events", day)


def step_starts(instance: dg.DagsterInstance) -> list[tuple[str, str, int]]:
    """(run id, step key, pid) of every STEP_START in the instance's event log."""
    found = []
    for record in instance.get_run_records():
        for entry in instance.all_logs(record.dagster_run.run_id):
            if entry.dagster_event and entry.dagster_event.event_type_value == "STEP_START":
                found.append((record.dagster_run.run_id, entry.step_key, entry.dagster_event.pid))
    return found


def celery_hosts(instance: dg.DagsterInstance) -> set[str]:
    """The worker names dagster-celery records in its "Executing steps …" engine events."""
    hosts = set()
    for record in instance.get_run_records():
        for entry in instance.all_logs(
            record.dagster_run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT
        ):
            data = entry.dagster_event.engine_event_data if entry.dagster_event else None
            if data is not None and "Celery worker" in data.metadata:
                hosts.add(str(data.metadata["Celery worker"].value).split("@")[0])
    return hosts


def test_steps_ran_in_both_workers_as_the_event_log_in_postgres_says(first_run, cluster):
    with cluster.instance() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        runs = instance.get_run_records()
        jobs = sorted(r.dagster_run.job_name for r in runs)
        assert jobs.count("daily_ingestion") == 5  # 33 days in runs of 7
        assert all(r.dagster_run.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        starts = step_starts(instance)
        hosts = celery_hosts(instance)
    owners = [cluster.workers.owner(pid) for _, _, pid in starts]
    assert len(starts) > 20
    assert None not in owners  # every step ran in a worker, none in the CLI's processes
    assert {w.name for w in owners if w is not None} == {"worker1", "worker2"}
    assert hosts == {"worker1", "worker2"}


def test_no_password_in_any_output_or_event(first_run, cluster):
    with cluster.instance() as instance:
        events = [
            serialize_value(entry)
            for record in instance.get_run_records()
            for entry in instance.all_logs(record.dagster_run.run_id)
        ]
        configs = [json.dumps(r.dagster_run.run_config) for r in instance.get_run_records()]
    logs = [w.log.read_text(errors="replace") for w in cluster.workers.workers]
    assert events and cluster.outputs
    for text in (*cluster.outputs, *events, *configs, *logs):
        assert CANARY not in text
        assert cluster.s3.secret_key not in text


def wait_for_step(cluster: Cluster, job: str, step: str, after: float) -> tuple[str, int]:
    """(run id, pid) of the first STEP_START of ``step`` in a run of ``job`` created after
    ``after`` (read from Postgres as it happens)."""
    with cluster.instance() as instance:

        def started():
            for record in instance.get_run_records(filters=dg.RunsFilter(job_name=job)):
                if record.create_timestamp.timestamp() < after:
                    continue
                run_id = record.dagster_run.run_id
                for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START):
                    if entry.step_key == step:
                        return run_id, entry.dagster_event.pid
            return None

        return services.wait_for(started, f"{step} started", 300)


def test_a_worker_killed_mid_step_leaves_old_or_new_partitions_and_a_rerun_completes(
    first_run, cluster, scale_root, tmp_path_factory
):
    old = read_tables(scale_root, cluster.s3)
    # The new inputs: a larger file lands on BIG_DAY; "new" is a local run of them.
    add_big_day(Path(scale_root), cluster.s3)
    local = write_month_root(tmp_path_factory.mktemp("local-new") / "root")
    add_big_day(local)
    local_run(local)
    new = read_tables(str(local))
    assert new[f"warehouse/clean_events/landing_date={BIG_DAY}/part-0.parquet"].height > BIG_EVENTS

    after = time.time()
    with open(cluster.folder / "killed-run.log", "wb") as out:
        cli = subprocess.Popen(
            celery_args(scale_root, dt.date.fromisoformat(BIG_DAY), dt.date.fromisoformat(BIG_DAY)),
            env=celery_env(cluster),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        run_id, pid = wait_for_step(cluster, "daily_ingestion", "ingest_landing_day", after)
        victim = cluster.workers.owner(pid)
        assert victim is not None, f"step pid {pid} is in no worker"
        os.killpg(victim.pgid, signal.SIGKILL)  # the machine is gone, mid-step
        services.wait_for(lambda: not victim.pids(), "killed worker reaped", 30)
        victim.proc.wait(timeout=30)
    finally:
        services.kill_group(cli.pid, grace=0, first=signal.SIGKILL)  # its orchestrator too
        cli.wait(timeout=30)
    with cluster.instance() as instance:
        finished = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
        assert not [e for e in finished if e.step_key == "ingest_landing_day"], "not mid-step"

    # Every partition is the old one or the new one, readable whole; none is half-written.
    now = read_tables(scale_root, cluster.s3)
    assert now.keys() <= old.keys() | new.keys()
    for path, frame in now.items():
        candidates = [t[path] for t in (old, new) if path in t]
        assert any(frame.equals(c) for c in candidates), path

    # A replacement worker joins; the backfill run again completes with the new tables.
    replacement = services.start_worker("worker3", cluster.env, REPO / "deploy" / "celery.yaml",
                                        cluster.folder)  # fmt: skip
    cluster.workers.workers.append(replacement)
    broker = cluster.env["METER_PIPELINE_CELERY_BROKER"]
    services.wait_for(lambda: services.ping_workers(broker, ["worker3"]), "worker3", 120)
    celery_run(cluster, scale_root)
    assert_same_tables(read_tables(scale_root, cluster.s3), new)


def test_every_service_is_stopped_and_reaped(cluster):
    pids = [cluster.pg.pid, cluster.redis.pid, cluster.s3.pid] + [
        pid for worker in cluster.workers.workers for pid in [worker.proc.pid, *worker.pids()]
    ]
    ports = [cluster.pg.port, cluster.redis.port, cluster.s3.port]
    assert all(services.port_open(port) for port in ports)
    cluster.stack.close()  # what the fixture does on the way out, also on failure
    assert not [port for port in ports if services.port_open(port)]
    assert not [pid for pid in pids if services.alive(pid)]
    assert not cluster.pg.folder.exists()
