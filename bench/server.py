"""
A real gunicorn on a free loopback port, and a small JSON client for it.

Used by the HTTP benchmark and by tests/test_load.py; needs no Django in the caller.
"""

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def database_url(settings_dict: dict) -> str:
    """The DATABASE_URL that points another process at this Django database."""
    engine = settings_dict["ENGINE"]
    if engine in {"django.db.backends.sqlite3", "crm.sqlite_backend"}:
        return f"sqlite:///{Path(settings_dict['NAME']).resolve()}"
    if engine == "django.db.backends.postgresql":
        quote = urllib.parse.quote
        user = quote(settings_dict.get("USER") or "", safe="")
        password = settings_dict.get("PASSWORD") or ""
        auth = f"{user}:{quote(password, safe='')}" if password else user
        host = settings_dict.get("HOST") or "localhost"
        port = settings_dict.get("PORT") or 5432
        return f"postgres://{auth}@{host}:{port}/{quote(settings_dict['NAME'], safe='')}"
    raise ValueError(f"no URL for database engine {engine!r}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """Production settings for the server, on loopback and plain HTTP."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key in {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "PYTHONPATH"}
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=database_url,
        LOG_LEVEL="WARNING",
    )
    # The caller's values win (the pages benchmark signs sessions with its own key).
    env.update(extra)
    return env


def configured(env: dict[str, str]) -> dict:
    """What gunicorn.conf.py chooses under this environment (workers, worker_class, threads)."""
    code = (
        "import json, runpy; c = runpy.run_path('gunicorn.conf.py');"
        "print(json.dumps({k: c[k] for k in ('workers', 'worker_class', 'threads')}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log_path: Path
    # Requests one worker serves at once: what a killed worker can cut off.
    threads: int = 1

    @property
    def pid(self) -> int:
        return self.process.pid

    def worker_pids(self) -> list[int]:
        """The master's children: its workers (read from /proc, Linux only)."""
        children: list[int] = []
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            text = (task / "children").read_text().split()
            children.extend(int(pid) for pid in text)
        return sorted(children)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def gunicorn(
    database_url: str,
    *,
    workers: int,
    log_path: Path,
    timeout_s: float = 60,
    access_log: bool = True,
    worker_class: str | None = None,
    threads: int | None = None,
    extra_args: list[str] | None = None,
    **env: str,
) -> Iterator[Server]:
    """gunicorn crm.wsgi with our config on a free port; stopped on exit.

    worker_class and threads override gunicorn.conf.py's choice (the benchmark compares
    worker models); left out, the server runs as configured for its database."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "crm.wsgi",
        "-c",
        "gunicorn.conf.py",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
    ]
    if worker_class:
        command += ["--worker-class", worker_class]
    if threads:
        command += ["--threads", str(threads)]
    if not access_log:
        command += ["--access-logfile", "/dev/null"]
    command += extra_args or []
    environment = server_env(database_url, **env)
    if threads is None:
        threads = configured(environment)["threads"]
    log = log_path.open("wb")
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Server(process=process, port=port, log_path=log_path, threads=threads)
    try:
        wait_healthy(server, workers=workers, timeout_s=timeout_s)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_healthy(server: Server, *, workers: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}:\n{server.log()}")
        try:
            status, _ = Client(server.port).request("GET", "/healthz")
        except OSError:
            status = None
        if status == 200 and len(server.worker_pids()) == workers:
            return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer /healthz within {timeout_s}s:\n{server.log()}")


class Client:
    """One keep-alive-free HTTP/1.1 client: a new connection per request, like most bots."""

    def __init__(self, port: int, token: str | None = None, *, timeout_s: float = 30):
        self.port = port
        self.token = token
        self.timeout_s = timeout_s

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
        """(status, parsed JSON or text). Connection failures raise OSError."""
        headers = {"Host": "127.0.0.1", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout_s)
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        except http.client.HTTPException as exc:
            # A worker killed mid-answer leaves a half response: a connection failure.
            raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            connection.close()
        content_type = response.headers.get("Content-Type", "")
        if content_type.startswith("application/json"):
            return response.status, json.loads(raw)
        return response.status, raw.decode(errors="replace")
