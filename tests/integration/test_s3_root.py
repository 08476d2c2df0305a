"""A data root on an S3 API (moto's server mode on 127.0.0.1): the CLI backfill writes every table
of the range there, equal byte for byte to a local run of the same inputs; conditional writes make
the second of two writers of one partition fail cleanly; bad configuration is one clear line that
never holds the secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import obstore
import polars as pl
import pytest

from meter_pipeline.finance.query import run_query, tables
from meter_pipeline.io import warehouse
from meter_pipeline.storage import PartitionBusy, storage_for
from meter_pipeline.storage.s3 import S3Config, S3Storage
from tests.helpers.month_root import END, START, table_bytes, write_month_root
from tests.helpers.s3 import S3Server, s3_server
from tests.helpers.services import free_port

BUCKET = "meter-data"
PREFIX = "acme/prod"
URL = f"s3://{BUCKET}/{PREFIX}"


@pytest.fixture(scope="module")
def server() -> S3Server:
    with s3_server() as found:
        found.create_bucket(BUCKET)
        yield found


@pytest.fixture
def aws_env(server, monkeypatch):
    for key, value in server.env().items():
        monkeypatch.setenv(key, value)
    return server.env()


def cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    program = str(Path(sys.executable).with_name("meter-pipeline"))
    full = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DAGSTER_HOME"))}
    return subprocess.run(
        [program, *args], env={**full, **env}, cwd=cwd, capture_output=True, text=True
    )


def s3_tables(server: S3Server, prefix: str) -> dict[str, bytes]:
    """Every table's objects under the prefix (not the event index, as table_bytes)."""
    store = server.store(BUCKET, prefix)
    out = {}
    for batch in obstore.list(store, "warehouse/"):
        for meta in batch:
            path = meta["path"]
            if path.endswith(".parquet") and not path.split("/")[1].startswith("_"):
                out[path] = bytes(obstore.get(store, path).bytes())
    return dict(sorted(out.items()))


