"""Bad deployment configuration is one clear line before anything runs (SPEC §13): a Postgres
instance that refuses the connection (nothing on its port, a wrong password), a Celery broker
that cannot be reached or has no worker. Each names what failed (host:port/database, the broker
without its password) and the fix; exit 2, no stack trace, nothing written; the password, a
canary, is in no output and no Dagster event. Real services on 127.0.0.1
(:mod:`tests.helpers.services`); skipped without their binaries, failed under CI=true."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import pytest
from dagster._serdes import serialize_value

from tests.helpers import services
from tests.helpers.month_root import END, START, write_month_root

REPO = Path(__file__).resolve().parents[2]
CANARY = "canary-s3cr3t-7f3a9c"


@pytest.fixture
def home(tmp_path) -> Path:
    folder = tmp_path / "dagster_home"
    folder.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", folder / "dagster.yaml")
    return folder


def backfill(root: Path, home: Path, extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("METER_PIPELINE_", "DAGSTER_PG_", "DAGSTER_HOME"))
    }
    env.update({"DAGSTER_HOME": str(home), **extra})
    args = [str(services.BIN / "meter-pipeline"), "backfill", "--root", str(root)]
    args += ["--start", str(START), "--end", str(END)]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)


def pg_env(port: int, password: str) -> dict[str, str]:
    return {
        "DAGSTER_PG_HOST": services.HOST,
        "DAGSTER_PG_PORT": str(port),
        "DAGSTER_PG_USERNAME": "dagster",
        "DAGSTER_PG_PASSWORD": password,
        "DAGSTER_PG_DB": "dagster",
    }


def assert_one_line(proc: subprocess.CompletedProcess, *parts: str) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for part in parts:
        assert part in lines[0], lines[0]
    assert CANARY not in proc.stdout + proc.stderr
    return lines[0]


def test_nothing_listening_on_the_instances_postgres_port(tmp_path, home):
    root = write_month_root(tmp_path / "root")
    port = services.free_port()
    line = assert_one_line(
        backfill(root, home, pg_env(port, CANARY)),
        f"error: the Dagster instance's Postgres at {services.HOST}:{port}/dagster",
        "Connection refused",
        "fix: start the server or correct the DAGSTER_PG_* variables",
    )
    assert str(home / "dagster.yaml") in line
    assert not (root / "warehouse").exists()


def test_a_wrong_password_is_named_without_the_password(tmp_path, home):
    root = write_month_root(tmp_path / "root")
    with services.postgres(password="the-right-one") as pg:
        proc = backfill(root, home, pg_env(pg.port, CANARY))
        assert_one_line(
            proc,
            f"Postgres at {services.HOST}:{pg.port}/dagster (user 'dagster') refused",
            'password authentication failed for user "dagster"',
        )
        with pytest.MonkeyPatch.context() as mp:
            for name, value in pg_env(pg.port, "the-right-one").items():
                mp.setenv(name, value)
            with dg.DagsterInstance.from_config(str(home)) as instance:
                runs = instance.get_run_records()
                events = [serialize_value(e) for r in runs for e in instance.all_logs(r.run_id)]
        assert runs == [] and not any(CANARY in text for text in events)
        server_log = (pg.folder / "server.log").read_text(errors="replace")
        assert CANARY not in server_log
    assert not (root / "warehouse").exists()


def test_an_unreachable_broker_is_named_without_its_password(tmp_path, home):
    root = write_month_root(tmp_path / "root")
    with services.postgres(password=CANARY) as pg:
        port = services.free_port()
        broker = f"redis://:{CANARY}@{services.HOST}:{port}/0"
        celery = {
            "METER_PIPELINE_EXECUTOR": "celery",
            "METER_PIPELINE_CELERY_BROKER": broker,
            "METER_PIPELINE_CELERY_BACKEND": broker,
        }
        proc = backfill(root, home, {**pg_env(pg.port, CANARY), **celery})
        assert_one_line(
            proc,
            f"error: the Celery broker redis://:***@{services.HOST}:{port}/0 "
            "(METER_PIPELINE_CELERY_BROKER) is not reachable",
            "fix: start the broker, or set METER_PIPELINE_CELERY_BROKER to its URL",
        )
    assert not (root / "warehouse").exists()


def test_a_broker_without_workers_is_said_before_a_run_would_wait_forever(tmp_path, home):
    root = write_month_root(tmp_path / "root")
    with services.postgres(password=CANARY) as pg, services.redis() as redis:
        celery = {
            "METER_PIPELINE_EXECUTOR": "celery",
            "METER_PIPELINE_CELERY_BROKER": redis.url,
            "METER_PIPELINE_CELERY_BACKEND": redis.url,
        }
        proc = backfill(root, home, {**pg_env(pg.port, CANARY), **celery})
        assert_one_line(
            proc, f"error: no Celery worker answers on the broker {redis.url}", "dagster-celery"
        )
    assert not (root / "warehouse").exists()
