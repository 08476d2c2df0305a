"""The deployment variables (SPEC §13): the backfill policy per run, the executor, and their
one-line errors; the deploy/ files parse and Dagster's own schemas accept them."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml

from meter_pipeline.definitions import build_definitions
from meter_pipeline.deployment import (
    CELERY_BACKEND,
    CELERY_BROKER,
    EXECUTOR,
    PARTITIONS_PER_RUN,
    CeleryConfig,
    DeploymentError,
    backfill_policy,
    celery_config,
    check_environment,
    chunks,
    executor_name,
    partitions_per_run,
    redact_url,
)
from meter_pipeline.instance import postgres_settings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
CELERY_ENV = {EXECUTOR: "celery", CELERY_BROKER: "redis://r:6379/0", CELERY_BACKEND: "redis://r/1"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        ("1", 1),
        ("7", 7),
        (" 31 ", 31),
    ],
    ids=["unset", "empty", "blank", "one", "a week", "spaces around"],
)
def test_partitions_per_run_parses_a_positive_integer_or_nothing(value, expected):
    environ = {} if value is None else {PARTITIONS_PER_RUN: value}
    assert partitions_per_run(environ) == expected


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "seven", "1e3", "3 days"])
def test_a_bad_partitions_per_run_is_one_line_naming_the_variable_and_the_fix(value):
    with pytest.raises(DeploymentError) as caught:
        partitions_per_run({PARTITIONS_PER_RUN: value})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{PARTITIONS_PER_RUN}={value!r} is not a positive integer")
    assert "fix: " in message


def test_unset_keeps_the_single_run_policy_and_n_gives_runs_of_n():
    assert backfill_policy({}) == dg.BackfillPolicy.single_run()
    assert backfill_policy({PARTITIONS_PER_RUN: "3"}) == dg.BackfillPolicy.multi_run(3)


def policies(defs: dg.Definitions) -> dict[str, dg.BackfillPolicy | None]:
    graph = defs.resolve_asset_graph()
    return {
        key.to_user_string(): graph.get(key).backfill_policy
        for key in graph.get_all_asset_keys()
        if graph.get(key).is_materializable
    }


def test_the_definitions_take_the_policy_from_the_environment_when_they_load():
    default = policies(build_definitions(environ={}))
    assert set(default.values()) == {dg.BackfillPolicy.single_run()}
    spread = policies(build_definitions(environ={PARTITIONS_PER_RUN: "2"}))
    assert spread.keys() == default.keys()
    assert set(spread.values()) == {dg.BackfillPolicy.multi_run(2)}


def test_a_bad_value_stops_the_definitions_from_loading():
    with pytest.raises(DeploymentError, match=PARTITIONS_PER_RUN):
        build_definitions(environ={PARTITIONS_PER_RUN: "0"})


@pytest.mark.parametrize(
    ("keys", "size", "expected"),
    [
        (["d1", "d2", "d3", "d4", "d5"], None, [["d1", "d2", "d3", "d4", "d5"]]),
        (["d1", "d2", "d3", "d4", "d5"], 2, [["d1", "d2"], ["d3", "d4"], ["d5"]]),
        (["d1", "d2"], 5, [["d1", "d2"]]),
        (["d1", "d2", "d3"], 1, [["d1"], ["d2"], ["d3"]]),
        ([], 2, []),
    ],
    ids=["unset: one run", "runs of two, the rest last", "fewer than N", "one each", "none"],
)
def test_chunks_keep_the_order_and_hold_at_most_n(keys, size, expected):
    assert chunks(keys, size) == expected


def test_the_default_executor_is_left_to_dagster():
    defs = build_definitions(environ={})
    job = defs.resolve_job_def("daily_ingestion")
    assert job.executor_def.name == "multi_or_in_process_executor"
    assert executor_name({}) == "default" and celery_config({}) is None
    assert executor_name({EXECUTOR: "default"}) == "default"


def test_celery_is_chosen_by_variable_and_configured_by_variable_names_only():
    defs = build_definitions(environ=CELERY_ENV)
    for name in ("daily_ingestion", "monthly_close", "daily_monitoring"):
        assert defs.resolve_job_def(name).executor_def.name == "celery"
    config = celery_config(CELERY_ENV)
    assert config == CeleryConfig(CELERY_BROKER, CELERY_BACKEND)
    # the values (which may hold a password) are read by the executor at run time, never
    # written into the run's configuration
    assert "redis://" not in str(config.executor_config())


def test_deploy_celery_yaml_is_the_executor_config_the_definitions_use():
    text = yaml.safe_load((DEPLOY / "celery.yaml").read_text())
    assert text == {"execution": {"config": CeleryConfig().executor_config()}}
    from dagster._config import validate_config
    from dagster_celery import celery_executor

    assert validate_config(celery_executor.config_schema.config_type, text["execution"]["config"])


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({EXECUTOR: "celery"}, CELERY_BROKER),
        ({EXECUTOR: "celery", CELERY_BROKER: "redis://r/0"}, CELERY_BACKEND),
        ({EXECUTOR: "k8s"}, EXECUTOR),
    ],
    ids=["no broker", "no backend", "unknown executor"],
)
def test_a_bad_executor_setting_is_one_line_naming_the_variable(environ, variable):
    with pytest.raises(DeploymentError) as caught:
        check_environment(environ)
    assert variable in str(caught.value) and "fix: " in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:canary-pw@redis:6379/0", "redis://:***@redis:6379/0"),
        ("redis://user:canary-pw@redis/0", "redis://user:***@redis/0"),
        ("redis://redis:6379/0", "redis://redis:6379/0"),
    ],
)
def test_a_broker_url_is_shown_without_its_password(url, shown):
    assert redact_url(url) == shown


def test_deploy_dagster_yaml_is_accepted_by_dagsters_instance_schema(tmp_path):
    """dagster.yaml validated as the instance loads it (dagster._core.instance.config)."""
    from dagster._config import validate_config
    from dagster._core.instance.config import dagster_instance_config
    from dagster._core.run_coordinator import QueuedRunCoordinator

    (tmp_path / "dagster.yaml").write_text((DEPLOY / "dagster.yaml").read_text())
    config, custom_class = dagster_instance_config(str(tmp_path))
    assert custom_class is None and "postgres" in config["storage"]
    coordinator = config["run_coordinator"]
    assert coordinator["class"] == "QueuedRunCoordinator"
    checked = validate_config(QueuedRunCoordinator.config_type(), coordinator["config"])
    assert checked.success, checked.errors
    limits = {
        (lim["value"], lim["limit"]) for lim in coordinator["config"]["tag_concurrency_limits"]
    }
    assert ("monthly_close", 1) in limits  # months close one at a time


def test_deploy_dagster_yaml_takes_every_connection_setting_from_the_environment():
    config = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    pg = config["storage"]["postgres"]["postgres_db"]
    for key in ("hostname", "port", "username", "password", "db_name"):
        assert set(pg[key]) == {"env"}, key
    environ = {
        "DAGSTER_PG_HOST": "db",
        "DAGSTER_PG_PORT": "5433",
        "DAGSTER_PG_USERNAME": "dagster",
        "DAGSTER_PG_PASSWORD": "p",
        "DAGSTER_PG_DB": "meter",
    }
    settings = postgres_settings(config, environ)
    assert settings is not None
    assert (settings["host"], settings["port"], settings["dbname"]) == ("db", "5433", "meter")
    assert postgres_settings({"telemetry": {"enabled": False}}, environ) is None


def test_postgres_settings_read_a_postgres_url_too():
    config = {"storage": {"postgres": {"postgres_url": {"env": "PG_URL"}}}}
    settings = postgres_settings(config, {"PG_URL": "postgresql://u:p%40ss@h:6000/d"})
    assert settings is not None
    assert (settings["host"], settings["port"], settings["dbname"]) == ("h", "6000", "d")
    assert (settings["user"], settings["password"]) == ("u", "p@ss")


def test_k8s_needs_dagster_k8s_which_the_kubernetes_image_installs():
    # dagster-k8s is not a dependency here: the image the chart runs installs it
    try:
        import dagster_k8s  # noqa: F401
    except ImportError:
        with pytest.raises(DeploymentError, match="pip install dagster-k8s==0.29.27"):
            check_environment({EXECUTOR: "k8s"})
    else:
        check_environment({EXECUTOR: "k8s"})
        job = build_definitions(environ={EXECUTOR: "k8s"}).resolve_job_def("daily_ingestion")
        assert job.executor_def.name == "k8s"


def walk(value, path=()):
    """Every (path, leaf) of a parsed YAML document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, (*path, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from walk(item, (*path, str(i)))
    else:
        yield path, value


def test_the_helm_values_run_this_package_with_secrets_from_kubernetes_only():
    """No cluster here: the values are checked for what this product needs of them (the chart's
    own schema is not vendored; docs/deploy.md says how to lint them with helm)."""
    values = yaml.safe_load((DEPLOY / "k8s" / "values.yaml").read_text())
    secrets = [
        (path, leaf)
        for path, leaf in walk(values)
        if any(word in path[-1].lower() for word in ("password", "secret_access", "secretkey"))
        and leaf not in ("", None, False)
    ]
    assert secrets == []  # no literal password or key: they come from Secrets
    assert values["postgresql"]["enabled"] is False
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    (code,) = values["dagster-user-deployments"]["deployments"]
    assert code["dagsterApiGrpcArgs"] == ["--module-name", "meter_pipeline.definitions"]
    env = {item["name"]: item["value"] for item in code["env"]}
    assert env["METER_PIPELINE_ROOT"].startswith("s3://")
    assert partitions_per_run(env) == 7 and executor_name(env) == "k8s"
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert code["envSecrets"] == launcher["envSecrets"] == [{"name": "meter-pipeline-aws"}]
    queue = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    instance = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())["run_coordinator"]["config"]
    assert queue["maxConcurrentRuns"] == instance["max_concurrent_runs"]
    assert queue["tagConcurrencyLimits"] == instance["tag_concurrency_limits"]
