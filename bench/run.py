"""`make bench`: HTTP benchmarks against a baseline measured in the same run; figures go to docs/performance.md.

Each scenario hits the Django application (gunicorn, production settings) and, side by side, a bare WSGI app
that answers the same request with one indexed query through psycopg — the ceiling on this machine.
Load comes from wrk (Debian package) with 32 concurrent connections.
"""

import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
DURATION = os.environ.get("BENCH_DURATION", "15s")
# Each scenario is measured in rounds, the application then its ceiling, so that a burst of background work on the
# shared cores (autovacuum, a checkpoint) cannot sit in one side of the comparison only.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(2 * (os.cpu_count() or 2))))
OUT = ROOT / "docs" / "performance.md"
NOTES = "<!-- Written by hand from here on; make bench rewrites what is above and keeps this. -->\n"

LOOKUP_TARGET = int(os.environ.get("BENCH_DOSSIERS", "1000000"))
LUA = ROOT / ".dev" / "bench-codes.lua"
# (name, Django path, bare app, bare path, rotate dossier codes through a wrk script)
SCENARIOS = [
    ("Catalogue search API (`/api/v1/procedures/?q=khai sinh`)", "/api/v1/procedures/?q=khai%20sinh",
     "bench.bare_wsgi:application", "/?q=khai%20sinh", False),
    ("Public lookup API (`/api/v1/lookup/<code>/`)", "/api/v1/lookup/", "bench.bare_wsgi:lookup_application",
     "/", True),
    ("Public lookup page (`/tra-cuu/<code>/`)", "/tra-cuu/", "bench.bare_wsgi:lookup_application", "/", True),
]  # fmt: skip


def _serve(app: str, port: int, env: dict[str, str]) -> subprocess.Popen:  # type: ignore[type-arg]
    proc = subprocess.Popen(
        [
            str(VENV / "gunicorn"),
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            return proc
        except urllib.error.HTTPError:  # any HTTP answer, even 404, means it is up
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{app} did not start on port {port}")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(
    url: str, *, codes: bool = False, duration: str = DURATION, cookie: str = "", connections: int = CONNECTIONS
) -> dict[str, float]:
    script = ["-s", str(LUA)] if codes else []
    headers = ["-H", f"Cookie: {cookie}"] if cookie else []
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}", "--latency", *script, *headers, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = {p: float(v) * _UNITS[u] for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} error responses\n{out}")
    return {"rps": rps, "p50": lat["50"], "p99": lat["99"]}


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def _machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    mem = next(
        line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        version = conn.info.server_version
    pg = f"{version // 10000}.{version % 10000}"
    return (
        f"{os.cpu_count()} cores ({cpu}), {int(mem) // 1024 // 1024} GiB RAM, {platform.platform()}, "
        f"Python {platform.python_version()}, PostgreSQL server {pg}"
    )


def _prime_pages() -> None:
    """View each benchmark code's page once, so that the run measures the steady state (pages served from their
    cached copies); the cost of a first view is measured separately, in process."""
    codes = re.findall(r'"([^"]+)"', LUA.read_text().split("}")[0])

    def view(code: str) -> None:
        urllib.request.urlopen(f"http://127.0.0.1:18001/tra-cuu/{code}/", timeout=10).read()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(view, codes))


