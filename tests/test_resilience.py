"""
The database going away and coming back, and SQLite staying busy: clients get a clear
503 (JSON under /api/, a page elsewhere), never a 500 or a hang, and nothing they were
told is stored is lost.
"""

import http.client
import sqlite3
import threading
import time
from collections import Counter

import pytest
from django.db import connection
from django.test import Client

from bench.server import Client as HttpClient
from bench.server import database_url, gunicorn
from distribution import services
from distribution.auth_tokens import api_token_create
from distribution.models import Contact, Lead, normalize_identifier
from tests.tcp_proxy import TcpProxy

WORKERS = 2
CLIENTS = 3
# Far above what any request needs; a request that reaches it is a hang.
REQUEST_TIMEOUT_S = 20
PHASE_TIMEOUT_S = 60


@pytest.fixture
def world(db):
    operator = services.operator_create(name="Resilient", workload_limit=100_000)
    source = services.source_create(name="Outage")
    services.source_set_weights(source_id=source.pk, weights=[(operator.pk, 1)])
    _token, secret = api_token_create(name="resilience")
    return {"source": source.pk, "token": secret}


class Registrations:
    """Clients registering contacts in a loop until told to stop; everything they saw."""

    def __init__(self, port: int, world: dict) -> None:
        self.port, self.world = port, world
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.created: dict[int, str] = {}
        self.bad: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(CLIENTS)]

    def __enter__(self) -> "Registrations":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=REQUEST_TIMEOUT_S + 5)

    def count(self, status: int) -> int:
        with self.lock:
            return self.statuses[status]

    def wait_for(self, status: int, more_than: int) -> None:
        deadline = time.monotonic() + PHASE_TIMEOUT_S
        while self.count(status) <= more_than and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.count(status) > more_than, (status, self.statuses, self.bad[:5])

    def _run(self, n: int) -> None:
        client = HttpClient(self.port, self.world["token"], timeout_s=REQUEST_TIMEOUT_S)
        i = 0
        while not self.stop.is_set():
            i += 1
            identifier = f"client{n}-{i}@example.com"
            body = {"lead_identifier": identifier, "source_id": self.world["source"]}
            try:
                status, answer = client.request("POST", "/api/contacts/", body)
            except OSError as exc:  # A hang past the timeout, or a dropped connection.
                with self.lock:
                    self.bad.append(f"connection: {exc!r}")
                continue
            with self.lock:
                self.statuses[status] += 1
                if status == 201 and isinstance(answer, dict):
                    self.created[answer["id"]] = identifier
                elif status == 503 and isinstance(answer, dict) and "detail" in answer:
                    pass  # A pause below, as a client told to retry later would make.
                else:
                    self.bad.append(f"{status}: {str(answer)[:200]}")
            if status == 503:
                time.sleep(0.05)


def page_with_a_session(port: int) -> tuple[int, str]:
    """GET the dashboard with a session cookie: reading the session needs the database."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    try:
        connection.request(
            "GET", "/", headers={"Host": "127.0.0.1", "Cookie": "sessionid=" + "x" * 32}
        )
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_database_outage_is_a_503_and_the_same_workers_serve_after_it(world, tmp_path):
    settings_dict = connection.settings_dict
    upstream = (settings_dict.get("HOST") or "127.0.0.1", int(settings_dict.get("PORT") or 5432))
    with TcpProxy(upstream) as proxy:
        url = database_url({**settings_dict, "HOST": "127.0.0.1", "PORT": proxy.port})
        log = tmp_path / "gunicorn.log"
        with gunicorn(url, workers=WORKERS, log_path=log, access_log=False) as server:
            workers = server.worker_pids()
            probe = HttpClient(server.port, timeout_s=REQUEST_TIMEOUT_S)
            with Registrations(server.port, world) as clients:
                clients.wait_for(201, more_than=10)

                proxy.cut()
                clients.wait_for(503, more_than=5)
                health = probe.request("GET", "/healthz")
                page = page_with_a_session(server.port)
                during = clients.count(201)

                proxy.restore()
                clients.wait_for(201, more_than=during + 10)
            after = probe.request("GET", "/healthz")
            same_workers = server.worker_pids()

    assert clients.bad == []
    assert set(clients.statuses) <= {201, 503}
    assert health == (503, "database unavailable")
    # A page that needs the database (the session's user) is a 503 page that says so.
    assert page[0] == 503 and "Temporarily unavailable" in page[1]
    assert after == (200, "ok")
    # The workers reconnected by themselves (CONN_HEALTH_CHECKS): none was restarted.
    assert same_workers == workers
    # Every contact a client was told is stored (201) is stored, for the identifier sent.
    stored = dict(
        Contact.objects.filter(pk__in=list(clients.created)).values_list(
            "pk", "lead__identifier_key"
        )
    )
    assert stored == {pk: normalize_identifier(ident) for pk, ident in clients.created.items()}


@pytest.fixture
def short_busy_timeout():
    """This test's own connections wait 0.2 s for SQLite's write lock instead of 20 s."""
    options = connection.settings_dict["OPTIONS"]
    before = options["timeout"]
    connection.close()
    options["timeout"] = 0.2
    yield
    connection.close()
    options["timeout"] = before


@pytest.fixture
def writer_holding_the_database():
    """Another process's writer, holding SQLite's write lock until the test ends."""
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield
    other.execute("ROLLBACK")
    other.close()


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_sqlite_busy_past_its_timeout_is_a_503_that_changes_nothing(
    world, short_busy_timeout, writer_holding_the_database
):
    client = Client(raise_request_exception=False)

    api = client.post(
        "/api/contacts/",
        {"lead_identifier": "busy@example.com", "source_id": world["source"]},
        content_type="application/json",
        headers={"Authorization": f"Bearer {world['token']}"},
    )
    page = client.post("/accounts/login/", {"username": "a", "password": "b"})

    assert api.status_code == 503
    assert api["Content-Type"] == "application/json"
    assert "Retry later" in api.json()["detail"]
    assert api["Retry-After"]
    assert page.status_code == 503
    assert b"Temporarily unavailable" in page.content


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_after_sqlite_was_busy_nothing_was_stored(world, short_busy_timeout):
    holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        response = Client(raise_request_exception=False).post(
            "/api/contacts/",
            {"lead_identifier": "busy@example.com", "source_id": world["source"]},
            content_type="application/json",
            headers={"Authorization": f"Bearer {world['token']}"},
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert response.status_code == 503
    assert not Lead.objects.filter(identifier_key="busy@example.com").exists()
