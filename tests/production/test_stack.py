"""The production stack, started as an operator would: environment variables only, the Procfile's processes.

Runs only when DATABASE_URL points at PostgreSQL, that is once in CI: in the second (PostgreSQL) pass of
`.ci/run`. It creates a scratch database ``tb_stack_<pid>`` on that server, uses Redis database 14 (no other
test uses it; it is emptied before and after), starts a throwaway Meilisearch (`make meilisearch`), runs
`flask db upgrade` and `flask check`, then starts the Procfile's web (gunicorn, 2 workers), worker (RQ) and
relay processes and drives a journey over HTTP: registration and login with CSRF tokens, a firm lists an
offer, an operator approves and publishes it, search finds it through Meilisearch once the worker has
relayed the outbox, and a hospital's need shows the offer among its matches.

HTTPS: production marks cookies Secure and expects HTTPS. Here, as in a real deployment, a TLS-terminating
proxy is assumed in front of gunicorn: the processes run with TRUSTED_PROXIES=1 and the test plays that
proxy, sending X-Forwarded-Proto: https and X-Forwarded-For with each request and keeping the (Secure)
cookies itself. Production settings are not weakened for the test.

Skipped, with the reason, when PostgreSQL, Redis or Meilisearch is unavailable; under CI=true a missing
Meilisearch binary fails instead.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from search.testing import free_port, meilisearch_binary, start_meilisearch
from tests.factories import valid_uscc

ROOT = Path(__file__).resolve().parents[2]
REDIS_DB = 14
PASSWORD = "stack-journey-password-7"
pytestmark = [pytest.mark.postgres, pytest.mark.meili]


# --- the stack --------------------------------------------------------------------------------------------

def _requirements() -> tuple[str, str]:
    """(admin conninfo for PostgreSQL, Redis URL), or skip saying what is missing."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgresql", "postgres:")):
        pytest.skip("the production stack test runs in the PostgreSQL pass (DATABASE_URL=postgresql://...)")
    psycopg = pytest.importorskip("psycopg")
    redis = pytest.importorskip("redis")
    from sqlalchemy.engine import make_url
    admin = make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    try:
        psycopg.connect(admin, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    redis_url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    if meilisearch_binary() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Meilisearch binary missing under CI: `make meilisearch` must have installed .bin/meilisearch")
        pytest.skip("no Meilisearch binary: run `make meilisearch`")
    return admin, redis_url


def read_procfile() -> dict[str, list[str]]:
    processes = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            processes[name.strip()] = shlex.split(command)
    return processes


class Stack:
    """The running processes, their environment and log files."""

    def __init__(self, env: dict, base_url: str, logs: Path, meili: tuple[str, str]):
        self.env, self.base_url, self.logs, self.meili = env, base_url, logs, meili
        self.processes: dict[str, subprocess.Popen] = {}

    def flask(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        sys.stderr.write(f"[{time.monotonic():.1f}] flask {' '.join(args)}\n")
        return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout, check=False)

    def flask_background(self, *args: str) -> subprocess.Popen:
        """Start a flask command and return at once (commands overlap with the journey to save time)."""
        sys.stderr.write(f"[{time.monotonic():.1f}] flask {' '.join(args)} (background)\n")
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    @staticmethod
    def finish(process: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
        out, err = process.communicate(timeout=timeout)
        return process.returncode, out + err

    def start(self, name: str, argv: list[str]) -> None:
        executable = Path(sys.executable).parent / argv[0]
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 (closed in stop)
        self.processes[name] = subprocess.Popen([str(executable), *argv[1:]], cwd=ROOT, env=self.env,
                                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name].log_file = log

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def alive(self) -> None:
        for name, process in self.processes.items():
            assert process.poll() is None, f"{name} exited ({process.returncode}):\n{self.log(name)[-3000:]}"

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for name, process in self.processes.items():
            try:
                process.wait(timeout=15)
                sys.stderr.write(f"[{time.monotonic():.1f}] {name} stopped\n")
            except subprocess.TimeoutExpired:
                sys.stderr.write(f"[{time.monotonic():.1f}] {name} KILLED\n")
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            process.log_file.close()

    def rq_workers(self) -> int:
        from redis import Redis
        from rq import Worker
        return len(Worker.all(connection=Redis.from_url(self.env["REDIS_URL"])))

    def meili_document(self, index: str, doc_id: str) -> dict | None:
        url, key = self.meili
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        conn.request("GET", f"/indexes/tb_{index}/documents/{doc_id}", headers={"Authorization": f"Bearer {key}"})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return json.loads(body) if response.status == 200 else None


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    admin, redis_url = _requirements()
    import psycopg
    import redis as redis_lib
    from sqlalchemy.engine import make_url

    tmp = tmp_path_factory.mktemp("stack")
    name = f"tb_stack_{os.getpid()}"
    admin_conn = psycopg.connect(admin, autocommit=True)
    admin_conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_conn.execute(f'CREATE DATABASE "{name}"')
    redis_db = redis_lib.Redis.from_url(redis_url)
    redis_db.flushdb()
    meili_url, meili_key, stop_meili = start_meilisearch(tmp / "meili")
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MEILI_", "REDIS_", "GUNICORN_", "FLASK_")) and key not in (
               "DATABASE_URL", "SECRET_KEY", "TECHBRIDGE_ENV", "WEB_CONCURRENCY", "PORT", "MAIL_SERVER")}
    env.update({
        "TECHBRIDGE_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": make_url(admin).set(database=name).render_as_string(hide_password=False),
        "MEILI_URL": meili_url, "MEILI_MASTER_KEY": meili_key, "REDIS_URL": redis_url,
        "INSTANCE_DIR": str(tmp / "instance"), "TRUSTED_PROXIES": "1",
        "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "2",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}", "PYTHONUNBUFFERED": "1",
    })
    logs = tmp / "logs"
    logs.mkdir()
    stack = Stack(env, f"127.0.0.1:{port}", logs, (meili_url, meili_key))
    try:
        yield stack
    finally:
        stack.stop()
        stop_meili()
        redis_db.flushdb()
        admin_conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin_conn.close()


