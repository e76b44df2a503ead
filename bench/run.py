"""`make bench`: HTTP benchmarks against a baseline measured in the same run; figures go to docs/performance.md.

Each scenario hits the Django application (gunicorn, production settings) and, side by side, a bare WSGI app
that answers the same request with one indexed query through psycopg — the ceiling on this machine.
Load comes from wrk (Debian package) with 32 concurrent connections.
"""

import datetime as dt
import os
import platform
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
DURATION = os.environ.get("BENCH_DURATION", "15s")
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(2 * (os.cpu_count() or 2) + 1)))
OUT = ROOT / "docs" / "performance.md"

SCENARIOS = [
    # (name, Django path, bare path)
    (
        "Catalogue search API (`/api/v1/procedures/?q=khai sinh`)",
        "/api/v1/procedures/?q=khai%20sinh",
        "/?q=khai%20sinh",
    ),
]


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
        except OSError:
            time.sleep(0.2)
        except Exception:  # noqa: BLE001 - any HTTP answer means it is up
            return proc
    proc.kill()
    raise SystemExit(f"{app} did not start on port {port}")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(url: str) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = {p: float(v) * _UNITS[u] for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)$", out, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} error responses\n{out}")
    return {"rps": rps, "p50": lat["50"], "p99": lat["99"]}


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


def main() -> int:
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "DJANGO_STATIC_MANIFEST": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run([str(VENV / "python"), "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([str(VENV / "python"), "manage.py", "seed_demo", "--no-templates"], cwd=ROOT, env=env, check=True)
    django = _serve("config.wsgi:application", 18001, env)
    bare = _serve("bench.bare_wsgi:application", 18002, env)
    rows = []
    try:
        for name, path, bare_path in SCENARIOS:
            _wrk(f"http://127.0.0.1:18001{path}".replace(DURATION, "3s"))  # warm-up
            app = _wrk(f"http://127.0.0.1:18001{path}")
            ceiling = _wrk(f"http://127.0.0.1:18002{bare_path}")
            rows.append((name, app, ceiling))
            print(f"{name}: {app} vs bare {ceiling}", flush=True)
    finally:
        for proc in (django, bare):
            proc.terminate()
            proc.wait(10)

    lines = [
        "# Performance",
        "",
        f"Measured by `make bench` on {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}: {_machine()}.",
        f"Load: wrk, {CONNECTIONS} connections, {DURATION} per run;",
        f"servers: gunicorn with {WORKERS} sync workers each.",
        "The baseline is a bare WSGI app answering the same request with one indexed query through psycopg,",
        "measured in the same run (bench/bare_wsgi.py).",
        "",
        "| scenario | requests/s | p50 ms | p99 ms | bare requests/s | bare p50 ms | bare p99 ms | share of ceiling |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, app, ceiling in rows:
        lines.append(
            f"| {name} | {app['rps']:.0f} | {app['p50']:.1f} | {app['p99']:.1f} | {ceiling['rps']:.0f} "
            f"| {ceiling['p50']:.1f} | {ceiling['p99']:.1f} | {app['rps'] / ceiling['rps']:.0%} |"
        )
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"written to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
