"""An S3-compatible server for tests (moto's server mode, a separate process on 127.0.0.1), and
copying a local data root into it."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import obstore
from obstore.store import S3Store

from tests.helpers import services

#: moto checks signatures once this many requests have run unauthenticated: the ones that make
#: the test's IAM user and its key (see :func:`s3_server`).
SETUP_REQUESTS = 3


@dataclass
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    pid: int = 0

    @property
    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1])

    def env(self) -> dict[str, str]:
        """The standard AWS variables that point a process at this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": "us-east-1",
        }

    def store(self, bucket: str, prefix: str | None = None) -> S3Store:
        return S3Store(
            bucket,
            prefix=prefix,
            endpoint=self.endpoint,
            region="us-east-1",
            access_key_id=self.access_key,
            secret_access_key=self.secret_key,
            client_options={"allow_http": True},
        )

    def create_bucket(self, bucket: str) -> None:
        self.client().create_bucket(Bucket=bucket)

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
        )

    def upload(self, local: Path, bucket: str, prefix: str) -> None:
        """Copy every file under ``local`` to ``s3://bucket/prefix/`` (same relative names)."""
        store = self.store(bucket, prefix)
        for path in sorted(local.rglob("*")):
            if path.is_file() and not path.is_symlink():
                obstore.put(store, path.relative_to(local).as_posix(), path.read_bytes())

    def download(self, bucket: str, prefix: str, local: Path) -> None:
        store = self.store(bucket, prefix)
        for batch in obstore.list(store):
            for meta in batch:
                target = local / meta["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(bytes(obstore.get(store, meta["path"]).bytes()))


@contextmanager
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server in its own process group, stopped (also on failure) when the block ends.
    It checks credentials (an IAM user with full access, made first): a wrong secret is refused
    as AWS refuses it."""
    folder = Path(tempfile.mkdtemp(prefix="meter-moto-"))
    port = services.free_port()
    args = [sys.executable, "-m", "moto.server", "-H", services.HOST, "-p", str(port)]
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_REQUESTS)}
    try:
        with services.started(args, folder / "moto.log", cwd=folder, env=env) as proc:
            services.wait_for(lambda: services.port_open(port), "moto server", 60, proc)
            endpoint = f"http://{services.HOST}:{port}"
            yield S3Server(endpoint, *_user(endpoint), pid=proc.pid)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _user(endpoint: str) -> tuple[str, str]:
    """An IAM user allowed everything, and its access key (the server's first requests)."""
    import boto3

    iam = boto3.client(
        "iam", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="setup", aws_secret_access_key="setup",
    )  # fmt: skip
    iam.create_user(UserName="meter")
    policy = (
        '{"Version": "2012-10-17", '
        '"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
    )
    iam.put_user_policy(UserName="meter", PolicyName="all", PolicyDocument=policy)
    key = iam.create_access_key(UserName="meter")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]
