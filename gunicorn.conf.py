"""
gunicorn settings for production: `gunicorn crm.wsgi -c gunicorn.conf.py`.

Driven by the environment like crm/settings.py; command-line flags (--workers,
--bind) still win over everything here.

* WEB_CONCURRENCY: worker processes (default: 2 x CPUs + 1).
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


workers = _env_int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
# One request at a time per worker, on one database connection: the transactions in
# distribution/services.py are short, and a killed worker can cut off only one request.
worker_class = "sync"
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
