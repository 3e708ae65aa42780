"""Gunicorn settings for TechBridge, all from environment variables: `gunicorn -c gunicorn.conf.py wsgi:app`.

| variable | default | meaning |
| --- | --- | --- |
| `GUNICORN_BIND` (or `PORT`) | `127.0.0.1:8000` (`0.0.0.0:$PORT`) | address to listen on |
| `WEB_CONCURRENCY` | 2 × cores + 1, at most 8 | worker processes |
| `GUNICORN_THREADS` | 1 | threads per worker: 1 = sync workers; > 1 = gthread workers |
| `GUNICORN_TIMEOUT` | 30 | seconds a request may run before its worker is restarted |
| `GUNICORN_GRACEFUL_TIMEOUT` | 30 | seconds workers get to finish requests on shutdown/reload |
| `GUNICORN_KEEPALIVE` | 5 | seconds an idle keep-alive connection stays open (behind a proxy) |
| `GUNICORN_MAX_REQUESTS` | 50000 | restart a worker after this many requests (0 = never), with jitter |
| `GUNICORN_PRELOAD` | 1 | load the app once in the master, then fork (faster start, shared memory); 0 to load per worker |
| `GUNICORN_ACCESSLOG` | `-` (stdout) | access log file; empty to switch it off |
| `GUNICORN_ERRORLOG` | `-` (stderr) | error log file |
| `GUNICORN_LOGLEVEL` | `info` | debug, info, warning, error, critical |
| `GUNICORN_CONTROL_SOCKET` | off | path of gunicorn's control socket (gunicorn ≥ 27), for `gunicornc` |
| `FORWARDED_ALLOW_IPS` | `127.0.0.1,::1` | proxies whose X-Forwarded-Proto gunicorn trusts (gunicorn's own variable) |

The master checks the TechBridge configuration before starting workers, so a missing SECRET_KEY in
production stops gunicorn with one clear line instead of workers failing to boot in a loop.
"""
import gc
import multiprocessing
import os
import sys


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        sys.exit(f"gunicorn.conf.py: {name} must be a whole number, not {value!r}")


if os.environ.get("GUNICORN_BIND"):
    bind = [address.strip() for address in os.environ["GUNICORN_BIND"].split(",") if address.strip()]
elif os.environ.get("PORT"):
    bind = [f"0.0.0.0:{_int('PORT', 8000)}"]
else:
    bind = ["127.0.0.1:8000"]

workers = _int("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8))
threads = _int("GUNICORN_THREADS", 1)
# Pages are CPU-bound in Python: with the database and Meilisearch close by, one thread per process
# served more requests with a shorter tail than gthread in bench/bench_load.py (threads contend for the GIL).
# Behind nginx (which buffers slow clients) sync workers are gunicorn's standard setup; more threads pay off
# when the database or Meilisearch are far away and requests mostly wait.
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# A recycled worker starts cold (templates compiled again, page cache and in-memory search columns empty), so
# recycling is rare: at 2,000 a worker restarted every ~3 s at 1,300 requests/s and the restarts made the p99
# of every page, /healthz included, 5-10x its p95 in bench/bench_load.py (healthz p99 548 -> 92 ms without them).
max_requests = _int("GUNICORN_MAX_REQUESTS", 50000)
max_requests_jitter = max_requests // 10 if max_requests else 0

# Nothing connects while the app is created (engines, Redis and Meilisearch clients connect on first use),
# so forked workers never share a connection. New code needs a restart, not a HUP, when preloading.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1").strip().lower() not in ("0", "false", "no", "")

accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = os.environ.get("GUNICORN_ERRORLOG", "-")
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# The client's address as the proxy saw it, and the request time in microseconds.
access_log_format = '%({x-forwarded-for}i)s %(h)s "%(r)s" %(s)s %(b)s %(D)sus "%(a)s"'
proc_name = "techbridge"
# gunicorn 27 opens a control socket at one fixed path per user by default, so two instances on one
# machine would fight over it: off unless a path is given.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True


def on_starting(server):
    """Refuse to start with a configuration the app would refuse (checked once, in the master)."""
    from marketplace.config import ConfigError, load_config, require_serving_key
    try:
        require_serving_key(load_config(), serves=True, host=None)
    except ConfigError as exc:
        server.log.error("TechBridge configuration error: %s", exc)
        sys.exit(1)


# Garbage collection in the workers: a page drawn anew builds thousands of short-lived objects (ORM rows, template
# output), so the youngest generation is collected every 700 allocations by default, each pass also visiting
# whatever survived; 10,000 makes those passes rarer at the cost of a little memory (in-process, a need's page
# drawn anew spent 0.8-1.2 ms in the collector, 0.4 ms after).
GC_THRESHOLD_0 = 10_000


def pre_fork(server, worker):
    """Move what the preloaded app created (modules, the app, its caches) out of the collector's reach before
    forking: the collections of a worker then visit only its own objects (some 265,000 fewer: the collector's
    share of an offer page drawn anew went from 1.3 ms to 0.2-0.3 ms), and the memory holding them stays shared
    with the master."""
    gc.freeze()


def post_fork(server, worker):
    """With a preloaded app, drop any pooled database connection inherited from the master (fork safety); make
    the collector's youngest generation larger (``GC_THRESHOLD_0``)."""
    gc.set_threshold(GC_THRESHOLD_0, *gc.get_threshold()[1:])
    if not preload_app:
        return
    from marketplace.extensions import db
    app = worker.app.wsgi()
    with app.app_context():
        db.engine.dispose(close=False)  # SQLAlchemy's recipe: forget the parent's connections, don't close them


def worker_exit(server, worker):
    """Write the popular-search counts this worker still holds (``marketplace/search_counts.py``)."""
    from marketplace import search_counts
    try:
        app = worker.app.wsgi()
        with app.app_context():
            search_counts.flush(force=True)
    except Exception:  # noqa: BLE001 - a worker on its way out must not fail the master's bookkeeping
        server.log.exception("popular-search counts could not be written at worker exit")
