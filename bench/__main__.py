"""
`python -m bench` (or `make bench`): issue 13's goals, each printed as a table with its
ratio; asserts nothing about time.

For SQLite, and for PostgreSQL too when DATABASE_URL is a postgres:// URL (its database
name + "_bench" and "_bench_small" are dropped and re-created), it:

1. seeds BENCH_SMALL (10,000) and BENCH_CONTACTS (1,000,000) contacts in two databases and
   times registrations through services.contact_register on both, the same transaction
   with the sqlite3 module as a floor (SQLite only), and counts a registration's queries
   (bench/inprocess.py): goal 2;
2. times every page on both databases through one gunicorn worker each, as a supervisor
   (the workspace as an operator), server time from gunicorn's access log (bench/pages.py):
   goal 1;
3. through gunicorn as configured for the database (BENCH_HTTP_WORKERS workers,
   BENCH_HTTP_CLIENTS clients): GET /healthz, POST /api/contacts/ and GET
   /api/operators/{id}, and their ratios (bench/http_load.py): goal 3;
4. SQLite: registrations and GETs under sync workers and threads, with and without the
   write queue (crm/sqlite_backend): goal 4;
5. PostgreSQL: what a registration locks (bench/locks.py), and registrations all to one
   source against registrations spread over every source: goal 5.

Knobs: BENCH_CONTACTS, BENCH_SMALL, BENCH_REGISTRATIONS (per round), BENCH_PAGE_ROUNDS,
BENCH_HTTP_REQUESTS, BENCH_HTTP_CLIENTS, BENCH_HTTP_WORKERS, BENCH_MODEL_REQUESTS, and
BENCH_WORKER_MODELS (how many of the worker models to compare), BENCH_LEAD_CONTACTS (the
contacts of the lead whose page is timed), BENCH_DATABASES
(sqlite,postgresql: which to run) and BENCH_RESULTS (where the results go).
"""

import json
import os
import platform
import secrets
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from bench import http_load, pages
from bench.server import ROOT, configured, gunicorn, server_env

# BENCH_RESULTS: where the databases, logs and latest.md go (the smoke test uses its own).
RESULTS = Path(os.environ.get("BENCH_RESULTS", "").strip() or ROOT / "bench" / "results")
HISTORY_RATIO_LIMIT = 1.25
QUERY_LIMIT = 7
FLOOR_SHARE_LIMIT = 0.25
REGISTER_SHARE_LIMIT = 0.6
GET_SHARE_LIMIT = 0.75
# Worker models compared on SQLite: (label, worker class, processes, threads per process).
WORKER_MODELS = [
    ("sync, 1 process", "sync", 1, 1),
    ("sync, 2 processes", "sync", 2, 1),
    ("sync, 4 processes", "sync", 4, 1),
    ("gthread, 1 process x 4 threads", "gthread", 1, 4),
    ("gthread, 2 processes x 4 threads", "gthread", 2, 4),
    ("gthread, 4 processes x 4 threads", "gthread", 4, 4),
]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, "").strip() or default)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


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
    import sqlite3

    return (
        f"{cpu}, {os.cpu_count()} CPUs{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}"
    )


def sqlite_bench_databases() -> tuple[str, str]:
    """(URL of the large database, path of the small one), both new files."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    paths = [RESULTS / "bench-large.sqlite3", RESULTS / "bench-small.sqlite3"]
    for path in paths:
        for suffix in ("", "-wal", "-shm", ".write-lock"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{paths[0]}", str(paths[1])


def postgres_bench_databases(url: str) -> tuple[str, str]:
    """(URL of the large database, name of the small one): <name>_bench and
    <name>_bench_small next to the database that DATABASE_URL names, both re-created."""
    import psycopg

    RESULTS.mkdir(parents=True, exist_ok=True)
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/") or "postgres"
    large, small = f"{name}_bench", f"{name}_bench_small"
    maintenance = parts._replace(scheme="postgresql", path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as db:
        for bench_name in (large, small):
            db.execute(f'DROP DATABASE IF EXISTS "{bench_name}" WITH (FORCE)')
            db.execute(f'CREATE DATABASE "{bench_name}"')
    return parts._replace(path=f"/{large}").geturl(), small


def small_url(large_url: str, small_name: str) -> str:
    if large_url.startswith("sqlite"):
        return f"sqlite:///{small_name}"
    return urllib.parse.urlsplit(large_url)._replace(path=f"/{small_name}").geturl()


def django_env(database_url: str, secret_key: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def run_json(module: str, env: dict[str, str], *args: str) -> dict:
    """Run `python -m module args` and parse the last line of its stdout as JSON."""
    output = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def collectstatic(secret_key: str) -> None:
    """Production settings serve the pages with hashed static names: they need the manifest."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=django_env("sqlite:///" + str(RESULTS / "collectstatic.sqlite3"), secret_key),
        check=True,
    )


