"""Real parallel requests against gunicorn with several worker processes.

The site under test is the session's test database (SQLite file or ``DATABASE_URL``), served by gunicorn
with ``WEB_CONCURRENCY`` sync workers (separate processes, so separate connections and no shared memory),
jobs in-process and the embedded search backend, as a single-machine deployment runs. Data is prepared
with the usual factory (``make``); requests are fired at the same instant from threads released by a
barrier, so they really overlap inside different workers.

Every test using ``live_site`` also fails if gunicorn logged a traceback (a 500) during the test.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from search.testing import free_port
from tests.conftest import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4


class LiveSite:
    """A gunicorn process serving the test database; its log is read to find server errors."""

    def __init__(self, app, tmp: Path):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / "gunicorn.log"
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("MEILI_", "REDIS_", "GUNICORN_", "FLASK_"))
               and key not in ("DATABASE_URL", "SECRET_KEY", "WEB_CONCURRENCY", "PORT")}
        env.update({
            "TECHBRIDGE_ENV": "testing",
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "INSTANCE_DIR": app.config["INSTANCE_DIR"],
            "GUNICORN_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": str(WORKERS),
            "GUNICORN_THREADS": "1", "GUNICORN_ACCESSLOG": "", "GUNICORN_LOGLEVEL": "warning",
            "GUNICORN_TIMEOUT": "60", "GUNICORN_MAX_REQUESTS": "0", "PYTHONUNBUFFERED": "1",
        })
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.process = subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log()[-3000:]}")
            try:
                if requests.get(f"{self.base_url}/healthz", timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self) -> LiveClient:
        return LiveClient(self.base_url)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


class LiveClient(requests.Session):
    """A browser stand-in: keeps cookies, logs in, never follows redirects unless asked."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url
        self.headers["Accept-Language"] = "zh"

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 60)
        return super().request(method, self.base_url + url if url.startswith("/") else url, *args, **kwargs)

    def login(self, email: str, password: str = TEST_PASSWORD) -> LiveClient:
        response = self.post("/login", data={"email": email, "password": password})
        assert response.status_code in (302, 303), f"login of {email} answered {response.status_code}"
        return self


def fire(calls) -> list:
    """Run the callables at the same instant, one thread each; return their results in order.

    A barrier releases all threads together so the requests overlap on the server. Exceptions are
    returned in place of results (a test decides whether they matter).
    """
    calls = list(calls)
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 (reported to the test)
            return exc

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def statuses(responses) -> list:
    """Status codes of the responses (the exception's class name where a call raised)."""
    return [getattr(r, "status_code", type(r).__name__) for r in responses]


@pytest.fixture(scope="session")
def live_site(app, tmp_path_factory):
    site = LiveSite(app, tmp_path_factory.mktemp("live"))
    yield site
    site.stop()


@pytest.fixture
def live(live_site):
    """The running site; fails the test if a worker logged a server error while it ran."""
    start = len(live_site.log())
    yield live_site
    logged = live_site.log()[start:]
    assert "Traceback" not in logged and "unhandled error" not in logged, f"server errors:\n{logged[-4000:]}"
