"""The deployment files: Docker cannot run here, so check what they say."""

import ast
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_dockerfile_runs_gunicorn_as_a_non_root_user_with_a_healthcheck():
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    args = dict(instructions)

    assert args["FROM"] == "python:3.11-slim"
    user = args["USER"]
    assert user not in {"root", "0"}
    # The user is switched to after the build steps and before the command.
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")
    runs = [rest for keyword, rest in instructions if keyword == "RUN"]
    assert any(re.search(r"pip install \.$", run) for run in runs)
    assert any("collectstatic --noinput" in run and "SECRET_KEY=" in run for run in runs)
    assert ast.literal_eval(args["CMD"]) == ["gunicorn", "crm.wsgi", "-c", "gunicorn.conf.py"]

    healthcheck = args["HEALTHCHECK"]
    assert "/healthz" in healthcheck and "urllib" in healthcheck
    assert "curl" not in healthcheck and "wget" not in healthcheck


def test_dockerfile_healthcheck_is_valid_python():
    healthcheck = dict(dockerfile_instructions())["HEALTHCHECK"]
    command = shlex.split(healthcheck[healthcheck.index("CMD") + len("CMD") :])
    assert command[:2] == ["python", "-c"]
    ast.parse(command[2])


def test_compose_runs_migrations_once_before_the_app_on_a_healthy_postgres():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]

    db = services["db"]
    assert db["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])

    migrate = services["migrate"]
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert migrate["restart"] == "no"

    web = services["web"]
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert web["depends_on"]["db"]["condition"] == "service_healthy"
    for service in (migrate, web):
        env = service["environment"]
        assert env["DEBUG"] == "0"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["DATABASE_URL"].endswith("@db:5432/crm")
        # No secret is written into the file: it must come from the environment.
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert {"ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"} <= env.keys()


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".env", "db.sqlite3*", "staticfiles"} <= ignored


def gunicorn_config(env: dict[str, str]) -> dict:
    """The settings gunicorn reads from gunicorn.conf.py under this environment."""
    code = (
        "import json, runpy; c = runpy.run_path('gunicorn.conf.py');"
        "print(json.dumps({k: c.get(k) for k in"
        " ('workers', 'worker_class', 'threads', 'bind', 'timeout', 'accesslog')}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return yaml.safe_load(out.stdout)


def test_gunicorn_config_reads_port_workers_and_outlasts_the_sqlite_busy_timeout():
    config = gunicorn_config({"PORT": "9123", "WEB_CONCURRENCY": "3", "SQLITE_BUSY_TIMEOUT": "45"})
    assert config["bind"] == ["0.0.0.0:9123"]
    assert config["workers"] == 3
    assert config["timeout"] > 45
    assert config["accesslog"] == "-"


def test_gunicorn_on_sqlite_defaults_to_two_sync_processes_per_cpu():
    import multiprocessing

    for env in ({}, {"DATABASE_URL": "sqlite:////tmp/x.sqlite3"}):
        config = gunicorn_config(env)
        # Writers queue in crm/sqlite_backend; sync processes served most (bench/, goal 4).
        assert config["worker_class"] == "sync"
        assert config["workers"] == multiprocessing.cpu_count() * 2
        assert config["threads"] == 1
        assert config["bind"] == ["0.0.0.0:8000"]
        assert config["timeout"] > 20


def test_gunicorn_on_postgres_defaults_to_sync_processes():
    import multiprocessing

    config = gunicorn_config({"DATABASE_URL": "postgres://u@db:5432/crm"})
    assert config["worker_class"] == "sync"
    assert config["workers"] == multiprocessing.cpu_count() * 2 + 1
    assert config["threads"] == 1


def test_gunicorn_worker_model_follows_the_environment():
    config = gunicorn_config({"WEB_CONCURRENCY": "3", "WEB_THREADS": "1"})
    assert (config["workers"], config["worker_class"], config["threads"]) == (3, "sync", 1)
    config = gunicorn_config(
        {"DATABASE_URL": "postgres://u@db:5432/crm", "WEB_THREADS": "8", "WEB_CONCURRENCY": "2"}
    )
    assert (config["workers"], config["worker_class"], config["threads"]) == (2, "gthread", 8)


def test_compose_runs_the_worker_after_migrations():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    worker = compose["services"]["worker"]

    assert worker["command"] == ["python", "manage.py", "run_worker"]
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert worker["environment"]["DATABASE_URL"].endswith("@db:5432/crm")
    assert worker["restart"] == "unless-stopped"
