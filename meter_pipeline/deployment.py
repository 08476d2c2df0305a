"""How the graph is spread over runs and workers, from environment variables read when the
definitions load (docs/deploy.md#environment-variables).

- ``METER_PIPELINE_PARTITIONS_PER_RUN``: a positive integer N makes every asset's backfill
  policy ``multi_run(N)`` (a ranged backfill becomes runs of at most N partitions, which a run
  launcher and executor spread over workers); unset, the whole range is one run, as always.
- ``METER_PIPELINE_EXECUTOR``: ``celery`` runs each step on Dagster's Celery executor
  (dagster-celery), with the broker of ``METER_PIPELINE_CELERY_BROKER`` and the result backend of
  ``METER_PIPELINE_CELERY_BACKEND`` (both required; one Redis serves both); ``k8s`` runs each
  step in a Kubernetes job of its own (dagster-k8s's ``k8s_job_executor``, under the
  ``K8sRunLauncher`` of deploy/k8s/values.yaml). Unset (or ``default``): Dagster's default
  executor, as always.

The parsing functions take the environment as a mapping and import no executor, so a wrong value
is one line naming the variable and the fix, before anything runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import dagster as dg

PARTITIONS_PER_RUN = "METER_PIPELINE_PARTITIONS_PER_RUN"
EXECUTOR = "METER_PIPELINE_EXECUTOR"
CELERY_BROKER = "METER_PIPELINE_CELERY_BROKER"
CELERY_BACKEND = "METER_PIPELINE_CELERY_BACKEND"
EXECUTORS = ("default", "celery", "k8s")
#: The most runs of one backfill the CLI orchestrates at once (each waits on its workers).
MAX_PARALLEL_RUNS = 16


class DeploymentError(ValueError):
    """A deployment variable is wrong: one line naming it and the fix."""


def partitions_per_run(environ: Mapping[str, str] | None = None) -> int | None:
    """N of ``METER_PIPELINE_PARTITIONS_PER_RUN``, or None when it is unset or empty."""
    text = (os.environ if environ is None else environ).get(PARTITIONS_PER_RUN, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise DeploymentError(
            f"{PARTITIONS_PER_RUN}={text!r} is not a positive integer; fix: set it to the most "
            "partitions one run may hold (e.g. 7), or unset it for one run per range"
        )
    return int(text)


def backfill_policy(environ: Mapping[str, str] | None = None) -> dg.BackfillPolicy:
    """``multi_run(N)`` when N is set, else the single-run policy the assets declare."""
    n = partitions_per_run(environ)
    return dg.BackfillPolicy.single_run() if n is None else dg.BackfillPolicy.multi_run(n)


def chunks(keys: list[str], size: int | None) -> list[list[str]]:
    """Consecutive runs of at most ``size`` keys, in order (``None``: one run of all)."""
    if not keys:
        return []
    if size is None:
        return [list(keys)]
    return [keys[i : i + size] for i in range(0, len(keys), size)]


@dataclass(frozen=True)
class CeleryConfig:
    """Where the Celery executor sends steps: the names of the variables, not their values, so
    no broker password is written into a run's configuration or its events."""

    broker_var: str = CELERY_BROKER
    backend_var: str = CELERY_BACKEND

    def executor_config(self) -> dict:
        """The ``celery_executor`` config (deploy/celery.yaml's ``execution.config``)."""
        return {"broker": {"env": self.broker_var}, "backend": {"env": self.backend_var}}


def executor_name(environ: Mapping[str, str] | None = None) -> str:
    """``default`` or ``celery`` from ``METER_PIPELINE_EXECUTOR``."""
    text = (os.environ if environ is None else environ).get(EXECUTOR, "").strip().lower()
    name = text or "default"
    if name not in EXECUTORS:
        raise DeploymentError(
            f"{EXECUTOR}={text!r} is not an executor this product runs on; fix: set it to "
            "celery (with METER_PIPELINE_CELERY_BROKER) or k8s, or unset it for the default"
        )
    return name


def celery_config(environ: Mapping[str, str] | None = None) -> CeleryConfig | None:
    """The Celery executor's configuration when ``METER_PIPELINE_EXECUTOR=celery``, else None."""
    env = os.environ if environ is None else environ
    if executor_name(env) != "celery":
        return None
    for name, what in ((CELERY_BROKER, "the broker's"), (CELERY_BACKEND, "the result backend's")):
        if not env.get(name, "").strip():
            raise DeploymentError(
                f"{EXECUTOR}=celery needs {name}; fix: set it to {what} URL, e.g. "
                "redis://redis-host:6379/0 (one Redis serves as both broker and backend)"
            )
    return CeleryConfig()


def executor(environ: Mapping[str, str] | None = None) -> dg.ExecutorDefinition | None:
    """The executor the definitions set, or None for Dagster's default (nothing is set)."""
    if executor_name(environ) == "k8s":
        from dagster_k8s import k8s_job_executor  # in the Kubernetes image: imported when chosen

        return k8s_job_executor
    config = celery_config(environ)
    if config is None:
        return None
    from dagster_celery import celery_executor  # the scale extra: imported only when chosen

    return celery_executor.configured(config.executor_config(), name="celery")


def check_environment(environ: Mapping[str, str] | None = None) -> None:
    """Every deployment variable parses (raises :class:`DeploymentError` otherwise)."""
    partitions_per_run(environ)
    if executor_name(environ) == "k8s":
        try:
            import dagster_k8s  # noqa: F401
        except ImportError:
            raise DeploymentError(
                f"{EXECUTOR}=k8s needs dagster-k8s; fix: pip install dagster-k8s==0.29.27 in the "
                "image that runs the code (docs/deploy.md#kubernetes)"
            ) from None
    if celery_config(environ) is not None:
        try:
            import dagster_celery  # noqa: F401
        except ImportError:
            raise DeploymentError(
                f"{EXECUTOR}=celery needs dagster-celery; fix: pip install "
                "'meter-pipeline[scale]' (pinned by requirements.lock)"
            ) from None


def redact_url(url: str) -> str:
    """A URL without its password (``redis://:***@host:6379/0``), fit for a log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def broker_problem(url: str, timeout: float = 5.0) -> str | None:
    """One line when the Celery broker cannot be reached or no worker answers on it, else None.
    The URL is named without its password."""
    from celery import Celery

    app = Celery("meter-pipeline-preflight", broker=url, backend=None)
    app.conf.broker_connection_timeout = timeout
    app.conf.broker_connection_retry_on_startup = False
    where = redact_url(url)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
        replies = app.control.ping(timeout=min(timeout, 3.0))
    except Exception as exc:  # kombu's OperationalError, socket errors, a bad URL
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if "@" in reason or ":" in reason:  # never repeat a URL the broker library quoted
            reason = type(exc).__name__ + ": " + reason.replace(url, where)
        return (
            f"the Celery broker {where} ({CELERY_BROKER}) is not reachable: {reason}; fix: start "
            f"the broker, or set {CELERY_BROKER} to its URL"
        )
    finally:
        app.close()
    if not replies:
        return (
            f"no Celery worker answers on the broker {where} ({CELERY_BROKER}); fix: start the "
            "workers with the same broker (dagster-celery worker start -A dagster_celery.app "
            "-y deploy/celery.yaml, see docs/deploy.md)"
        )
    return None
