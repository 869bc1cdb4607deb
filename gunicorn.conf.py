"""
gunicorn settings for production: `gunicorn crm.wsgi -c gunicorn.conf.py`.

Driven by the environment like crm/settings.py; command-line flags (--workers,
--bind) still win over everything here.

* WEB_CONCURRENCY: worker processes (default: one per CPU on SQLite, 2 x CPUs + 1 on
  PostgreSQL).
* WEB_THREADS: threads per worker process (default: 4 on SQLite, 1 on PostgreSQL); more
  than 1 runs gunicorn's gthread workers, 1 its sync workers.
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

# The worker model, chosen by measurement (`make bench`, goal 4 in the README):
# * SQLite has one writer at a time. Writers queue for it in crm/sqlite_backend (a lock
#   taken before BEGIN, so a waiting writer is woken the moment the lock is free instead
#   of sleeping in SQLite's busy handler), which makes threads cheap waiters; and a
#   thread pool per process overlaps reading and writing sockets with Python work. One
#   process per CPU with 4 threads each served more registrations and reads, with a lower
#   p95, than 1, 2 or 4 sync processes.
# * PostgreSQL locks rows, not the database: processes run registrations to different
#   operators side by side, one request at a time per worker on one connection, and a
#   killed worker cuts off only that one request.
workers = _env_int(
    "WEB_CONCURRENCY",
    multiprocessing.cpu_count() if _sqlite else multiprocessing.cpu_count() * 2 + 1,
)
threads = max(1, _env_int("WEB_THREADS", 4 if _sqlite else 1))
worker_class = "gthread" if threads > 1 else "sync"
# A gthread worker accepts connections up to this many at once and queues those its threads
# are not serving yet. As many as it has threads: the rest wait in the listen backlog for
# whichever worker is free first, and a killed worker cuts off only what it was serving.
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
