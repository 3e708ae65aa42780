"""Load benchmark of the pages: gunicorn (2 workers) on PostgreSQL + Meilisearch + Redis, or on the embedded default.

    .venv/bin/python bench/bench_load.py                  # PostgreSQL stack, 10,000 offers, 2,000 needs, 30 s per run
    .venv/bin/python bench/bench_load.py --stack sqlite   # the embedded default: one SQLite file, no Redis, no Meilisearch
    .venv/bin/python bench/bench_load.py --duration 10    # quicker
    .venv/bin/python bench/bench_load.py --db tb_bench --keep   # keep the seeded database for the next run
                                                          # (--stack sqlite: --db is the SQLite file's path)

Needs `wrk` (Debian: `apt-get install -y wrk`); the PostgreSQL stack also PostgreSQL (--pg-url, default the
local server), Redis on 127.0.0.1:6379 (database 13, or --redis-db, is used and emptied) and a Meilisearch binary
(`make meilisearch`).

Seeds a scratch database with the demo data plus synthetic offers and needs (bulk inserts), indexes them
(a throwaway Meilisearch, or the embedded index in the same database), computes match suggestions
(`matching rebuild`), then starts two gunicorns with production settings from environment variables only:
one as deployed (the page cache on, shared through Redis on the PostgreSQL stack, per process on the embedded
one) and the baseline with ``PAGE_CACHE=off``. Each page is driven with wrk for --duration seconds at
--connections concurrent connections, first on the baseline, then as deployed: /healthz (the ceiling: a
database round trip and a search health call, no page rendering), the home page, the catalogue (random pages
and facets), search (random terms), offer pages and needs' pages with their matches (random ids; 2,000 and
1,000 of them, so most of those requests miss the cache). Prints requests/second, p50/p95/p99 latency,
errors and the ratio to /healthz for both, then checks the issue's targets on the deployed server: no errors;
home, catalogue, offer and need pages at least 150 requests/s with p99 under 500 ms; search at least 100
requests/s with p99 under 700 ms; each at least 0.6x the /healthz rate.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REDIS_URL = "redis://127.0.0.1:6379/{db}"  # --redis-db (default 13) is used and emptied
N_OFFERS, N_NEEDS = 10_000, 2_000
VARIANTS = [("便携式", "Portable"), ("智能", "Smart"), ("高精度", "High-precision"), ("低成本", "Low-cost"),
            ("模块化", "Modular"), ("国产", "Domestic"), ("快速", "Rapid"), ("远程", "Remote"),
            ("一体化", "Integrated"), ("第二代", "Second-generation")]
SEARCH_TERMS = ["核酸检测", "呼吸机", "口罩", "防护服", "测温", "消毒", "疫苗", "人工智能", "无人配送", "远程医疗",
                "ventilator", "PCR", "mask", "thermometer", "robot", "disinfection", "vaccine", "ultrasound",
                "telemedicine", "sensor", "便携式 呼吸机", "smart mask", "核酸", "CT"]
CATALOGUE_FACETS = ["", "kind=product", "kind=technology", "kind=service", "direction=D1", "direction=D2",
                    "sort=newest", "sort=maturity", "trl=9", "kind=product&direction=D1"]
# The targets: (requests/s at least, p99 under ms); every page at least TARGET_RATIO x /healthz.
TARGETS = {"home": (150, 500), "catalogue": (150, 500), "offer": (150, 500), "need": (150, 500),
           "search": (100, 700)}
TARGET_RATIO = 0.6


# --- set-up -----------------------------------------------------------------------------------------------

def requirements(args) -> str:
    """The wrk binary, or exit saying how to install what is missing."""
    wrk = shutil.which("wrk")
    if not wrk:
        sys.exit("wrk not found: install it with `apt-get install -y wrk` (Debian's package), then run again.")
    if args.stack == "sqlite":
        return wrk
    from search.testing import meilisearch_binary
    if meilisearch_binary() is None:
        sys.exit("no Meilisearch binary: run `make meilisearch` (or set MEILI_BIN).")
    import redis
    try:
        redis.Redis.from_url(REDIS_URL.format(db=args.redis_db), socket_connect_timeout=3).ping()
    except redis.exceptions.ConnectionError:
        sys.exit("no Redis on 127.0.0.1:6379")
    return wrk


def admin_connection(pg_url: str):
    import psycopg
    from sqlalchemy.engine import make_url
    conninfo = make_url(pg_url).set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False)
    try:
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        sys.exit(f"PostgreSQL unreachable at {pg_url}: {exc}")


def bulk_seed(db, n_offers: int, n_needs: int, seed: int = 7) -> None:
    """Add synthetic offers and needs, cloned from the demo records with varied titles (Core inserts)."""
    from sqlalchemy import func, insert, select

    from marketplace.models import Need, Offer
    from marketplace.models.catalogue import offer_fields
    from marketplace.models.needs import need_fields
    rng = random.Random(seed)
    session = db.session
    templates = list(session.scalars(select(Offer).where(Offer.status == "published",
                                                         Offer.kind.in_(("product", "technology", "service")))))
    have = session.scalar(select(func.count(Offer.id))) or 0
    now = datetime.now(timezone.utc)
    offer_rows, offer_field_codes = [], {}
    for i in range(max(0, n_offers - have)):
        t = templates[i % len(templates)]
        vzh, ven = VARIANTS[rng.randrange(len(VARIANTS))]
        key = f"bench:offer:{i}"
        offer_rows.append({
            "organization_id": t.organization_id, "kind": t.kind, "status": "published",
            "visibility": "public" if rng.random() < 0.95 else "teaser",
            "title_zh": f"{vzh}{t.title_zh}（{i}型）", "title_en": f"{ven} {t.title_en} (model {i})",
            "summary_zh": t.summary_zh, "summary_en": t.summary_en, "description_zh": t.description_zh,
            "description_en": t.description_en, "problem_zh": t.problem_zh, "problem_en": t.problem_en,
            "advantage_zh": t.advantage_zh, "advantage_en": t.advantage_en, "scenarios_zh": t.scenarios_zh,
            "scenarios_en": t.scenarios_en, "tags": list(t.tags or []), "trl": t.trl,
            "regulatory_statuses": list(t.regulatory_statuses or []),
            "partnership_modes": list(t.partnership_modes or []), "price_rmb": t.price_rmb,
            "lead_time_days": t.lead_time_days, "batch_id": t.batch_id, "import_key": key, "is_demo": True,
            "published_at": now - timedelta(days=rng.randrange(400)), "created_at": now, "updated_at": now,
        })
        offer_field_codes[key] = [f.id for f in t.fields]
    for start in range(0, len(offer_rows), 1000):
        session.execute(insert(Offer), offer_rows[start:start + 1000])
    ids = dict(session.execute(select(Offer.import_key, Offer.id).where(Offer.import_key.like("bench:offer:%"))).all())
    links = [{"offer_id": ids[k], "field_id": f} for k, fs in offer_field_codes.items() for f in fs]
    for start in range(0, len(links), 5000):
        session.execute(insert(offer_fields), links[start:start + 5000])

    need_templates = list(session.scalars(select(Need).where(Need.visibility == "public")))
    have = session.scalar(select(func.count(Need.id))) or 0
    need_rows, need_field_codes = [], {}
    for i in range(max(0, n_needs - have)):
        t = need_templates[i % len(need_templates)]
        vzh, ven = VARIANTS[rng.randrange(len(VARIANTS))]
        key = f"bench:need:{i}"
        need_rows.append({
            "organization_id": t.organization_id, "kind": t.kind, "status": "open", "visibility": "public",
            "title_zh": f"{t.title_zh}（{vzh}，第{i}号）", "title_en": f"{t.title_en} ({ven.lower()}, no. {i})",
            "description_zh": t.description_zh, "description_en": t.description_en, "tags": list(t.tags or []),
            "quantity": t.quantity, "unit": t.unit, "budget_min_rmb": t.budget_min_rmb,
            "budget_max_rmb": t.budget_max_rmb, "deadline": t.deadline,
            "required_certifications": list(t.required_certifications or []), "min_trl": t.min_trl,
            "urgency": t.urgency, "import_key": key, "is_demo": True,
            "created_at": now - timedelta(minutes=i), "updated_at": now,
        })
        need_field_codes[key] = [f.id for f in t.fields]
    for start in range(0, len(need_rows), 1000):
        session.execute(insert(Need), need_rows[start:start + 1000])
    ids = dict(session.execute(select(Need.import_key, Need.id).where(Need.import_key.like("bench:need:%"))).all())
    links = [{"need_id": ids[k], "field_id": f} for k, fs in need_field_codes.items() for f in fs]
    for start in range(0, len(links), 5000):
        session.execute(insert(need_fields), links[start:start + 5000])
    session.commit()


def seed(env: dict, n_offers: int, n_needs: int) -> dict:
    """Migrate, load the demo data and the synthetic records, index them and compute matches (timed)."""
    from sqlalchemy import func, select, text

    os.environ.update(env)
    from flask_migrate import upgrade

    from marketplace import create_app
    from marketplace.demo.loader import load_demo
    from marketplace.extensions import db
    from marketplace.models import MatchSuggestion, Need, Offer
    from marketplace.tasks import matching as matching_tasks
    from marketplace.tasks import search as search_tasks
    from marketplace.services.unit_of_work import unit_of_work
    app = create_app()
    timings = {}
    with app.app_context():
        started = time.perf_counter()
        logging.disable(logging.INFO)  # Alembic's per-migration lines
        upgrade()
        logging.disable(logging.NOTSET)
        seeded = (db.session.scalar(select(func.count(Offer.id))) or 0) >= n_offers
        if not seeded:
            with unit_of_work() as session:
                load_demo(session)
            bulk_seed(db, n_offers, n_needs)
        timings["seed"] = time.perf_counter() - started
        started = time.perf_counter()
        from marketplace import search_index
        if hasattr(search_index.backend(), "task_timeout"):
            search_index.backend().task_timeout = 600  # Meilisearch indexes slowly on a busy machine: wait for it
        counts = search_tasks.reindex()
        timings["index"] = time.perf_counter() - started
        started = time.perf_counter()
        if not seeded or not db.session.scalar(select(func.count(MatchSuggestion.id))):
            matching_tasks.rebuild()
        timings["matching"] = time.perf_counter() - started
        # Fresh planner statistics after the bulk load, as autovacuum would gather them before long.
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE" if db.engine.dialect.name == "sqlite" else "VACUUM ANALYZE"))
        offers = list(db.session.scalars(select(Offer.id).where(Offer.status == "published",
                                                                Offer.visibility == "public")))
        needs = list(db.session.scalars(select(Need.id).where(
            Need.status == "open", Need.visibility == "public",
            Need.id.in_(select(MatchSuggestion.need_id)))))
        totals = {"offers": db.session.scalar(select(func.count(Offer.id))),
                  "needs": db.session.scalar(select(func.count(Need.id))),
                  "suggestions": db.session.scalar(select(func.count(MatchSuggestion.id)))}
        db.session.remove()
        db.engine.dispose()
    return {"offers": offers, "needs": needs, "timings": timings, "indexed": counts, "totals": totals}


# --- load -------------------------------------------------------------------------------------------------

LUA = """
local paths = %(paths)s
-- 50 connections stand for many visitors: 2,000 client addresses, so per-address rate limits (search:
-- SEARCH_RATE_LIMIT) apply as they would to real traffic rather than to one address hammering the site.
local addresses = {}
for i = 1, 2000 do addresses[i] = "10." .. math.floor(i / 250) .. "." .. (i %% 250) .. ".1" end
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local headers = {["X-Forwarded-Proto"] = "https", ["X-Forwarded-For"] = addresses[math.random(#addresses)],
                   ["Accept-Language"] = "zh-CN"}
  return wrk.format("GET", paths[math.random(#paths)], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_us": %%d, "p50": %%d, "p95": %%d, "p99": %%d, "max": %%d, ' ..
    '"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def lua_list(paths: list[str]) -> str:
    return "{" + ", ".join(json.dumps(p) for p in paths) + "}"


def run_wrk(wrk: str, base: str, paths: list[str], duration: int, connections: int, threads: int,
            workdir: Path) -> dict:
    script = workdir / f"load-{secrets.token_hex(4)}.lua"
    script.write_text(LUA % {"paths": lua_list(paths)})
    result = subprocess.run([wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "5s",
                             "-s", str(script), base], capture_output=True, text=True, timeout=duration + 60,
                            check=False)
    for line in result.stdout.splitlines():
        if line.startswith("RESULT "):
            data = json.loads(line[len("RESULT "):])
            data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
            data["errors"] = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
            return data
    raise RuntimeError(f"wrk gave no result:\n{result.stdout}\n{result.stderr}")


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited while starting")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer /healthz")


def settle(base: str, timeout: float = 120) -> None:
    """Wait until the server's queue is empty: /healthz answered quickly twice in a row.

    Sync workers finish every request wrk left queued when it stopped; the next run must not wait behind them.
    """
    deadline, quick = time.monotonic() + timeout, 0
    while time.monotonic() < deadline and quick < 2:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(urllib.request.Request(base + "/healthz", headers={
                    "X-Forwarded-Proto": "https"}), timeout=10) as response:
                response.read()
            quick = quick + 1 if time.monotonic() - started < 0.2 else 0
        except OSError:
            quick = 0
        time.sleep(0.2)


def machine() -> str:
    model = ""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPUs ({model or platform.processor()}), Python {platform.python_version()}, " \
           f"load average at start {load}"


LABELS = {"healthz": "/healthz", "home": "/ (home)", "catalogue": "/offers/ (catalogue)", "search": "/search/?q=…",
          "offer": "/offers/<id>", "need": "/needs/<id> (matches)"}


def start_gunicorn(env: dict, workdir: Path, name: str) -> tuple[subprocess.Popen, str]:
    """A gunicorn on a free port with ``env``, answering /healthz; its log goes to ``workdir/<name>.log``."""
    from search.testing import free_port
    port = free_port()
    env = {**os.environ, **env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    log = open(workdir / f"gunicorn-{name}.log", "wb")  # noqa: SIM115 (the server writes to it until the end)
    web = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                           cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base + "/healthz", web)
    return web, base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", choices=("pg", "sqlite"), default="pg",
                        help="pg: PostgreSQL + Meilisearch + Redis; sqlite: the embedded default (one SQLite file)")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--db", default=None, help="scratch database name (--stack sqlite: the file's path)")
    parser.add_argument("--keep", action="store_true", help="keep the database (reuse it with --db next time)")
    parser.add_argument("--offers", type=int, default=N_OFFERS)
    parser.add_argument("--needs", type=int, default=N_NEEDS)
    parser.add_argument("--duration", type=int, default=30, help="seconds per page and server")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--gunicorn-threads", type=int, default=None, help="threads per worker (default: gunicorn.conf.py)")
    parser.add_argument("--cache-ttl", type=int, default=None, help="PAGE_CACHE_TTL seconds (default: the config's)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the PAGE_CACHE=off server")
    parser.add_argument("--redis-db", type=int, default=13, help="Redis database number (emptied before and after)")
    parser.add_argument("--only", default="", help="comma-separated subset of: healthz,home,catalogue,search,offer,need")
    args = parser.parse_args()
    wrk = requirements(args)
    from sqlalchemy.engine import make_url

    from search.testing import start_meilisearch
    print(f"machine: {machine()}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="tb-bench-load-"))
    env = {
        "TECHBRIDGE_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
        "INSTANCE_DIR": str(workdir / "instance"), "TRUSTED_PROXIES": "1", "WEB_CONCURRENCY": str(args.workers),
        "GUNICORN_ACCESSLOG": "", "GUNICORN_LOGLEVEL": "warning",
    }
    admin = stop_meili = None
    redis_url = REDIS_URL.format(db=args.redis_db)
    if args.stack == "pg":
        args.db = args.db or f"tb_bench_{os.getpid()}"
        admin = admin_connection(args.pg_url)
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (args.db,)).fetchone():
            admin.execute(f'CREATE DATABASE "{args.db}"')
        import redis
        redis.Redis.from_url(redis_url).flushdb()
        meili_url, meili_key, stop_meili = start_meilisearch(workdir / "meili")
        env.update({"DATABASE_URL": make_url(args.pg_url).set(database=args.db).render_as_string(hide_password=False),
                    "MEILI_URL": meili_url, "MEILI_MASTER_KEY": meili_key, "REDIS_URL": redis_url})
    else:
        path = Path(args.db or workdir / "bench.sqlite").resolve()
        args.db = str(path)
        env["DATABASE_URL"] = f"sqlite:///{path}"
    if args.gunicorn_threads:
        env["GUNICORN_THREADS"] = str(args.gunicorn_threads)
    if args.cache_ttl is not None:
        env["PAGE_CACHE_TTL"] = str(args.cache_ttl)
    servers: list[subprocess.Popen] = []
    try:
        started = time.perf_counter()
        data = seed(env, args.offers, args.needs)
        t = data["timings"]
        print(f"stack: {'PostgreSQL + Meilisearch + Redis' if args.stack == 'pg' else 'embedded SQLite (no Redis)'}; "
              f"data: {data['totals']['offers']:,} offers, {data['totals']['needs']:,} needs, "
              f"{data['totals']['suggestions']:,} match suggestions; seed {t['seed']:.1f}s, "
              f"index {t['index']:.1f}s ({data['indexed']}), matching {t['matching']:.1f}s", flush=True)
        rng = random.Random(1)
        cases = {
            "healthz": ["/healthz"],
            "home": ["/"],
            "catalogue": [f"/offers/?page={rng.randint(1, 25)}" + (f"&{f}" if f else "")
                          for f in CATALOGUE_FACETS for _ in range(5)],
            "search": [f"/search/?q={urllib.request.quote(term)}" for term in SEARCH_TERMS],
            "offer": [f"/offers/{i}" for i in rng.sample(data["offers"], min(2000, len(data["offers"])))],
            "need": [f"/needs/{i}" for i in rng.sample(data["needs"], min(1000, len(data["needs"])))],
        }
        if args.only:
            cases = {k: v for k, v in cases.items() if k in args.only.split(",") or k == "healthz"}
        deployed, base = start_gunicorn(env, workdir, "deployed")
        servers.append(deployed)
        bases = {"deployed": base}
        if not args.no_baseline:
            baseline, bases["baseline"] = start_gunicorn({**env, "PAGE_CACHE": "off"}, workdir, "baseline")
            servers.append(baseline)
        # Warm-up: templates compiled, connection pools filled, in every worker of both servers.
        warm = [p for paths in cases.values() for p in paths[:20]]
        for url in bases.values():
            run_wrk(wrk, url, warm, 5, args.connections, args.threads, workdir)
            settle(url)
        threads = int({**os.environ, **env}.get("GUNICORN_THREADS") or 1)
        print(f"gunicorn: {args.workers} {'gthread' if threads > 1 else 'sync'} workers, {threads} thread(s) each; "
              f"wrk: {args.connections} connections, {args.duration}s per page and server; "
              f"page cache TTL {env.get('PAGE_CACHE_TTL', 'default')}", flush=True)
        results: dict[str, dict] = {server: {} for server in bases}
        for name, paths in cases.items():
            for server, url in sorted(bases.items()):  # baseline first, then deployed
                settle(url)
                r = results[server][name] = run_wrk(wrk, url, paths, args.duration, args.connections, args.threads,
                                                    workdir)
                kinds = ", ".join(f"{k} {r[k]}" for k in ("connect", "read", "write", "status", "timeout") if r[k])
                print(f"  {server:<9} {name:<10} {r['rps']:8.1f} req/s  p99 {r['p99'] / 1000:7.1f} ms  "
                      f"errors {r['errors']}{f' ({kinds})' if kinds else ''}", flush=True)
        report(results)
        print(f"total time {time.perf_counter() - started:.0f}s; logs in {workdir}")
    finally:
        for web in servers:
            if web.poll() is None:
                os.killpg(web.pid, signal.SIGTERM)
                web.wait(timeout=30)
        if stop_meili is not None:
            stop_meili()
        if admin is not None:
            import redis
            redis.Redis.from_url(redis_url).flushdb()
            if not args.keep:
                admin.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
            admin.close()
        elif not args.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(args.db + suffix).unlink(missing_ok=True)


def report(results: dict) -> None:
    """The table of both servers, each page beside /healthz, and the targets checked on the deployed one."""
    print()
    print("| path | server | req/s | p50 ms | p95 ms | p99 ms | errors | vs /healthz | target |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for name in results["deployed"]:
        for server in ("baseline", "deployed"):
            if server not in results:
                continue
            r, ceiling = results[server][name], results[server]["healthz"]["rps"]
            rps_min, p99_max = TARGETS.get(name, (None, None))
            target = f">= {rps_min} req/s, p99 < {p99_max} ms, >= {TARGET_RATIO}x" if rps_min else "ceiling"
            print(f"| {LABELS[name]} | {server} | {r['rps']:.1f} | {r['p50'] / 1000:.1f} | {r['p95'] / 1000:.1f} | "
                  f"{r['p99'] / 1000:.1f} | {r['errors']} | {r['rps'] / ceiling:.2f} | {target} |")
    print()
    deployed = results["deployed"]
    ceiling = deployed["healthz"]["rps"]
    problems = [f"{name}: {r['errors']} errors" for name, r in deployed.items() if r["errors"]]
    ratio_problems = []
    for name, (rps_min, p99_max) in TARGETS.items():
        if name not in deployed:
            continue
        r = deployed[name]
        if r["rps"] < rps_min:
            problems.append(f"{name}: {r['rps']:.1f} req/s < {rps_min}")
        if r["p99"] / 1000 >= p99_max:
            problems.append(f"{name}: p99 {r['p99'] / 1000:.0f} ms >= {p99_max} ms")
        if r["rps"] < TARGET_RATIO * ceiling:
            ratio_problems.append(f"{name}: {r['rps'] / ceiling:.2f}x /healthz < {TARGET_RATIO}x")
    print("targets (absolute): " + ("all met" if not problems else "MISSED: " + "; ".join(problems)))
    print("targets (ratio to /healthz, same machine, same run): "
          + ("all met" if not ratio_problems else "MISSED: " + "; ".join(ratio_problems)))


if __name__ == "__main__":
    main()