# --- a client that stands in for the TLS-terminating proxy and the browser behind it -----------------------

class Client:
    """HTTP/1.1 to gunicorn with X-Forwarded-Proto: https; keeps cookies (Secure ones too) like a browser on https."""

    def __init__(self, stack: Stack, address: str):
        self.stack, self.address = stack, address
        self.cookies: dict[str, str] = {}
        self.cookie_flags: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, follow: bool = True,
                referer: str | None = None):
        host, port = self.stack.base_url.split(":")
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": self.address, "Accept-Language": "en"}
        if referer:  # as a browser sends it; Flask-WTF checks it on https (WTF_CSRF_SSL_STRICT)
            headers["Referer"] = f"https://{self.stack.base_url}{referer}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", errors="replace")
        conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for key, morsel in jar.items():
                self.cookie_flags[key] = header
                if morsel["max-age"] == "0" or "1970" in (morsel["expires"] or ""):
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value
        location = response.headers.get("Location", "")
        if follow and response.status in (301, 302, 303) and location:
            target = urllib.parse.urlsplit(location)
            assert target.scheme in ("", "https"), f"redirect to {location}: the app should think it is on https"
            return self.request("GET", target.path + (f"?{target.query}" if target.query else ""))
        return response.status, location, text

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw)

    def csrf(self, path: str) -> str:
        status, _, html = self.get(path)
        assert status == 200, (path, status, html[:500])
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post(self, path: str, form: dict, token_from: str | None = None, follow: bool = False):
        form = dict(form, csrf_token=self.csrf(token_from or path))
        return self.request("POST", path, form=form, follow=follow, referer=token_from or path)

    def register(self, email: str, name: str, org_kind: str = "", org_name: str = "", n: int = 0) -> None:
        form = {"display_name": name, "email": email, "password": PASSWORD, "confirm": PASSWORD,
                "org_kind": org_kind, "org_name_zh": org_name, "org_uscc": valid_uscc(n) if org_kind else ""}
        status, location, html = self.post("/register", form)
        assert status == 302 and location.endswith("/account/"), (status, problems(html))

    def login(self, email: str) -> None:
        status, _, html = self.post("/login", {"email": email, "password": PASSWORD})
        assert status == 302, (status, problems(html))

    def logout(self) -> None:
        assert self.post("/logout", {}, token_from="/account/")[0] == 302


def problems(html: str) -> list[str]:
    """The flash messages and field errors on a page (for assertion messages)."""
    found = re.findall(r'class="(?:alert[^"]*|invalid-feedback[^"]*)"[^>]*>(.*?)</', html, flags=re.DOTALL)
    return [re.sub(r"\s+", " ", text).strip() for text in found if text.strip()] or [html[:500]]


def wait_for(what: str, probe, timeout: float = 30.0, stack: Stack | None = None):
    sys.stderr.write(f"[{time.monotonic():.1f}] waiting for {what}\n")
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if stack is not None:
            stack.alive()
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.3)


# --- the journey ------------------------------------------------------------------------------------------