def run_pages(urls: dict[str, str], secret_key: str) -> dict:
    prepared = {
        label: run_json("bench.pages", django_env(url, secret_key), "prepare")
        for label, url in urls.items()
    }
    rows = pages.measure(
        urls,
        prepared,
        rounds=env_int("BENCH_PAGE_ROUNDS", 3),
        log_dir=RESULTS,
        env={"SECRET_KEY": secret_key},
    )
    return {"rows": rows, "prepared": prepared}


def http_knobs() -> tuple[int, int, int]:
    """(gunicorn workers, concurrent clients, requests of each kind) of the HTTP runs."""
    return (
        env_int("BENCH_HTTP_WORKERS", 4),
        env_int("BENCH_HTTP_CLIENTS", 20),
        env_int("BENCH_HTTP_REQUESTS", 900),
    )


def run_goal3(url: str, token: str) -> dict:
    """healthz, registration and single GET under the database's configured worker model;
    on SQLite also the raw floor behind the same server (bench/floor_urls.py)."""
    workers, clients, requests = http_knobs()
    log(f"HTTP: {requests} requests of each kind, {clients} clients, {workers} workers")
    kinds, env = http_load.KINDS, {}
    if url.startswith("sqlite"):
        kinds, env = (*kinds, http_load.FLOOR), {"DJANGO_SETTINGS_MODULE": "bench.floor_settings"}
    with gunicorn(
        url, workers=workers, log_path=RESULTS / "gunicorn-http.log", access_log=False, **env
    ) as server:
        target = http_load.Target.discover(server.port, token)
        found = http_load.compare(target, kinds, requests=requests, clients=clients)
        found["model"] = worker_model_of(server.log_path.read_text(errors="replace"), workers)
    return found


def worker_model_of(log_text: str, workers: int) -> str:
    """What gunicorn said it runs (its "Using worker: ..." line)."""
    for line in log_text.splitlines():
        if "Using worker:" in line:
            return f"{workers} x {line.split('Using worker:', 1)[1].strip()}"
    return f"{workers} workers"


def run_models(url: str, token: str) -> list[dict]:
    """Registrations and single GETs under each worker model, with and without the queue."""
    clients = env_int("BENCH_HTTP_CLIENTS", 20)
    requests = env_int("BENCH_MODEL_REQUESTS", 300)
    count = env_int("BENCH_WORKER_MODELS", len(WORKER_MODELS))  # The first so many.
    chosen = configured(server_env(url))
    default = (chosen["worker_class"], chosen["workers"], chosen["threads"])
    rows = []
    for queue in ("1", "0"):
        for name, worker_class, processes, threads in WORKER_MODELS[:count]:
            is_default = (worker_class, processes, threads) == default
            label = f"{name} (the default here)" if is_default else name
            log(f"worker model: {label}, write queue {'on' if queue == '1' else 'off'}")
            with gunicorn(
                url,
                workers=processes,
                worker_class=worker_class,
                threads=threads,
                log_path=RESULTS / "gunicorn-models.log",
                access_log=False,
                SQLITE_WRITE_QUEUE=queue,
                WEB_THREADS=str(threads),
            ) as server:
                target = http_load.Target.discover(server.port, token)
                found = http_load.compare(
                    target, ("register", "get"), requests=requests, clients=clients, rounds=1
                )
                locked = server.log().count("database is locked")
            rows.append({"label": label, "queue": queue == "1", "locked_errors": locked, **found})
    return rows


def run_hot_source(url: str, token: str) -> dict:
    """Registrations all to one source against spread over every source (PostgreSQL)."""
    workers, clients, requests = http_knobs()
    log(f"hot source: {requests} registrations each way, {clients} clients, {workers} workers")
    with gunicorn(
        url, workers=workers, log_path=RESULTS / "gunicorn-hot.log", access_log=False
    ) as server:
        target = http_load.Target.discover(server.port, token)
        runs = {"one": http_load.Run(), "every": http_load.Run()}
        for _ in range(3):
            for label, sources in (("one", target.source_ids[:1]), ("every", target.source_ids)):
                runs[label].merge(
                    http_load.run(
                        target,
                        "register",
                        requests=requests // 3,
                        clients=clients,
                        sources=sources,
                    )
                )
        return {
            "sources": len(target.source_ids),
            **{label: r.summary() for label, r in runs.items()},
        }


