"""`make screenshots` shows a database of its own: fresh, temporary, the demo week, never
the developer's (the browser part is left out: it only photographs what this builds)."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def test_the_screenshots_database_is_a_fresh_file_of_its_own_with_the_demo_week(tmp_path):
    developers = tmp_path / "developers.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{developers}", "DEBUG": "0"}
    env.pop("DEMO_OPERATOR_PASSWORD", None)

    result = subprocess.run(
        [sys.executable, "-m", "bench.screenshots", "--prepare-only", str(tmp_path / "shots")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stderr
    built = Path(result.stdout.splitlines()[-1])
    assert built.parent == tmp_path / "shots" and built.is_file()
    assert built != Path(str(settings.DATABASES["default"]["NAME"]))
    # The configured database was never opened (SQLite creates the file on connect).
    assert not developers.exists()
    with sqlite3.connect(built) as db:
        operators = db.execute("SELECT count(*) FROM distribution_operator").fetchone()[0]
        contacts = db.execute("SELECT count(*) FROM distribution_contact").fetchone()[0]
        staff = db.execute("SELECT username FROM auth_user WHERE is_staff").fetchall()
        logins = db.execute("SELECT count(*) FROM auth_user WHERE NOT is_staff").fetchone()[0]
    assert operators == 8 and contacts >= 300
    assert staff == [("sam",)] and logins == 3


def test_preparing_refuses_a_database_that_already_exists(tmp_path):
    (tmp_path / "screenshots.sqlite3").write_bytes(b"")

    result = subprocess.run(
        [sys.executable, "-m", "bench.screenshots", "--prepare-only", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0 and "fresh database" in result.stderr
