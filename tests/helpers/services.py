"""Real services for the scale-out tests, each on 127.0.0.1 only, on a free port, in its own
temporary folder, and ALWAYS stopped (also when the test fails or is interrupted): every process
is started in a new session and its whole process group is killed on the way out.

- :func:`postgres`: ``initdb`` into a temporary folder, then ``pg_ctl start`` with its own port
  and unix-socket folder (inside the temporary folder), password authentication over TCP.
  PostgreSQL refuses to run as root: when the tests run as root (a CI container), ``initdb`` and
  ``pg_ctl`` run as the ``postgres`` system user (Debian's postgresql package creates it) through
  ``runuser -u postgres --``, and the temporary folder is handed to that user. As any other user
  they run as that user.
- :func:`redis`: ``redis-server --port P --bind 127.0.0.1 --save '' --appendonly no``.
- :func:`moto_s3`: moto's S3-compatible server in server mode (``python -m moto.server``), a
  separate process.
- :func:`celery_workers`: N Dagster Celery workers as separate processes, started the way
  dagster-celery documents (``dagster-celery worker start -A dagster_celery.app -y celery.yaml``),
  each with one process in its pool; they open the same ``DAGSTER_HOME`` (its Postgres).

A missing binary skips the test on a workstation and fails it under ``CI=true`` (CI installs
them: the README's test command installs redis-server; PostgreSQL 15 is on the machine class).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import running_in_ci

HOST = "127.0.0.1"
BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
PG_USER = "dagster"


def require(binary: str, install: str) -> str:
    """The path of ``binary``; skips the test without it, or fails under ``CI=true``."""
    path = shutil.which(binary)
    if path is None:
        reason = f"{binary} not found on PATH; install it: {install}"
        if running_in_ci():
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)
    return path


def celery_deployment(pg: Postgres, redis: Redis, folder: Path) -> dict[str, str]:
    """The variables of a Celery deployment on these services: a ``DAGSTER_HOME`` in ``folder``
    holding deploy/dagster.yaml (its Postgres from ``pg``'s variables) and the Redis broker."""
    home = folder / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    return {
        **pg.env(),
        "DAGSTER_HOME": str(home),
        "METER_PIPELINE_EXECUTOR": "celery",
        "METER_PIPELINE_CELERY_BROKER": redis.url,
        "METER_PIPELINE_CELERY_BACKEND": redis.url,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = HOST) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_for(predicate, what: str, timeout: float = 60.0, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {proc.returncode}")
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f"{what}: not ready after {timeout:.0f} s")


def alive(pid: int) -> bool:
    """True while ``pid`` is a process that is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def group_members(pgid: int) -> list[int]:
    """Live processes of process group ``pgid``."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z" and int(fields[2]) == pgid:
                members.append(int(entry))
    return members


def kill_group(pgid: int, grace: float = 10.0, first: int = signal.SIGTERM) -> None:
    """Signal a process group (``first``, then SIGKILL after ``grace`` s) until none is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, first)
    deadline = time.monotonic() + grace
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if group_members(pgid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        wait_for(lambda: not group_members(pgid), f"process group {pgid} killed", 30)


@contextlib.contextmanager
def started(args: list[str], log: Path, **kwargs) -> Iterator[subprocess.Popen]:
    """A process in its own session (its pid is its process group), killed with its group on
    the way out whatever happens, and reaped."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
        )
    try:
        yield proc
    finally:
        kill_group(proc.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)


@dataclass
class Postgres:
    host: str
    port: int
    user: str
    password: str
    dbname: str
    folder: Path
    #: The postmaster's pid (its process group holds every backend).
    pid: int = 0

    def env(self) -> dict[str, str]:
        """The DAGSTER_PG_* variables deploy/dagster.yaml reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USERNAME": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": self.dbname,
        }


def _as_postgres_user() -> list[str]:
    """The command prefix that runs PostgreSQL's binaries as a user it accepts."""
    if os.geteuid() != 0:
        return []
    require("runuser", "util-linux (runuser)")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail(
            "running as root needs the 'postgres' system user for initdb (Debian's postgresql "
            "package creates it): useradd --system postgres",
            pytrace=False,
        )
    return ["runuser", "-u", "postgres", "--"]


