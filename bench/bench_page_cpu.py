"""CPU per request of the main pages, in-process, beside the same figures of a baseline commit.

    .venv/bin/python bench/bench_page_cpu.py --db /tmp/tb-pages.sqlite              # baseline: main
    .venv/bin/python bench/bench_page_cpu.py --db /tmp/tb-pages.sqlite --baseline-ref HEAD~3
    .venv/bin/python bench/bench_page_cpu.py --db /tmp/tb-pages.sqlite --profile need   # cProfile of one page

A load benchmark on a shared machine measures the neighbours as much as the code; this one counts what a request
costs the application itself: CPU seconds of this process (``time.process_time``) and SQL statements per request,
for anonymous visitors, the page cache off (every request renders). The embedded SQLite stack runs the search in
the same process, so its cost is included. The database is seeded as bench_load.py does (10,000 offers, 2,000
needs, their matches) on the first run and reused after (--db). The baseline is the same measurement run on a copy
of ``--baseline-ref`` (``git archive``) against the same database, one process after the other.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "bench"))  # bench_load's seeding and addresses

PAGES = ("healthz", "home", "catalogue", "search", "offer", "need")


def environment(db_path: Path, instance: Path) -> dict:
    """Production settings from environment variables only, as bench_load.py's servers get them."""
    return {"TECHBRIDGE_ENV": "production", "SECRET_KEY": secrets.token_hex(32), "INSTANCE_DIR": str(instance),
            "TRUSTED_PROXIES": "1", "DATABASE_URL": f"sqlite:///{db_path}", "PAGE_CACHE": "off"}


def paths_for(offers: list[int], needs: list[int], per_page: int) -> dict[str, list[str]]:
    """The same kind of addresses as bench_load.py drives, ``per_page`` of each."""
    from bench_load import CATALOGUE_FACETS, SEARCH_TERMS
    rng = random.Random(1)
    return {
        "healthz": ["/healthz"] * per_page,
        "home": ["/"] * per_page,
        "catalogue": [f"/offers/?page={rng.randint(1, 25)}" + (f"&{f}" if f else "")
                      for f in rng.choices(CATALOGUE_FACETS, k=per_page)],
        "search": [f"/search/?q={urllib.parse.quote(t)}" for t in rng.choices(SEARCH_TERMS, k=per_page)],
        "offer": [f"/offers/{i}" for i in rng.sample(offers, min(per_page, len(offers)))],
        "need": [f"/needs/{i}" for i in rng.sample(needs, min(per_page, len(needs)))],
    }


def measure(args) -> dict:
    """{page: {"cpu_ms": …, "sql": …, "status": […]}} for this checkout (run in a child process)."""
    from sqlalchemy import event, func, select

    from marketplace import create_app
    from marketplace.extensions import db
    from marketplace.models import MatchSuggestion, Need, Offer
    app = create_app()
    statements = [0]
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a, **k: statements.__setitem__(0, statements[0] + 1))
        offers = list(db.session.scalars(select(Offer.id).where(Offer.status == "published",
                                                                Offer.visibility == "public").order_by(Offer.id)))
        needs = list(db.session.scalars(select(Need.id).where(
            Need.status == "open", Need.visibility == "public",
            Need.id.in_(select(MatchSuggestion.need_id))).order_by(Need.id)))
        assert db.session.scalar(select(func.count(Offer.id))) >= 1000, "seed the database first"
        db.session.remove()
    client = app.test_client()
    headers = {"X-Forwarded-Proto": "https", "Accept-Language": "zh-CN", "X-Forwarded-For": "10.0.0.1"}
    cases = paths_for(offers, needs, args.requests)
    wanted = [p for p in args.pages.split(",") if p]
    results = {}
    for page in wanted:
        paths = cases[page]
        for path in paths[:3]:  # warm-up: templates compiled, caches of the process filled
            client.get(path, headers=headers)
        profiler = None
        if args.profile == page:
            import cProfile
            profiler = cProfile.Profile()
            profiler.enable()
        statuses: dict[int, int] = {}
        statements[0] = 0
        started = time.process_time()
        for i, path in enumerate(paths):
            # Distinct client addresses, as for bench_load.py's visitors (the per-address search limit).
            response = client.get(path, headers={**headers, "X-Forwarded-For": f"10.1.{i // 250}.{i % 250}"})
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        cpu = time.process_time() - started
        if profiler is not None:
            import pstats
            profiler.disable()
            pstats.Stats(profiler, stream=sys.stderr).sort_stats(args.sort).print_stats(45)
        results[page] = {"cpu_ms": round(cpu * 1000 / len(paths), 2), "sql": round(statements[0] / len(paths), 1),
                         "status": statuses}
    return results


def seed_if_needed(db_path: Path, instance: Path) -> None:
    if db_path.exists():
        return
    from bench_load import N_NEEDS, N_OFFERS, seed
    print(f"seeding {db_path} ({N_OFFERS:,} offers, {N_NEEDS:,} needs, matches)…", flush=True)
    seed(environment(db_path, instance), N_OFFERS, N_NEEDS)


def run_child(checkout: Path, args, instance: Path) -> dict:
    script = checkout / "bench" / "bench_page_cpu.py"
    if not script.exists():
        script.write_bytes(Path(__file__).read_bytes())
    env = {**os.environ, **environment(Path(args.db).resolve(), instance), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, str(script), "--child", "--db", args.db, "--requests", str(args.requests),
               "--pages", args.pages, "--profile", args.profile, "--sort", args.sort]
    done = subprocess.run(command, cwd=checkout, env=env, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="SQLite file (seeded on the first run, reused after)")
    parser.add_argument("--baseline-ref", default="main", help="git commit of the baseline ('' to skip it)")
    parser.add_argument("--requests", type=int, default=60, help="requests per page")
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--profile", default="", help="print a cProfile of this page (this checkout only)")
    parser.add_argument("--sort", default="cumulative", help="cProfile order (cumulative, tottime)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args)))
        return
    workdir = Path(tempfile.mkdtemp(prefix="tb-bench-cpu-"))
    db_path = Path(args.db).resolve()
    seed_if_needed(db_path, workdir / "instance")
    runs = {}
    if args.baseline_ref:
        base = workdir / "baseline"
        base.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline_ref], stdout=subprocess.PIPE,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        plain = argparse.Namespace(**{**vars(args), "profile": ""})  # profiles are of this checkout only
        runs[f"baseline ({args.baseline_ref})"] = run_child(base, plain, workdir / "instance")
    runs["this checkout"] = run_child(ROOT, args, workdir / "instance")
    print(f"load average {os.getloadavg()[0]:.1f}; {args.requests} anonymous requests per page, page cache off; "
          f"CPU ms of the app process per request (SQL statements per request)")
    names = list(runs)
    print(f"{'page':<10} " + " ".join(f"{n:>28}" for n in names))
    for page in args.pages.split(","):
        cells = []
        for name in names:
            r = runs[name].get(page)
            cells.append(f"{r['cpu_ms']:>10.2f} ms ({r['sql']:>5.1f} sql) {str(r['status']):>6}" if r else "-")
        print(f"{page:<10} " + " ".join(f"{c:>28}" for c in cells))


if __name__ == "__main__":
    main()