def _manage(*args: str, env: dict[str, str]) -> str:
    return subprocess.run(
        [str(VENV / "python"), "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


def _prepare_dossiers(env: dict[str, str]) -> int:
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        have = conn.execute("SELECT count(*) FROM dossiers_dossier").fetchone()[0]
    if have < LOOKUP_TARGET:
        print(f"generating {LOOKUP_TARGET - have:,} dossiers (once; they stay in the development database)", flush=True)
        subprocess.run(
            [str(VENV / "python"), "manage.py", "generate_dossiers", "--count", str(LOOKUP_TARGET - have)],
            cwd=ROOT, env=env, check=True,
        )  # fmt: skip
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        codes = [r[0] for r in conn.execute(
            "SELECT code FROM dossiers_dossier TABLESAMPLE SYSTEM (1) WHERE code IS NOT NULL AND status <> 3 LIMIT 5000"
        )]  # fmt: skip
        total = conn.execute("SELECT count(*) FROM dossiers_dossier").fetchone()[0]
    LUA.parent.mkdir(exist_ok=True)
    LUA.write_text(
        "codes = {" + ",".join(f'"{c}"' for c in codes) + "}\n"
        "request = function()\n"
        "  return wrk.format('GET', wrk.path .. codes[math.random(#codes)] .. '/')\n"
        "end\n"
    )
    return total


QUEUE_OFFICER = "truongphong.longxuyen"  # a demo department head: the department's whole queue


def _officer_session(env: dict[str, str]) -> tuple[str, int]:
    """A signed-in session of the demo department head (cookie value) and their department's id."""
    out = _manage(
        "shell", "-v", "0", "-c",
        "from importlib import import_module; from django.conf import settings; "
        "from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY; "
        "from organizations.models import Staff; "
        f"s = Staff.objects.select_related('user').get(user__username='{QUEUE_OFFICER}'); "
        "store = import_module(settings.SESSION_ENGINE).SessionStore(); "
        "store[SESSION_KEY] = str(s.user.pk); store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]; "
        "store[HASH_SESSION_KEY] = s.user.get_session_auth_hash(); store.save(); "
        "print(store.session_key, s.department_id)",
        env=env,
    )  # fmt: skip
    key, department = out.split()
    return f"{env.get('DJANGO_SESSION_COOKIE_NAME', 'sessionid')}={key}", int(department)


def main() -> int:
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "DJANGO_STATIC_MANIFEST": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        # One load generator on one address: the per-client lookup limit would answer 429 to everything.
        "LOOKUP_RATE_PER_MINUTE": "1000000000",
    }
    _manage("migrate", "-v", "0", env=env)
    _manage("seed_demo", "--no-templates", env=env)
    total = _prepare_dossiers(env)
    inprocess = json.loads(_manage("shell", "-v", "0", "-c", "from bench.inprocess import main; main()", env=env))
    deadlines = json.loads(_manage("shell", "-v", "0", "-c", "from bench.deadlines import main; main()", env=env))
    inprocess["lines"] += deadlines["lines"]

    cookie, department = _officer_session(env)
    scenarios = [*SCENARIOS, (
        "Work queue page, a department's overdue tasks (`/mot-cua/viec-cua-toi/?queue=overdue`)",
        "/mot-cua/viec-cua-toi/?queue=overdue", "bench.bare_wsgi:queue_application", f"/?department={department}",
        False,
    )]  # fmt: skip
    django = _serve("config.wsgi:application", 18001, env)
    bare_apps = {app: None for _n, _p, app, _b, _c in scenarios}
    procs = [django]
    rows = []
    try:
        for port, app in enumerate(bare_apps, start=18002):
            procs.append(_serve(app, port, env))
            bare_apps[app] = port  # type: ignore[assignment]
        for name, path, app, bare_path, codes in scenarios:
            if path == "/tra-cuu/":
                _prime_pages()
            signed_in = cookie if path.startswith("/mot-cua/") else ""
            # Officers' pages: as many officers at once as the server has workers (no queueing in front of them).
            load = {"connections": WORKERS} if signed_in else {}
            _wrk(f"http://127.0.0.1:18001{path}", codes=codes, duration="5s", cookie=signed_in, **load)  # warm-up
            _wrk(f"http://127.0.0.1:{bare_apps[app]}{bare_path}", codes=codes, duration="5s", **load)
            results, ceilings = [], []
            for _round in range(ROUNDS):
                results.append(_wrk(f"http://127.0.0.1:18001{path}", codes=codes, cookie=signed_in, **load))
                ceilings.append(_wrk(f"http://127.0.0.1:{bare_apps[app]}{bare_path}", codes=codes, **load))
                print(f"{name}: {results[-1]} vs bare {ceilings[-1]}", flush=True)
            shares = sorted(r["rps"] / c["rps"] for r, c in zip(results, ceilings, strict=True))
            rows.append((name, _median(results), _median(ceilings), shares))
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)

    lines = [
        "# Performance",
        "",
        f"Measured by `make bench` on {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}: {_machine()}.",
        f"Database: {total:,} dossiers (`generate_dossiers`).",
        "",
        "## HTTP",
        "",
        f"Load: wrk on the same machine, {CONNECTIONS} connections ({WORKERS} for the signed-in work queue page: as "
        f"many officers at once as workers), {DURATION} per run; servers: gunicorn with "
        f'{WORKERS} sync workers each. The baseline ("bare") is a WSGI app answering the same request with one '
        "indexed query through psycopg and nothing else (bench/bare_wsgi.py), measured in the same run. Lookups "
        "rotate over 5,000 random existing codes. Load generator, servers and PostgreSQL share the same 2 cores, so "
        f"figures move between runs: each scenario ran {ROUNDS} rounds, the application then its baseline, after a "
        "warm-up of both; the table gives the median of each figure over the rounds, and the share of the ceiling "
        "of each round (lowest–highest).",
        "",
        "| scenario | requests/s | p50 ms | p99 ms | bare requests/s | bare p50 ms | bare p99 ms | share of ceiling "
        "| share, each round |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, app, ceiling, shares in rows:
        lines.append(
            f"| {name} | {app['rps']:.0f} | {app['p50']:.1f} | {app['p99']:.1f} | {ceiling['rps']:.0f} "
            f"| {ceiling['p50']:.1f} | {ceiling['p99']:.1f} | {app['rps'] / ceiling['rps']:.0%} "
            f"| {shares[0]:.0%}–{shares[-1]:.0%} |"
        )
    lines += ["", "## In process", "", *inprocess["lines"]]
    lookup = next(r for r in rows if "lookup API" in r[0])
    share, p99 = lookup[1]["rps"] / lookup[2]["rps"], lookup[1]["p99"]
    page = next(r for r in rows if "lookup page" in r[0])
    page_share, page_p99 = page[1]["rps"] / page[2]["rps"], page[1]["p99"]
    ratio = inprocess["receipt_ms"] / inprocess["bare_receipt_ms"]
    queue = next(r for r in rows if "Work queue" in r[0])
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        open_tasks = conn.execute("SELECT count(*) FROM dossiers_task WHERE finished_at IS NULL").fetchone()[0]
        in_queue = conn.execute(
            "SELECT count(*) FROM dossiers_task WHERE finished_at IS NULL AND department_id = %s", [department]
        ).fetchone()[0]
    lines += [
        "",
        "## Targets",
        "",
        f"- Public lookup API: at least half the ceiling's throughput with p99 under 50 ms at 1,000,000 dossiers — "
        f"{share:.0%} of the ceiling (rounds {lookup[3][0]:.0%}–{lookup[3][-1]:.0%}), p99 {p99:.0f} ms: "
        f"**{'met' if share >= 0.5 and p99 < 50 else 'not met'}**. Every answer is read from the database (one "
        "prepared statement, api/fastpath.py); nothing is cached, so the figure holds for codes never asked before.",
        f"- Public lookup page, same target — {page_share:.0%} of the ceiling (rounds {page[3][0]:.0%}–"
        f"{page[3][-1]:.0%}), p99 {page_p99:.0f} ms: "
        f"**{'met' if page_share >= 0.5 and page_p99 < 50 else 'not met'}**. The page is served from its cached "
        "copy (portal/fastpath.py) after the first view of a code in a language; the first view is rendered by "
        'Django (see "Lookup page, first view" above); the HTTP run views every code once before it starts.',
        f"- Receipt PDF within 1.3× the bare render — {ratio:.2f}×: **{'met' if ratio <= 1.3 else 'not met'}**.",
        f"- Work queue page p99 under 100 ms at 1,000,000 dossiers — p99 {queue[1]['p99']:.1f} ms "
        f"({queue[1]['rps'] / queue[2]['rps']:.0%} of the bare list query's throughput): "
        f"**{'met' if queue[1]['p99'] < 100 else 'not met'}**. {open_tasks:,} open tasks in the province, "
        f"{in_queue:,} in the measured department (the page shows 50, counts every queue, and runs a constant "
        "number of queries: tests/test_engine.py and tests/test_work_pages.py pin them).",
        f"- Outbox drain to the national portal at least 1,000 messages/s — {inprocess['outbox']['rate_1']:,.0f}/s in "
        f"one process, {inprocess['outbox']['rate_2']:,.0f}/s in two: "
        f"**{'met' if inprocess['outbox']['rate_1'] >= 1000 else 'not met'}**. A 10-minute backlog "
        f"({inprocess['backlog']:,.0f} messages) drains in {inprocess['drain_s']:.0f} s.",
        f"- Deadline scan under one second per pass at 1,000,000 dossiers — steady pass "
        f"{deadlines['steady_ms']:.0f} ms "
        f"({deadlines['steady_before_vacuum_ms']:.0f} ms right after a first pass, before autovacuum): "
        f"**{'met' if deadlines['steady_ms'] < 1000 else 'not met'}**. The first pass ever "
        "(alerting everything already late) is a one-off: see its row above.",
    ]
    # Analyses written by hand below the marker stay as they are.
    kept = OUT.read_text(encoding="utf-8").partition(NOTES)[2] if OUT.exists() else ""
    OUT.write_text("\n".join([*lines, "", NOTES]) + kept, encoding="utf-8")
    print(f"written to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
