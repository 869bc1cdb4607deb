"""
Requests per second through a real gunicorn (goals 3, 4 and 5 of issue 13); no Django here.

Three kinds of request, each from `clients` threads with a new connection per request
(like most bots): GET /healthz (the framework's floor: routing, middleware, one
`SELECT 1`), POST /api/contacts/ (a registration, new lead) and GET /api/operators/{id}
(a single-object read with a bearer token). On SQLite a fourth, FLOOR: the registration's
transaction written with the sqlite3 module behind the same server (bench/floor_urls.py),
the ceiling of what POST /api/contacts/ can reach.
"""

import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.server import Client

KINDS = ("healthz", "register", "get")
FLOOR = "floor"
LABELS = {
    "healthz": "GET /healthz",
    "register": "POST /api/contacts/",
    "get": "GET /api/operators/{id}",
    FLOOR: "POST /bench/floor/contacts/ (raw sqlite3 floor)",
}


@dataclass
class Run:
    """What one batch of requests did."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def merge(self, other: "Run") -> None:
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.failures += other.failures

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=100)[p - 1]

    def summary(self) -> dict:
        return {
            "rate": self.rate,
            "p50": self.percentile(50),
            "p95": self.percentile(95),
            "requests": len(self.latencies),
            "failures": len(self.failures),
            "first_failure": self.failures[0] if self.failures else "",
        }


@dataclass
class Target:
    port: int
    token: str
    source_ids: list[int]
    operator_id: int

    @classmethod
    def discover(cls, port: int, token: str) -> "Target":
        client = Client(port, token)
        status, sources = client.request("GET", "/api/sources/?limit=100")
        assert status == 200, (status, sources)
        status, operators = client.request("GET", "/api/operators/?limit=1")
        assert status == 200, (status, operators)
        return cls(
            port=port,
            token=token,
            source_ids=[s["id"] for s in sources["items"]],  # type: ignore[index]
            operator_id=operators["items"][0]["id"],  # type: ignore[index]
        )


def request_maker(target: Target, kind: str, sources: list[int] | None = None) -> Callable:
    """A function (client, rng, ticket) -> (status, answer, expected status)."""
    chosen = sources or target.source_ids

    def healthz(client: Client, rng: random.Random, ticket: int):
        return (*client.request("GET", "/healthz"), 200)

    def post_new_lead(path: str) -> Callable:
        def post(client: Client, rng: random.Random, ticket: int):
            body = {
                "lead_identifier": f"http-{time.time_ns()}-{ticket}@bench.example",
                "source_id": rng.choice(chosen),
            }
            return (*client.request("POST", path, body), 201)

        return post

    def get(client: Client, rng: random.Random, ticket: int):
        return (*client.request("GET", f"/api/operators/{target.operator_id}"), 200)

    return {
        "healthz": healthz,
        "register": post_new_lead("/api/contacts/"),
        "get": get,
        FLOOR: post_new_lead("/bench/floor/contacts/"),
    }[kind]


def run(target: Target, kind: str, *, requests: int, clients: int, sources=None) -> Run:
    """`requests` requests of one kind from `clients` threads."""
    make = request_maker(target, kind, sources)
    result = Run()
    lock = threading.Lock()
    tickets = iter(range(requests))

    def client_loop(number: int) -> None:
        rng = random.Random(number)
        client = Client(target.port, target.token)
        while True:
            with lock:
                ticket = next(tickets, None)
            if ticket is None:
                return
            started = time.perf_counter()
            try:
                status, answer, expected = make(client, rng, ticket)
            except OSError as exc:
                status, answer, expected = None, repr(exc), 0
            elapsed = time.perf_counter() - started
            with lock:
                result.latencies.append(elapsed)
                if status != expected:
                    result.failures.append(f"{status}: {str(answer)[:200]}")

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


def compare(
    target: Target, kinds: tuple[str, ...], *, requests: int, clients: int, rounds: int = 3
) -> dict[str, dict]:
    """Each kind's rate, p50 and p95 over `rounds` alternating rounds of requests/rounds
    each, so that a busy spell of the machine hits every kind alike."""
    runs = {kind: Run() for kind in kinds}
    # Warm-up: every worker (and thread) imports what it needs and opens its connection.
    for kind in kinds:
        run(target, kind, requests=clients * 2, clients=clients)
    for _ in range(rounds):
        for kind in kinds:
            runs[kind].merge(
                run(target, kind, requests=max(1, requests // rounds), clients=clients)
            )
    return {kind: r.summary() for kind, r in runs.items()}


def cell(summary: dict) -> str:
    text = (
        f"{summary['rate']:,.0f}/s, p50 {summary['p50'] * 1000:.0f} ms, "
        f"p95 {summary['p95'] * 1000:.0f} ms"
    )
    if summary["failures"]:
        text += f", **{summary['failures']} failed** ({summary['first_failure'][:60]})"
    return text