def test_production_stack_journey(stack):
    upgrade = stack.flask("db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    taxonomy = stack.flask("taxonomy", "load")
    assert taxonomy.returncode == 0, taxonomy.stderr

    processes = read_procfile()
    assert set(processes) == {"web", "worker", "relay"}
    for name, argv in processes.items():
        stack.start(name, argv)

    anon = Client(stack, "203.0.113.10")

    def healthy():
        try:
            status, _, body = anon.get("/healthz")
        except OSError:
            return None
        return json.loads(body) if status == 200 else None
    health = wait_for("gunicorn to answer /healthz", healthy, stack=stack)
    # anonymous callers learn ok or degraded per component, nothing more (operators get the details below)
    assert health == {"status": "ok", "database": {"ok": True}, "search": {"ok": True}}
    assert stack.log("web").count("Booting worker") >= 2  # WEB_CONCURRENCY=2

    # With the worker listening, every check passes (only the e-mail folder and the matching model warn);
    # it runs while the journey goes on.
    wait_for("the RQ worker to register", stack.rq_workers, stack=stack)
    check = stack.flask_background("check")

    # Accounts: an operator given the role by the operations command, a firm and a hospital.
    uid = secrets.token_hex(3)
    word = "stackprobe" + "".join(chr(ord("a") + int(c, 16) % 26) for c in uid)  # one searchable word
    firm, hospital, operator = Client(stack, "203.0.113.11"), Client(stack, "203.0.113.12"), Client(stack, "203.0.113.13")
    operator.register(f"operator-{uid}@example.com", "Platform operator")
    granting = stack.flask_background("grant-role", f"operator-{uid}@example.com", "operator")
    firm.register(f"firm-{uid}@example.com", "Firm owner", "firm", f"栈测试科技{uid}", n=int(uid, 16) % 10000)
    session_cookie = firm.cookie_flags.get("session", "")
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie, session_cookie
    hospital.register(f"hospital-{uid}@example.com", "Hospital buyer", "hospital", f"栈测试医院{uid}",
                      n=int(uid, 16) % 10000 + 1)

    # The hospital posts a need for an infrared thermometer.
    status, location, html = hospital.post("/needs/new?kind=procurement", {
        "kind": "procurement", "title_zh": "采购红外测温仪", "title_en": "Infrared thermometers for fever clinics",
        "description_en": "Non-contact infrared thermometer for temperature screening at hospital entrances.",
        "tags": "thermometer, infrared, temperature screening", "field_codes": ["D1.devices"],
        "quantity": "200", "urgency": "high", "action": "publish"})
    assert status == 302 and "/needs/" in location, problems(html)
    need_id = int(location.rstrip("/").rsplit("/", 1)[1])

    # The firm lists an offer and submits it for verification.
    status, location, html = firm.post("/offers/new?kind=product", {
        "kind": "product", "title_zh": "红外测温仪", "title_en": f"Infrared thermometer {word}",
        "summary_en": "Non-contact infrared thermometer for temperature screening in hospitals and fever clinics.",
        "description_en": "Accurate to 0.2 degrees; screens 30 people a minute at hospital entrances.",
        "tags": "thermometer, infrared, temperature screening", "field_codes": ["D1.devices"], "trl": "9",
        "action": "submit"}, token_from="/offers/new?kind=product")
    assert status == 302 and "/offers/" in location, problems(html)
    offer_id = int(location.rstrip("/").rsplit("/", 1)[1])

    # The operator (logged in since registering; the role is read on each request) approves and publishes it.
    code, output = stack.finish(granting)
    assert code == 0, output
    status, _, html = operator.post(f"/operator/verification/{offer_id}", {"decision": "approve"})
    assert status == 302, problems(html)
    status, location, html = operator.post("/operator/batches/release", {"offer_ids": [str(offer_id)]},
                                           token_from="/operator/verification")
    assert status == 302 and "/offers/batches/" in location, problems(html)
    status, _, body = operator.get("/healthz")  # an operator sees the details
    details = json.loads(body)
    assert status == 200 and details["database"]["dialect"] == "postgresql"
    assert details["search"]["backend"] == "meilisearch" and "pending" in details["search"]
    backup = stack.flask_background("backup", str(stack.logs / "stack.dump"))  # of the live database

    # Search (anonymous) finds it once the worker has relayed the outbox to Meilisearch.
    def found():
        status, _, html = anon.get(f"/search/?scope=offers&q={word}")
        return status == 200 and f"/offers/{offer_id}" in html
    wait_for("search to find the published offer", found, stack=stack)
    document = stack.meili_document("offers", str(offer_id))
    assert document and "public" in document["visibility"] and word in document["title_en"]

    # The release queued a matching rebuild on the worker: the hospital's need now lists the offer.
    def matched():
        status, _, html = hospital.get(f"/needs/{need_id}")
        return status == 200 and f"/offers/{offer_id}" in html
    wait_for("the need's matches to list the offer", matched, timeout=45, stack=stack)

    # Sessions end cleanly, the outbox is drained, the check passed and the backup was written.
    firm.logout()
    assert firm.get("/account/", follow=False)[0] == 302
    def drained():  # the backlog is an operator's detail of /healthz
        status, _, body = operator.get("/healthz")
        return status == 200 and json.loads(body).get("search", {}).get("pending") == 0
    wait_for("the outbox to drain", drained, stack=stack)
    code, output = stack.finish(check)
    assert code == 0, output
    for expected in ("schema at head", "key accepted", "1 listening on queue", "0 failed"):
        assert expected in output, output
    code, output = stack.finish(backup)
    assert code == 0 and (stack.logs / "stack.dump").stat().st_size > 0, output
    stack.alive()