@pytest.mark.slow
def test_a_backfill_over_an_s3_root_writes_the_tables_of_a_local_run(server, tmp_path):
    local = write_month_root(tmp_path / "local")
    server.upload(local, BUCKET, PREFIX)
    args = ["backfill", "--start", str(START), "--end", str(END)]
    ran = cli(*args, "--root", URL, env=server.env(), cwd=tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    done = cli(*args, "--root", str(local), env={}, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr

    remote, expected = s3_tables(server, PREFIX), table_bytes(local)
    assert remote.keys() == expected.keys()
    assert [k for k in expected if remote[k] != expected[k]] == []
    assert any("invoices/billing_period=2026-09" in k for k in remote)
    # the close manifest is there too, listing the same files with the same hashes
    store = server.store(BUCKET, PREFIX)
    rel = "warehouse/_manifests/billing_period=2026-09/manifest.json"
    assert bytes(obstore.get(store, rel).bytes()) == (local / rel).read_bytes()
    assert server.secret_key not in ran.stdout + ran.stderr

    # the audit trail holds on the store: verify re-hashes the objects and recomputes the month
    checked = cli("verify", "--root", URL, "--period", "2026-09", env=server.env(), cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # the what-if tools read the store and write a local folder
    out = tmp_path / "sept-asof"
    args_asof = ["asof", "--root", URL, "--period", "2026-09", "--as-of", "2026-10-01"]
    asof = cli(*args_asof, "--out", str(out), "--diff", env=server.env(), cwd=tmp_path)
    assert asof.returncode == 0, asof.stdout + asof.stderr
    assert "every invoice equals the stored close" in asof.stdout
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text((local / "reference" / "pricing.yaml").read_text())
    reprice = cli(
        "reprice", "--root", URL, "--pricing", str(candidate), "--start", "2026-09",
        "--end", "2026-09", "--out", str(tmp_path / "whatif"), env=server.env(), cwd=tmp_path,
    )  # fmt: skip
    assert reprice.returncode == 0, reprice.stdout + reprice.stderr

    # re-running changes nothing
    again = cli(*args, "--root", URL, env=server.env(), cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert s3_tables(server, PREFIX) == remote


@pytest.mark.slow
def test_polars_and_duckdb_read_the_invoices_straight_from_the_store(server, aws_env, tmp_path):
    local = write_month_root(tmp_path / "local")
    prefix = "finance-read"
    server.upload(local, BUCKET, prefix)
    root = f"s3://{BUCKET}/{prefix}"
    ran = cli(
        "backfill", "--root", root, "--start", str(START), "--end", str(END),
        env=server.env(), cwd=tmp_path,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    storage = storage_for(root)
    glob = f"{root}/warehouse/invoices/*/part-0.parquet"
    invoices = pl.read_parquet(
        glob, storage_options=storage.storage_options, hive_partitioning=True
    )
    assert invoices.height >= 1 and set(invoices["billing_period"].cast(str)) == {"2026-09"}

    total = run_query(root, "select sum(total) from invoices").fetchall()[0][0]
    assert "invoices" in tables(root)
    assert total == invoices["total"].sum()


def test_writers_race_one_object_stands_whole_and_one_fails(server, aws_env):
    root = f"s3://{BUCKET}/race"
    storage = storage_for(root)
    rel = "warehouse/t/landing_date=2026-09-01/part-0.parquet"
    first, second = storage.replace(rel), storage.replace(rel)
    a, b = first.__enter__(), second.__enter__()  # both saw no object when they began
    a.write_bytes(b"a" * 1000)
    b.write_bytes(b"b" * 1000)
    first.__exit__(None, None, None)
    with pytest.raises(PartitionBusy, match=r"partition s3://meter-data/race/warehouse/t/"):
        second.__exit__(None, None, None)
    assert storage.read_bytes(rel) == b"a" * 1000
    keys = [m["path"] for batch in obstore.list(server.store(BUCKET, "race")) for m in batch]
    assert keys == [rel]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:{port}"}, "cannot reach the object store"),
        ({"AWS_SECRET_ACCESS_KEY": "wrong-{secret}"}, "refused the credentials"),
        ({"ROOT": "s3://no-such-bucket/x"}, "bucket 'no-such-bucket' does not exist"),
        ({"ROOT": f"s3://{BUCKET}/empty-prefix"}, "has no reference/ folder"),
    ],
)
def test_bad_configuration_is_one_line_before_anything_runs(server, tmp_path, change, words):
    env = server.env()
    root = change.pop("ROOT", URL) if "ROOT" in change else URL
    env.update({k: v.format(port=free_port(), secret=server.secret_key) for k, v in change.items()})
    ran = cli(
        "backfill", "--root", root, "--start", "2026-09-01", "--end", "2026-09-01",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert ran.returncode != 0
    lines = [line for line in ran.stderr.splitlines() if line.strip()]
    assert words in ran.stderr and len(lines) <= 2, ran.stderr
    assert "Traceback" not in ran.stderr
    assert server.secret_key not in ran.stdout + ran.stderr
    assert not (tmp_path / ".dagster").exists(), "nothing ran"


def test_the_storage_never_shows_its_secret():
    config = S3Config(access_key_id="AKIA-CANARY", secret_access_key="canary-s3cr3t-7f3a9c")
    storage = S3Storage("s3://b/p", config)
    assert "canary-s3cr3t" not in repr(config) + repr(storage)


def test_a_landing_folder_on_the_store_lists_as_a_local_one(server, aws_env, tmp_path):
    """Names, sub-folders skipped and listed, sizes and SHA-256: as for a local root."""
    from meter_pipeline.io.landing import event_folder, iter_event_files, list_landing

    local = tmp_path / "root"
    day = local / event_folder("2026-09-01")
    (day / "sub").mkdir(parents=True)
    (day / "a.jsonl").write_bytes(b'{"event_id": "e1"}\n')
    (day / "b.csv.gz").write_bytes(b"not gzip")
    (day / "notes.txt").write_text("hello")
    (day / ".hidden.jsonl").write_text("{}\n")
    (day / "sub" / "x.jsonl").write_text("{}\n")
    server.upload(local, BUCKET, "listing")
    # a folder marker, as consoles make them, is no entry
    obstore.put(server.store(BUCKET, "listing"), event_folder("2026-09-01") + "/", b"")

    def seen(root):
        listing = list_landing(root, event_folder("2026-09-01"))
        files = [(info.path, info.bytes, info.sha256, info.rows) for info, _ in
                 iter_event_files(listing)]  # fmt: skip
        return [f[0] for f in listing.files], listing.skipped, listing.reasons, files

    assert seen(f"s3://{BUCKET}/listing") == seen(local)
    names, skipped, reasons, _ = seen(local)
    assert names == [f"{event_folder('2026-09-01')}/{n}" for n in ("a.jsonl", "b.csv.gz")]
    assert dict(zip(skipped, reasons, strict=True)) == {
        f"{event_folder('2026-09-01')}/.hidden.jsonl": "not a landing file name",
        f"{event_folder('2026-09-01')}/notes.txt": "not a landing file name",
        f"{event_folder('2026-09-01')}/sub": "sub-folder",
    }


def test_the_demo_checks_the_store_first_and_uploads_a_root_it_writes(server, aws_env, tmp_path):
    ran = cli("demo", "--root", "s3://no-such-bucket/demo", env=server.env(), cwd=tmp_path)
    assert ran.returncode == 2 and "bucket 'no-such-bucket' does not exist" in ran.stderr
    assert "Traceback" not in ran.stderr and not (tmp_path / ".dagster").exists()

    local = write_month_root(tmp_path / "local")
    storage = storage_for(f"s3://{BUCKET}/uploaded")
    assert not storage.is_folder("reference")
    storage.upload_tree(local)
    files = sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file())
    listed = [m["path"] for b in obstore.list(server.store(BUCKET, "uploaded")) for m in b]
    assert sorted(listed) == files
    assert storage.read_bytes(files[0]) == (local / files[0]).read_bytes()


def test_a_missing_object_is_file_not_found_naming_it(server, aws_env):
    storage = storage_for(f"s3://{BUCKET}/missing")
    rel = "warehouse/t/landing_date=2026-09-01/part-0.parquet"
    for read in (storage.read_bytes, lambda r: storage.open_read(r).__enter__()):
        with pytest.raises(FileNotFoundError) as found:
            read(rel)
        assert str(found.value) == f"s3://{BUCKET}/missing/{rel}"
    assert warehouse.read_stored(f"s3://{BUCKET}/missing", "clean_events", "2026-09-01") is None
    assert warehouse.read_metadata(f"s3://{BUCKET}/missing", "clean_events", "2026-09-01") is None