# --- the report ---------------------------------------------------------------------


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for number, row in enumerate(rows):
        lines.append("| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |")
        if number == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def mark(ok: bool) -> str:
    return pages.mark(ok)


def goal2_table(results: dict[str, dict]) -> str:
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
        lambda r: (
            f"{r['orm_large'] / r['orm_small']:.2f} "
            + mark(r["orm_large"] / r["orm_small"] <= HISTORY_RATIO_LIMIT)
        ),
    )
    add(f"raw sqlite3 floor, {small} contacts", lambda r: per_second(r.get("raw_small")))
    add(f"raw sqlite3 floor, {large} contacts", lambda r: per_second(r.get("raw_large")))
    add(
        f"ORM rate / raw floor rate at {large} (>= {FLOOR_SHARE_LIMIT})",
        lambda r: (
            f"{r['raw_large'] / r['orm_large']:.2f} "
            + mark(r["raw_large"] / r["orm_large"] >= FLOOR_SHARE_LIMIT)
            if r.get("raw_large")
            else "n/a"
        ),
    )
    for kind in ("new lead", "known lead"):
        add(
            f"queries per registration, {kind} (<= {QUERY_LIMIT})",
            lambda r, k=kind: f"{r['queries'][k]} " + mark(r["queries"][k] <= QUERY_LIMIT),
        )
    return table(rows)


def goal3_table(results: dict[str, dict]) -> str:
    rows = [["request", *results]]
    for kind in (*http_load.KINDS, http_load.FLOOR):
        rows.append(
            [
                http_load.LABELS[kind],
                *(
                    http_load.cell(r["goal3"][kind]) if kind in r["goal3"] else "n/a"
                    for r in results.values()
                ),
            ]
        )
    for kind, limit in (
        ("register", REGISTER_SHARE_LIMIT),
        ("get", GET_SHARE_LIMIT),
        (http_load.FLOOR, None),
    ):
        cells = []
        for r in results.values():
            if kind not in r["goal3"]:
                cells.append("n/a")
                continue
            share = r["goal3"][kind]["rate"] / r["goal3"]["healthz"]["rate"]
            cells.append(f"{share:.2f}" + (f" {mark(share >= limit)}" if limit else ""))
        goal = f" (>= {limit})" if limit else " (the ceiling of the registration's ratio)"
        rows.append([f"{http_load.LABELS[kind]} / healthz{goal}", *cells])
    rows.append(["worker model", *(r["goal3"]["model"] for r in results.values())])
    return table(rows)


def goal4_table(models: list[dict]) -> str:
    rows = [
        [
            "worker model",
            "write queue",
            "POST /api/contacts/",
            "GET /api/operators/{id}",
            "'database is locked'",
        ]
    ]
    for m in models:
        rows.append(
            [
                m["label"],
                "on" if m["queue"] else "off (busy handler)",
                http_load.cell(m["register"]),
                http_load.cell(m["get"]),
                str(m["locked_errors"]),
            ]
        )
    return table(rows)


def goal5_text(result: dict) -> str:
    locks = result["locks"]
    lines = [
        f"A registration to {locks['source']!r} ({locks['weighted_operators']} weighted "
        "operators), held open and probed from a second connection:",
        "",
    ]
    rows = [["table", "rows locked (FOR UPDATE / UPDATE)", "rows held FOR KEY SHARE", "rows"]]
    for table_name, found in locks["rows"].items():
        which = f" ({found['which']})" if found["which"] else ""
        rows.append(
            [table_name, f"{found['strong']}{which}", str(found["key_share"]), str(found["of"])]
        )
    rows.append(
        [
            "distribution_lead (the new lead's unique key)",
            "yes: a second insert of the key waits" if locks["lead_key_locked"] else "no",
            "-",
            f"{locks['leads']:,}",
        ]
    )
    lines.append(table(rows))
    lines += ["", "Table locks (pg_locks): " + "; ".join(locks["relations"]) + ".", ""]
    hot = result["hot"]
    one, every = hot["one"], hot["every"]
    rows = [
        ["registrations", "rate, p50, p95"],
        ["all to one source", http_load.cell(one)],
        [f"spread over all {hot['sources']} sources", http_load.cell(every)],
        ["one source / spread", f"{one['rate'] / every['rate']:.2f}"],
    ]
    lines.append(table(rows))
    return "\n".join(lines)


