"""The test services of :mod:`tests.helpers.services` start on 127.0.0.1 only and are always
stopped: after the block, also when it raises or is interrupted, their ports are closed and
their processes reaped."""

from __future__ import annotations

import socket

import pytest

from tests.helpers import services
from tests.helpers.s3 import s3_server


def listens_only_on_loopback(port: int) -> bool:
    """Not reachable through another local address (when the machine has one)."""
    try:
        other = socket.gethostbyname(socket.gethostname())
    except OSError:
        return True
    return other.startswith("127.") or not services.port_open(port, other)


def test_postgres_runs_on_its_own_port_and_is_gone_after_an_interrupt():
    with pytest.raises(KeyboardInterrupt), services.postgres() as pg:
        import psycopg2

        conn = psycopg2.connect(
            host=pg.host, port=pg.port, user=pg.user, password=pg.password, dbname=pg.dbname
        )
        with conn.cursor() as cur:
            cur.execute("select 1")
            assert cur.fetchone() == (1,)
        conn.close()
        assert listens_only_on_loopback(pg.port)
        port, pid, folder = pg.port, pg.pid, pg.folder
        raise KeyboardInterrupt
    assert not services.port_open(port) and not services.alive(pid) and not folder.exists()


def test_redis_and_moto_are_gone_after_a_failure():
    with pytest.raises(RuntimeError), services.redis() as redis, s3_server() as moto:
        assert services.port_open(redis.port) and listens_only_on_loopback(redis.port)
        assert moto.client().list_buckets()["Buckets"] == []  # the empty S3 server answers
        ports, pids = (redis.port, moto.port), (redis.pid, moto.pid)
        raise RuntimeError("the test failed")
    assert not [p for p in ports if services.port_open(p)]
    assert not [p for p in pids if services.alive(p)]
