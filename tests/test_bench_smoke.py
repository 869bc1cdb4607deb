"""`make bench` with tiny sizes: every goal's table has every row, and nothing failed.

No figure is checked (the machine is shared): only that the harness measures everything it
promises, so that a full run does not find a broken page or request after twenty minutes.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import pages

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.sqlite]


def test_a_tiny_bench_prints_every_goal_with_no_error(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        BENCH_RESULTS=str(tmp_path),
        BENCH_DATABASES="sqlite",
        BENCH_CONTACTS="300",
        BENCH_SMALL="100",
        BENCH_REGISTRATIONS="5",
        BENCH_PAGE_ROUNDS="1",
        BENCH_LEAD_CONTACTS="40",
        BENCH_HTTP_REQUESTS="30",
        BENCH_HTTP_CLIENTS="4",
        BENCH_HTTP_WORKERS="2",
        BENCH_MODEL_REQUESTS="8",
        BENCH_WORKER_MODELS="2",
    )
    result = subprocess.run(
        [sys.executable, "-m", "bench"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = (tmp_path / "latest.md").read_text()
    assert report.strip() == result.stdout.strip()

    for goal in range(1, 5):
        assert f"## Goal {goal}:" in report
    # Goal 1: every page, each with a time at both sizes.
    for page in pages.pages({}):
        label = page.label if page.path != "deep" else "contacts, deep page ("
        # (Its number of contacts is BENCH_LEAD_CONTACTS of the bench's own environment.)
        label = "a lead (" if label.startswith("a lead (") else label
        rows = [line for line in report.splitlines() if line.startswith(f"| {label}")]
        assert rows, label
        assert re.search(r"\| [\d.]+ ms +\| [\d.]+ ms +\| [\d.]+ ", rows[0]), rows[0]
    assert "ERROR" not in report
    # Goals 3 and 4: every request answered as expected.
    for row in (
        "GET /healthz",
        "POST /api/contacts/ / healthz",
        "GET /api/operators/{id} /",
        "POST /bench/floor/contacts/ (raw sqlite3 floor) / healthz",
    ):
        assert f"| {row}" in report
    assert report.count("| sync, 1 process ") == 2 and report.count("| sync, 2 processes ") == 2
    assert "failed" not in report