def report(results: dict[str, dict], started: float) -> str:
    any_r = next(iter(results.values()))
    small, large = any_r["small"], any_r["large"]
    out = [f"# make bench: issue 13's goals ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})"]
    out += [
        "",
        f"## Goal 1: every page <= {pages.PAGE_LIMIT_MS} ms at {large:,} contacts, "
        f"and at most {pages.FLAT_LIMIT}x its time at {small:,}",
    ]
    for name, r in results.items():
        out += ["", f"### {name}", "", table(pages.table_rows(r["pages"]["rows"], small, large))]
    out += [
        "",
        "Server time: gunicorn's own request time (%(D)s in its access log, from the request "
        "parsed to the answer written), one sync worker per database under production "
        "settings (DEBUG=0, every middleware, hashed static files), median of "
        f"{env_int('BENCH_PAGE_ROUNDS', 3)} after a warm-up, the two databases alternating; "
        "logged in as a supervisor (/my/ as an operator with a login).",
    ]
    out += [
        "",
        f"## Goal 2: a registration <= {QUERY_LIMIT} queries, in-process >= "
        f"{FLOOR_SHARE_LIMIT} of the raw floor",
        "",
        goal2_table(results),
    ]
    out += [
        "",
        f"## Goal 3: through HTTP, registrations >= {REGISTER_SHARE_LIMIT} and a single GET >= "
        f"{GET_SHARE_LIMIT} of /healthz",
        "",
        goal3_table(results),
        "",
        f"{env_int('BENCH_HTTP_REQUESTS', 900)} requests of each kind in 3 alternating rounds "
        f"from {env_int('BENCH_HTTP_CLIENTS', 20)} concurrent clients (a new connection each) "
        "on the same machine, against the large database.",
    ]
    if "models" in results.get("SQLite", {}):
        out += [
            "",
            "## Goal 4: gunicorn's worker model for SQLite",
            "",
            goal4_table(results["SQLite"]["models"]),
            "",
            f"{env_int('BENCH_MODEL_REQUESTS', 300)} requests of each kind per row from "
            f"{env_int('BENCH_HTTP_CLIENTS', 20)} clients. The write queue "
            "(crm/sqlite_backend) makes a writer wait its turn on a file lock before BEGIN "
            "IMMEDIATE; off, writers wait in SQLite's busy handler, which sleeps and polls.",
        ]
    if "locks" in results.get("PostgreSQL", {}):
        out += [
            "",
            "## Goal 5: PostgreSQL's lock footprint and one hot source",
            "",
            goal5_text(results["PostgreSQL"]),
        ]
    out += [
        "",
        "## The run",
        "",
        f"- Machine: {machine()}.",
        f"- Registrations in-process: median of {any_r['rounds']} alternating rounds of "
        f"{any_r['n']:,}.",
        f"- Total run time: {(time.perf_counter() - started) / 60:.1f} min.",
    ]
    return "\n".join(out)


def main() -> None:
    started = time.perf_counter()
    secret_key = secrets.token_urlsafe(50)
    # BENCH_DATABASES=postgresql (or sqlite) runs only that one.
    only = os.environ.get("BENCH_DATABASES", "sqlite,postgresql").lower().split(",")
    targets = {}
    if "sqlite" in only:
        targets["SQLite"] = sqlite_bench_databases()
    database_url = os.environ.get("DATABASE_URL", "")
    if "postgresql" in only and database_url.startswith(("postgres://", "postgresql://")):
        targets["PostgreSQL"] = postgres_bench_databases(database_url)
    collectstatic(secret_key)
    results = {}
    for name, (url, small_name) in targets.items():
        log(f"== {name}: {url} (and {small_name})")
        result = run_json(
            "bench.inprocess", django_env(url, secret_key, BENCH_SMALL_DB_NAME=small_name)
        )
        log(f"== {name}: pages")
        result["pages"] = run_pages({"small": small_url(url, small_name), "large": url}, secret_key)
        log(f"== {name}: HTTP")
        result["goal3"] = run_goal3(url, result["token"])
        if name == "SQLite":
            result["models"] = run_models(url, result["token"])
        else:
            result["locks"] = run_json("bench.locks", django_env(url, secret_key))
            result["hot"] = run_hot_source(url, result["token"])
        results[name] = result
    text = report(results, started)
    print(text)
    (RESULTS / "latest.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