@contextlib.contextmanager
def postgres(password: str = "s3cret-test-only", dbname: str = "dagster") -> Iterator[Postgres]:
    """A PostgreSQL 15 server on 127.0.0.1:<free port>, superuser ``dagster`` with ``password``
    (scram-sha-256 over TCP), database ``dbname``; stopped and its folder removed on exit."""
    initdb = require("initdb", "Debian's postgresql (PostgreSQL 15)")
    pg_ctl = require("pg_ctl", "Debian's postgresql (PostgreSQL 15)")
    prefix = _as_postgres_user()
    folder = Path(tempfile.mkdtemp(prefix="meter-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    pwfile = folder / "pwfile"
    pwfile.write_text(password + "\n")
    if prefix:
        pg = pwd.getpwnam("postgres")
        for path in (folder, sockets, pwfile):
            os.chown(path, pg.pw_uid, pg.pw_gid)
    os.chmod(pwfile, 0o600)
    port = free_port()
    server = Postgres(HOST, port, PG_USER, password, dbname, folder)
    pgid = None
    try:
        subprocess.run(
            [*prefix, initdb, "-D", str(data), "-U", PG_USER, f"--pwfile={pwfile}",
             "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True, cwd=folder,
        )  # fmt: skip
        pwfile.unlink()
        options = f"-p {port} -k {sockets} -c listen_addresses={HOST} -c fsync=off"
        log = folder / "server.log"
        starter = subprocess.Popen(
            [*prefix, pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "start"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
            cwd=folder,
        )  # fmt: skip
        pgid = starter.pid  # pg_ctl's session: the postmaster and its backends stay in it
        if starter.wait(timeout=60) != 0:
            raise RuntimeError(f"pg_ctl start failed: {log.read_text()[-2000:]}")
        server.pid = int((data / "postmaster.pid").read_text().split()[0])
        import psycopg2

        conn = psycopg2.connect(
            host=HOST, port=port, user=PG_USER, password=password, dbname="postgres"
        )
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'create database "{dbname}"')
        conn.close()
        yield server
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True, timeout=60, cwd=folder,
            )  # fmt: skip
        if pgid is not None:
            kill_group(pgid, grace=5)
        if server.pid:
            wait_for(lambda: not alive(server.pid), "postgres stopped", 30)
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Redis:
    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"


def _redis_ping(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1) as s:
        s.sendall(b"PING\r\n")
        return s.recv(64).startswith(b"+PONG")
    return False


@contextlib.contextmanager
def redis() -> Iterator[Redis]:
    """A Redis server on 127.0.0.1:<free port>, nothing saved to disk; stopped on exit."""
    binary = require("redis-server", "apt-get install redis-server")
    folder = Path(tempfile.mkdtemp(prefix="meter-redis-"))
    port = free_port()
    args = [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no",
            "--dir", str(folder), "--protected-mode", "yes"]  # fmt: skip
    try:
        with started(args, folder / "redis.log", cwd=folder) as proc:
            wait_for(lambda: _redis_ping(port), "redis-server", 30, proc)
            yield Redis(port, proc.pid)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Worker:
    name: str
    proc: subprocess.Popen
    log: Path

    @property
    def pgid(self) -> int:
        return self.proc.pid  # started in its own session

    def pids(self) -> list[int]:
        return group_members(self.pgid)


@dataclass
class Workers:
    workers: list[Worker] = field(default_factory=list)

    def owner(self, pid: int) -> Worker | None:
        """The worker whose process group holds ``pid`` (a step runs in a pool process)."""
        return next((w for w in self.workers if pid in w.pids()), None)


def ping_workers(broker: str, names: list[str], timeout: float = 2.0) -> bool:
    from celery import Celery

    app = Celery("meter-pipeline-tests", broker=broker)
    try:
        replies = app.control.ping(timeout=timeout)
    finally:
        app.close()
    answered = {name.split("@")[0] for reply in replies for name in reply}
    return set(names) <= answered


@contextlib.contextmanager
def celery_workers(
    count: int, env: Mapping[str, str], config_yaml: Path, folder: Path
) -> Iterator[Workers]:
    """``count`` Dagster Celery workers (separate processes, one pool process each) on the
    broker of ``config_yaml``; ``env`` holds DAGSTER_HOME, the Postgres and broker variables.
    Each is stopped with its process group on exit; the returned :class:`Workers` can start a
    replacement with :func:`start_worker`."""
    workers = Workers()
    try:
        for i in range(count):
            workers.workers.append(start_worker(f"worker{i + 1}", env, config_yaml, folder))
        broker = env["METER_PIPELINE_CELERY_BROKER"]
        names = [w.name for w in workers.workers]

        def ready() -> bool:
            for worker in workers.workers:
                if worker.proc.poll() is not None:
                    raise RuntimeError(f"{worker.name} exited: {worker.log.read_text()[-2000:]}")
            return ping_workers(broker, names)

        wait_for(ready, f"celery workers {names}", 120)
        yield workers
    finally:
        for worker in workers.workers:
            kill_group(worker.pgid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.proc.wait(timeout=30)


def start_worker(name: str, env: Mapping[str, str], config_yaml: Path, folder: Path) -> Worker:
    """One worker process, in its own session (its pool process in its process group)."""
    log = folder / f"{name}.log"
    environ = {**os.environ, **env, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    config = str(Path(config_yaml).resolve())
    args = [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app",
            "-y", config, "-n", name, "--", "--concurrency=1"]  # fmt: skip
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=environ,
            cwd=folder,
        )  # fmt: skip
    return Worker(name, proc, log)
