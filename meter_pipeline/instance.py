"""The Dagster instance the CLI records its runs in, shared with the UI.

``$DAGSTER_HOME`` when it is set (Dagster's own rule). Otherwise a project-local instance in
``.dagster/`` beside the data root (``./data`` → ``./.dagster``), created with a ``dagster.yaml``
on first use, so ``meter-pipeline demo`` and then the README's UI command show the same runs,
partitions, checks and metadata. Runs launched by the CLI carry tags naming the command.

An instance whose ``dagster.yaml`` keeps its storage in Postgres (deploy/dagster.yaml,
docs/deploy.md#postgres-instance) is tried first by :func:`instance_problem`: a server that
cannot be reached or refuses the login is one line naming host:port/database and the fix, with
no password and no stack trace, before any run starts.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import dagster as dg

from meter_pipeline.storage import is_remote, root_text

DAGSTER_YAML = """\
# The Dagster instance of meter-pipeline's CLI and UI, written by `meter-pipeline` on first use.
# Point the UI at it with DAGSTER_HOME=<this folder>. Storage: SQLite files in this folder.
telemetry:
  enabled: false
"""
#: Run tags (visible and filterable in the UI's run list).
COMMAND_TAG = "meter-pipeline/command"
ARGS_TAG = "meter-pipeline/args"


def instance_home(root: Path) -> Path:
    """``$DAGSTER_HOME`` if set, else ``.dagster`` in the folder that holds the data root."""
    home = os.environ.get("DAGSTER_HOME")
    if home:
        return Path(home)
    if is_remote(root):  # an object-store root: the instance of the current folder
        return Path.cwd() / ".dagster"
    return Path(root).resolve().parent / ".dagster"


def open_instance(root: Path) -> dg.DagsterInstance:
    """The persistent instance of :func:`instance_home` (its dagster.yaml written if missing)."""
    home = instance_home(root)
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    return dg.DagsterInstance.from_config(str(home))


def run_tags(argv: Sequence[str]) -> dict[str, str]:
    """Tags naming the CLI command and its arguments, e.g. ``backfill`` and
    ``--root data --start 2026-08-01 --end 2026-08-03``."""
    command, *rest = list(argv) or ["?"]
    return {COMMAND_TAG: command, ARGS_TAG: shlex.join(rest)[:1000]}


def ui_command(root: Path) -> str:
    """The shell command that opens the UI on this instance and root (from any folder): ``dg dev``,
    the command Dagster recommends, when dagster-dg-cli is installed (it is a dependency), else
    ``dagster dev``, which takes the same arguments and keeps working."""
    home = instance_home(root)
    where = root_text(root) if is_remote(root) else str(Path(root).resolve())
    bin_dir = Path(sys.executable).parent
    dg_cli, dagster = bin_dir / "dg", bin_dir / "dagster"
    if dg_cli.exists():
        program = f"{shlex.quote(str(dg_cli))} dev"
    else:
        program = f"{shlex.quote(str(dagster)) if dagster.exists() else 'dagster'} dev"
    return (
        f"DAGSTER_HOME={shlex.quote(str(home))} "
        f"METER_PIPELINE_ROOT={shlex.quote(where)} "
        f"{program} -m meter_pipeline.definitions"
    )


#: The storages of a dagster.yaml that may name a Postgres server.
_PG_KEYS = ("run_storage", "event_log_storage", "schedule_storage")
#: How long the CLI waits for the instance's Postgres before saying it is not there.
CONNECT_TIMEOUT_S = 5


def _value(value: Any, environ: Mapping[str, str]) -> Any:
    """A config value with Dagster's ``{env: NAME}`` form resolved (``None`` when unset)."""
    if isinstance(value, Mapping) and set(value) == {"env"}:
        return environ.get(str(value["env"]))
    return value


def postgres_settings(
    config: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, Any] | None:
    """The Postgres connection a dagster.yaml's storage names (``host``, ``port``, ``dbname``,
    ``user``, ``password`` and extra ``params``), resolved from the environment; None when its
    storage is not Postgres."""
    env = os.environ if environ is None else environ
    candidates = [config.get("storage", {}).get("postgres")] if config.get("storage") else []
    candidates += [
        (config.get(key) or {}).get("config")
        for key in _PG_KEYS
        if "postgres" in str((config.get(key) or {}).get("module", ""))
    ]
    pg = next((c for c in candidates if c), None)
    if pg is None:
        return None
    url = _value(pg.get("postgres_url"), env)
    if url:
        parts = urlsplit(str(url))
        return {
            "host": parts.hostname or "",
            "port": str(parts.port or 5432),
            "dbname": parts.path.lstrip("/"),
            "user": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "params": {},
        }
    db = {key: _value(value, env) for key, value in (pg.get("postgres_db") or {}).items()}
    return {
        "host": str(db.get("hostname") or ""),
        "port": str(db.get("port") or 5432),
        "dbname": str(db.get("db_name") or ""),
        "user": str(db.get("username") or ""),
        "password": str(db.get("password") or ""),
        "params": dict(db.get("params") or {}),
    }


def instance_problem(home: Path, environ: Mapping[str, str] | None = None) -> str | None:
    """One line when the instance in ``home`` keeps its storage in a Postgres that cannot be
    reached or refuses the login (else None). Names host:port/database and the fix; never the
    password."""
    if not (home / "dagster.yaml").exists():
        return None
    from dagster._core.errors import DagsterInvalidConfigError
    from dagster._core.instance.config import dagster_instance_config

    try:
        config, _ = dagster_instance_config(str(home))
    except DagsterInvalidConfigError as exc:
        first = " ".join(str(exc).split())[:300]
        return f"{home / 'dagster.yaml'} is not a valid Dagster instance configuration: {first}"
    settings = postgres_settings(config, environ)
    if settings is None:
        return None
    where = f"{settings['host']}:{settings['port']}/{settings['dbname']}"
    try:
        import psycopg2
    except ImportError:
        return (
            f"the Dagster instance in {home} keeps its storage in Postgres ({where}) but "
            "dagster-postgres is not installed; fix: pip install 'meter-pipeline[scale]'"
        )
    password = settings["password"]
    try:
        psycopg2.connect(
            host=settings["host"],
            port=settings["port"],
            dbname=settings["dbname"],
            user=settings["user"],
            password=password,
            connect_timeout=CONNECT_TIMEOUT_S,
            **settings["params"],
        ).close()
    except psycopg2.Error as exc:
        reason = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
        if password:
            reason = reason.replace(password, "***")
        return (
            f"the Dagster instance's Postgres at {where} (user {settings['user']!r}) refused the "
            f"connection: {reason}; fix: start the server or correct the DAGSTER_PG_* variables "
            f"that {home / 'dagster.yaml'} reads (host, port, database, user, password)"
        )
    return None
