"""
gunicorn settings for production: `gunicorn crm.wsgi -c gunicorn.conf.py`.

Driven by the environment like crm/settings.py; command-line flags (--workers,
--bind) still win over everything here.

* WEB_CONCURRENCY: worker processes (default: 2 x CPUs on SQLite, 2 x CPUs + 1 on
  PostgreSQL).
* WEB_THREADS: threads per worker process (default 1: gunicorn's sync workers); more than
  1 runs its gthread workers.
* PORT: the port to listen on, on every interface (default 8000).
* GUNICORN_TIMEOUT: seconds a request may take before its worker is restarted.
* FORWARDED_ALLOW_IPS (read by gunicorn itself): proxies trusted to set X-Forwarded-*.
"""

import multiprocessing
import os
from pathlib import Path


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number (got {value!r}).") from None


_sqlite = (
    not os.environ.get("DATABASE_URL", "").strip().startswith(("postgres://", "postgresql://"))
)

# The worker model, chosen by measurement (`make bench`, goal 4 in the README): sync
# workers, one request at a time per process on one database connection, on both
# databases; a killed worker cuts off only the request it was serving.
# * SQLite has one writer at a time. Writers queue for it in crm/sqlite_backend (a lock
#   taken before BEGIN, so a waiting writer is woken the moment the lock is free instead
#   of sleeping in SQLite's busy handler). Sync processes served more registrations than
#   gthread workers in two clean runs: a thread that holds the write lock also waits for
#   its process's GIL while the other threads run, so the one write slot is held longer.
#   2 x CPUs processes gave the steadiest p95 with reads close to the best.
# * PostgreSQL locks rows, not the database: processes run registrations to different
#   operators side by side.
workers = _env_int(
    "WEB_CONCURRENCY",
    multiprocessing.cpu_count() * 2 if _sqlite else multiprocessing.cpu_count() * 2 + 1,
)
threads = max(1, _env_int("WEB_THREADS", 1))
worker_class = "gthread" if threads > 1 else "sync"
# With WEB_THREADS > 1, a gthread worker accepts connections up to this many at once and
# queues those its threads are not serving yet. As many as it has threads: the rest wait
# in the listen backlog for whichever worker is free first, and a killed worker cuts off
# only what it was serving.
worker_connections = threads
bind = [f"0.0.0.0:{_env_int('PORT', 8000)}"]

# A SQLite writer may wait SQLITE_BUSY_TIMEOUT seconds for the write lock. The worker
# timeout must be longer, or gunicorn would kill a worker that is only waiting its turn
# and the client would see a dropped connection instead of a slow answer.
_busy_timeout = _env_int("SQLITE_BUSY_TIMEOUT", 20)
timeout = _env_int("GUNICORN_TIMEOUT", max(30, _busy_timeout + 10))
graceful_timeout = timeout

# gunicorn's default, named here because the API documents it: a longer request line
# (method, path and query string) is a 414 before Django sees it.
limit_request_line = 4094

# Access log and errors to stdout/stderr, where containers and systemd collect them.
# %(M)s is the request time in milliseconds.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# Workers heartbeat through a file; on a container's overlay filesystem that can stall,
# so use memory when there is a /dev/shm.
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"
