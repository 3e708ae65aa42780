"""A database that cannot be reached answers 503 with Retry-After (pages and API), never 500; once it is back
the same app serves again without a restart."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from marketplace import create_app
from marketplace.extensions import db
from tests.conftest import TEST_PASSWORD
from tests.factories import Factory
from tests.marketplace.test_ops import closed_port

PATHS = ("/", "/offers/", "/needs/", "/search/?q=核酸", "/login", "/api/v1/offers/", "/api/v1/needs/")
TOKEN = {"Authorization": "Bearer tb_not-a-real-token-but-well-formed"}


def outage_app(tmp_path, url: str):
    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": str(tmp_path),
                                           "MEILI_URL": None, "REDIS_URL": None})
    app.config["PROPAGATE_TEST_ERRORS"] = False  # as in production: no exception reaches the test client
    return app


def assert_unavailable(app) -> int:
    client = app.test_client()
    fired = 0
    for path in PATHS:
        for method in ("post",) if path == "/login" else ("get", "post") if path == "/api/v1/needs/" else ("get",):
            kwargs = {"json": {"organization_id": 1, "kind": "procurement", "title_zh": "x"}, "headers": TOKEN} \
                if path.startswith("/api/") and method == "post" else {}
            if path == "/login" and method == "post":
                kwargs = {"data": {"email": "a@example.org", "password": "wrong-password-123"}}
            reply = getattr(client, method)(path, **kwargs)
            fired += 1
            assert reply.status_code == 503, (method, path, reply.status_code, reply.get_data(as_text=True)[:300])
            assert int(reply.headers["Retry-After"]) > 0
            if path.startswith("/api/"):
                assert reply.mimetype == "application/problem+json"
                assert reply.get_json()["status"] == 503
            else:
                assert "text/html" in reply.content_type
    return fired


def test_sqlite_file_that_cannot_be_opened_answers_503(tmp_path):
    app = outage_app(tmp_path, f"sqlite:///{tmp_path / 'missing-dir' / 'no' / 'db.sqlite'}")
    assert assert_unavailable(app) == 8


def test_postgresql_on_a_closed_port_answers_503(tmp_path):
    pytest.importorskip("psycopg")
    app = outage_app(tmp_path, f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/techbridge")
    assert assert_unavailable(app) == 8


# --- a PostgreSQL restart, on a cluster of our own (the shared server is never touched) ---------------------

def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return os.path.dirname(found[-1]) if found else None


class OwnCluster:
    """A throwaway PostgreSQL cluster in ``tmp_path`` on a free port (run as the postgres user under root)."""

    def __init__(self, directory: Path):
        self.bin = _pg_bin()
        self.data = directory / "pgdata"
        self.port = closed_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [os.path.join(self.bin, args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.data.parent, "postgres")
            os.chmod(self.data.parent, 0o755)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.data.parent / "pg.log"), "-o",
                  f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data.parent}", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")


@pytest.fixture
def own_cluster(tmp_path):
    pytest.importorskip("psycopg")
    if _pg_bin() is None:
        pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin)")
    directory = Path(tempfile.mkdtemp(prefix="tb-pg-"))  # the server's user must reach it: not under pytest's 0700 tmp
    cluster = OwnCluster(directory)
    try:
        cluster.init()
        cluster.start()
    except (subprocess.CalledProcessError, OSError, LookupError) as exc:
        shutil.rmtree(directory, ignore_errors=True)
        pytest.skip(f"cannot start a PostgreSQL cluster of our own: {exc} {getattr(exc, 'stderr', '')}")
    yield cluster
    try:
        cluster.stop()
    except subprocess.CalledProcessError:
        pass
    shutil.rmtree(directory, ignore_errors=True)


def test_postgresql_restart_answers_503_meanwhile_and_recovers(tmp_path, own_cluster):
    app = outage_app(tmp_path, own_cluster.url)
    with app.app_context():
        db.create_all()
        from marketplace.reference.taxonomy import load_taxonomy
        load_taxonomy(db.session)
        db.session.commit()
    make = Factory(app, TEST_PASSWORD)
    org = make.org("firm")
    make.offer(org, title_zh="重启之前的产品")
    client = app.test_client()
    assert client.get("/offers/").status_code == 200
    assert client.get("/api/v1/offers/").status_code == 200  # the pool now holds connections to the old server

    own_cluster.stop()
    fired = assert_unavailable(app)
    own_cluster.start()
    deadline = time.monotonic() + 10
    while client.get("/offers/").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    replies = [client.get(path).status_code for path in ("/offers/", "/api/v1/offers/", "/")]
    assert replies == [200, 200, 200] and fired == 8
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
