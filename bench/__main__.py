"""
`python -m bench` (or `make bench`): how fast registrations are, and whether their cost
stays flat as history grows. Prints a table; asserts nothing about time.

For SQLite, and for PostgreSQL too when DATABASE_URL is a postgres:// URL (its database
name + "_bench" is dropped and re-created), it:

1. seeds BENCH_SMALL (10,000) contacts, times registrations through
   services.contact_register, grows the history to BENCH_CONTACTS (1,000,000) by bulk
   inserts, and times them again: the ratio of the two is the cost of history;
2. times the same transaction written with the sqlite3 module, as a floor (SQLite only);
3. counts the queries of one registration and times the dashboard;
4. times POST /api/contacts/ through gunicorn with 1, 2 and 4 workers.

Knobs: BENCH_CONTACTS, BENCH_SMALL, BENCH_REGISTRATIONS (per round, 3 rounds),
BENCH_HTTP_REQUESTS, BENCH_HTTP_CLIENTS.
"""

import json
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from bench.server import ROOT, Client, gunicorn

RESULTS = ROOT / "bench" / "results"
HISTORY_RATIO_LIMIT = 1.25


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, "").strip() or default)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} CPUs{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}"
    )


def sqlite_bench_databases() -> tuple[str, str]:
    """(URL of the large database, path of the small one), both new files."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    paths = [RESULTS / "bench-large.sqlite3", RESULTS / "bench-small.sqlite3"]
    for path in paths:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{paths[0]}", str(paths[1])


def postgres_bench_databases(url: str) -> tuple[str, str]:
    """(URL of the large database, name of the small one): <name>_bench and
    <name>_bench_small next to the database that DATABASE_URL names, both re-created."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/") or "postgres"
    large, small = f"{name}_bench", f"{name}_bench_small"
    maintenance = parts._replace(scheme="postgresql", path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as db:
        for bench_name in (large, small):
            db.execute(f'DROP DATABASE IF EXISTS "{bench_name}" WITH (FORCE)')
            db.execute(f'CREATE DATABASE "{bench_name}"')
    return parts._replace(path=f"/{large}").geturl(), small


def run_inprocess(database_url: str, small_name: str) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BENCH_SMALL_DB_NAME": small_name,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
    }
    output = subprocess.run(
        [sys.executable, "-m", "bench.inprocess"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def http_run(port: int, token: str, *, requests: int, clients: int) -> dict:
    """`requests` registrations from `clients` threads; rate and latency percentiles."""
    source_ids = [
        source["id"] for source in Client(port, token).request("GET", "/api/sources/")[1]["items"]
    ]
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    tickets = iter(range(requests))

    def client_loop(number: int) -> None:
        rng = random.Random(number)
        client = Client(port, token)
        while True:
            with lock:
                ticket = next(tickets, None)
            if ticket is None:
                return
            body = {
                "lead_identifier": f"http-{time.time_ns()}-{ticket}@bench.example",
                "source_id": rng.choice(source_ids),
            }
            started = time.perf_counter()
            try:
                status, answer = client.request("POST", "/api/contacts/", body)
            except OSError as exc:
                status, answer = None, repr(exc)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if status != 201:
                    failures.append(f"{status}: {str(answer)[:200]}")

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "rate": requests / wall,
        "p50": cuts[49],
        "p95": cuts[94],
        "failures": len(failures),
        "first_failure": failures[0] if failures else "",
    }


def run_http(database_url: str, token: str) -> dict[int, dict]:
    requests = env_int("BENCH_HTTP_REQUESTS", 400)
    clients = env_int("BENCH_HTTP_CLIENTS", 8)
    results = {}
    for workers in (1, 2, 4):
        print(
            f"HTTP: {requests} registrations, {clients} clients, {workers} worker(s)",
            file=sys.stderr,
        )
        log_path = RESULTS / f"gunicorn-{workers}.log"
        with gunicorn(database_url, workers=workers, log_path=log_path) as server:
            # Warm-up: every worker imports Django and opens its connection.
            http_run(server.port, token, requests=workers * 10, clients=workers)
            results[workers] = http_run(server.port, token, requests=requests, clients=clients)
    return results


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for number, row in enumerate(rows):
        lines.append("| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |")
        if number == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def report(results: dict[str, dict], started: float) -> str:
    rows = [["measure", *results]]

    def add(label: str, fn) -> None:
        rows.append([label, *(fn(r) for r in results.values())])

    def per_second(seconds: float | None) -> str:
        return f"{1 / seconds:,.0f}/s ({seconds * 1000:.2f} ms)" if seconds else "n/a"

    any_r = next(iter(results.values()))
    small, large = f"{any_r['small']:,}", f"{any_r['large']:,}"
    add(f"seeding {large} contacts (bulk)", lambda r: f"{r['seed_large_seconds']:.0f} s")
    add(f"service registrations, {small} contacts", lambda r: per_second(r["orm_small"]))
    add(f"service registrations, {large} contacts", lambda r: per_second(r["orm_large"]))
    add(
        f"history ratio (time at {large} / at {small}, <= {HISTORY_RATIO_LIMIT})",
        lambda r: f"{r['orm_large'] / r['orm_small']:.2f}",
    )
    add(f"raw sqlite3 floor, {small} contacts", lambda r: per_second(r.get("raw_small")))
    add(f"raw sqlite3 floor, {large} contacts", lambda r: per_second(r.get("raw_large")))
    add(
        f"ORM / raw time at {large}",
        lambda r: f"{r['orm_large'] / r['raw_large']:.2f}x" if r.get("raw_large") else "n/a",
    )
    add("queries per registration (new lead)", lambda r: str(r["queries"]["new lead"]))
    add("queries per registration (known lead)", lambda r: str(r["queries"]["known lead"]))
    add(
        f"dashboard render, {large}+ contacts",
        lambda r: f"{r['dashboard_seconds'] * 1000:.0f} ms",
    )
    for workers in (1, 2, 4):
        add(
            f"HTTP POST /api/contacts/, {workers} worker(s)",
            lambda r, w=workers: (
                f"{r['http'][w]['rate']:,.0f}/s, p50 {r['http'][w]['p50'] * 1000:.0f} ms, "
                f"p95 {r['http'][w]['p95'] * 1000:.0f} ms"
                + (f", {r['http'][w]['failures']} failed" if r["http"][w]["failures"] else "")
            ),
        )
    notes = [
        f"Machine: {machine()}.",
        f"Registrations timed: median of {any_r['rounds']} alternating rounds of {any_r['n']:,}; "
        "HTTP: "
        f"{env_int('BENCH_HTTP_REQUESTS', 400)} requests from "
        f"{env_int('BENCH_HTTP_CLIENTS', 8)} concurrent clients, a new connection each.",
        *(f"Dashboard ({name}): {r['dashboard_what']}." for name, r in results.items()),
        f"Total run time: {(time.perf_counter() - started) / 60:.1f} min.",
    ]
    return table(rows) + "\n\n" + "\n".join(f"- {note}" for note in notes)


def main() -> None:
    started = time.perf_counter()
    targets = {"SQLite": sqlite_bench_databases()}
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith(("postgres://", "postgresql://")):
        targets["PostgreSQL"] = postgres_bench_databases(database_url)
    results = {}
    for name, (url, small_name) in targets.items():
        print(f"== {name}: {url} (and {small_name})", file=sys.stderr)
        result = run_inprocess(url, small_name)
        result["http"] = run_http(url, result["token"])
        results[name] = result
    text = report(results, started)
    print(text)
    (RESULTS / "latest.md").write_text(text + "\n")
    for name, result in results.items():
        ratio = result["orm_large"] / result["orm_small"]
        if ratio > HISTORY_RATIO_LIMIT:
            print(
                f"\nNOTE ({name}): registrations at {result['large']:,} contacts cost {ratio:.2f}x "
                f"those at {result['small']:,}, above {HISTORY_RATIO_LIMIT}.",
            )


if __name__ == "__main__":
    main()
