"""
Every page's server time at two sizes of history (goal 1 of issue 13).

Two halves:

* `python -m bench.pages prepare` (Django, on the database DATABASE_URL names): a staff
  user and an operator with a login, each with a session; a lead with many contacts; a few
  leads that a search term finds; one JSON line on stdout with the sessions and ids.
* `measure(...)` (no Django): one gunicorn worker per database under production settings,
  each page requested in turn on both (one warm-up, then `rounds` alternating rounds), and
  the server's own time read from gunicorn's access log (%(D)s, microseconds: from the
  request parsed to the answer written), so that neither the client nor the loopback is
  counted. A page that does not answer 200 is an error in the table.
"""

import html.parser
import json
import os
import re
import statistics
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

PAGE_LIMIT_MS = 100
FLAT_LIMIT = 1.5
SEARCH_TERM = "zebra"  # Three leads of each database are called zebra-<n>@bench.example.
# Every lead's identifier contains "bench"; "seed1" is in a fifth of the seeded leads
# (Seed1..., the oldest fifth of the history): broad searches (search.py), dense and sparse.
BROAD_TERMS = ("bench", "seed1")
# The contacts of the lead whose page is timed (all but a few closed); BENCH_LEAD_CONTACTS.
MANY_CONTACTS = int(os.environ.get("BENCH_LEAD_CONTACTS", "") or 1000)
STILL_OPEN = 10
ACCESS_FORMAT = "BENCH %({x-bench-id}i)s %(s)s %(D)s"
SESSION_COOKIE = "sessionid"


# --- prepare (Django) -----------------------------------------------------------------


def prepare() -> dict:
    """Users, sessions and the rows the pages need; idempotent."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from distribution import services
    from distribution.models import Contact, Lead, Operator, Source

    User = get_user_model()
    supervisor, _ = User.objects.get_or_create(
        username="bench-supervisor", defaults={"is_staff": True}
    )
    operator = Operator.objects.order_by("pk").first()
    assert operator is not None, "the benchmark database has no operator"
    if operator.user_id is None:
        services.operator_login_create(
            operator_id=operator.pk, username="bench-operator", password="bench-Op-9f3k2m"
        )
        operator.refresh_from_db()
    source = Source.objects.order_by("pk").first()
    assert source is not None, "the benchmark database has no source"

    many = "bench-many@bench.example"
    lead = Lead.objects.filter(identifier_key=many).first()
    have = lead.contacts.count() if lead else 0
    missing = MANY_CONTACTS - have
    for n in range(missing):
        contact = services.contact_register(lead_identifier=many, source_id=source.pk)
        if n < missing - STILL_OPEN:
            services.contact_close(contact_id=contact.pk)
    lead = Lead.objects.get(identifier_key=many)
    for n in range(1, 4):
        identifier = f"{SEARCH_TERM}-{n}@bench.example"
        if not Lead.objects.filter(identifier_key=identifier).exists():
            services.contact_register(lead_identifier=identifier, source_id=source.pk)

    def session(user) -> str:
        client = Client()
        client.force_login(user)
        return client.cookies[SESSION_COOKIE].value

    contact = Contact.objects.filter(lead=lead).order_by("-pk").first()
    assert contact is not None
    # An operator of the source with the most of its contacts: the open ones of the pair.
    weight = source.weights.order_by("-weight", "operator_id").first()
    assert weight is not None, "the benchmark's first source has no weights"
    return {
        "supervisor_session": session(supervisor),
        "operator_session": session(operator.user),
        "source_id": source.pk,
        "operator_id": operator.pk,
        "lead_id": lead.pk,
        "contact_id": contact.pk,
        "pair_operator_id": weight.operator_id,
        "contacts": Contact.objects.count(),
    }


# --- measure (no Django) ----------------------------------------------------------------


@dataclass
class Page:
    label: str
    path: str  # A path, or "deep": found from the first contacts page's links.
    who: str = "supervisor"  # or "operator"


def pages(ids: dict) -> list[Page]:
    """The pages of goal 1; the same ids are used on both databases only where they mean
    the same row (each database is prepared alike), else each database's own."""
    return [
        Page("dashboard", "/"),
        Page("sources", "/sources/"),
        Page("leads", "/leads/"),
        Page(f"leads, search {SEARCH_TERM!r}", f"/leads/?search={SEARCH_TERM}"),
        Page("contacts, first page", "/contacts/"),
        Page("contacts, deep page", "deep"),
        Page("contacts, status=open", "/contacts/?status=open"),
        Page("contacts, status=closed", "/contacts/?status=closed"),
        Page("contacts, queued only", "/contacts/?unassigned=on"),
        Page("contacts, one source", "/contacts/?source={source_id}"),
        Page("contacts, one operator", "/contacts/?operator={operator_id}"),
        Page(f"contacts, lead {SEARCH_TERM!r}", f"/contacts/?lead={SEARCH_TERM}"),
        *(Page(f"contacts, lead {term!r}", f"/contacts/?lead={term}") for term in BROAD_TERMS),
        Page(
            "contacts, source+operator+open",
            "/contacts/?source={source_id}&operator={pair_operator_id}&status=open",
        ),
        Page("a source", "/sources/{source_id}/"),
        Page("a source's fairness", "/sources/{source_id}/fairness/"),
        Page("operator's workspace /my/", "/my/", who="operator"),
        Page(f"a lead ({MANY_CONTACTS} contacts)", "/leads/{lead_id}/"),
        Page("a contact", "/contacts/{contact_id}/"),
    ]


class _Links(html.parser.HTMLParser):
    """The pager's links (text -> href) and the page-number jump's maximum, if any."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.page_max: int | None = None
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self._href, self._text = a["href"], []
        if tag == "input" and a.get("name") == "page" and (a.get("max") or "").isdigit():
            self.page_max = int(a["max"] or 0)

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((" ".join("".join(self._text).split()), self._href))
            self._href = None


def deep_path(first_page: str) -> tuple[str, str]:
    """(path, how it was found) of the deepest contacts page the first page leads to: its
    own "Oldest"/"Last" link (keyset paging), else the last page number (page numbers),
    else its "Older"/"Next" link."""
    parser = _Links()
    parser.feed(first_page)
    for text, href in parser.links:
        if re.search(r"\b(oldest|last)\b", text, re.IGNORECASE) and "?" in href:
            return _absolute(href), "its Oldest/Last link"
    if parser.page_max and parser.page_max > 1:
        return f"/contacts/?page={parser.page_max}", f"the last page number ({parser.page_max})"
    for text, href in parser.links:
        if re.search(r"\b(older|next)\b", text, re.IGNORECASE):
            return _absolute(href), "its Older/Next link (no deeper link on the page)"
    raise ValueError("the first contacts page links to no deeper page")


def _absolute(href: str) -> str:
    href = href.replace("&amp;", "&")
    return urllib.parse.urljoin("/contacts/", href)


@dataclass
class Timing:
    times_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    path: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.times_ms) if self.times_ms else None


class AccessLog:
    """Server times by request id, read from a gunicorn log as its lines arrive."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.times: dict[str, tuple[int, float]] = {}

    def wait_for(self, request_id: str, timeout_s: float = 10) -> tuple[int, float]:
        deadline = time.monotonic() + timeout_s
        while request_id not in self.times:
            with self.path.open("rb") as log:
                log.seek(self.offset)
                chunk = log.read()
            end = chunk.rfind(b"\n") + 1
            self.offset += end
            for line in chunk[:end].decode(errors="replace").splitlines():
                parts = line.split()
                if len(parts) >= 4 and parts[-4] == "BENCH":
                    self.times[parts[-3]] = (int(parts[-2]), int(parts[-1]) / 1000)
            if request_id in self.times:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"request {request_id} is not in {self.path}")
            time.sleep(0.005)
        return self.times.pop(request_id)


_ids = iter(range(1, 10**9))
_ids_lock = threading.Lock()


def get(port: int, path: str, session: str) -> tuple[int, str, str]:
    """(status, body, request id) of one GET with a session cookie."""
    import http.client

    with _ids_lock:
        request_id = str(next(_ids))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(
            "GET",
            path,
            headers={
                "Host": "127.0.0.1",
                "Cookie": f"{SESSION_COOKIE}={session}",
                "X-Bench-Id": request_id,
            },
        )
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
    finally:
        connection.close()
    return response.status, body, request_id


@contextmanager
def servers(urls: dict[str, str], log_dir: Path, env: dict[str, str]) -> Iterator[dict]:
    """One gunicorn worker per database (label -> (port, AccessLog))."""
    from bench.server import gunicorn

    with ExitStack() as stack:
        found = {}
        for label, url in urls.items():
            log_path = log_dir / f"gunicorn-pages-{label}.log"
            server = stack.enter_context(
                gunicorn(
                    url,
                    workers=1,
                    log_path=log_path,
                    extra_args=["--access-logformat", ACCESS_FORMAT],
                    worker_class="sync",
                    threads=1,
                    **env,
                )
            )
            found[label] = (server.port, AccessLog(log_path))
        yield found


def measure(
    urls: dict[str, str], prepared: dict[str, dict], *, rounds: int, log_dir: Path, env: dict
) -> list[dict]:
    """Per page: its label, and per database label its median server time, path and errors.

    `urls` and `prepared` are keyed by the same database labels (e.g. "small", "large")."""
    rows = []
    with servers(urls, log_dir, env) as running:
        for page in pages(next(iter(prepared.values()))):
            timings = {label: Timing() for label in urls}
            for label in urls:
                ids = prepared[label]
                port, _log = running[label]
                if page.path == "deep":
                    status, body, _ = get(port, "/contacts/", ids["supervisor_session"])
                    try:
                        path, how = deep_path(body) if status == 200 else ("", "")
                        timings[label].path = path
                        page.label = f"contacts, deep page ({how})"
                    except ValueError as exc:
                        timings[label].errors.append(str(exc))
                else:
                    timings[label].path = page.path.format(**ids)
            for number in range(rounds + 1):  # The first round warms up.
                for label in urls:
                    timing = timings[label]
                    if not timing.path or (number and timing.errors):
                        continue
                    port, log = running[label]
                    session = prepared[label][f"{page.who}_session"]
                    status, body, request_id = get(port, timing.path, session)
                    _status, server_ms = log.wait_for(request_id)
                    if status != 200:
                        timing.errors.append(f"{status} on {timing.path}")
                    elif number:
                        timing.times_ms.append(server_ms)
            rows.append({"label": page.label, "timings": timings})
            print(
                f"pages: {page.label}: "
                + ", ".join(f"{label} {t.median or 0:.1f} ms" for label, t in timings.items()),
                file=sys.stderr,
                flush=True,
            )
    return rows


def table_rows(rows: list[dict], small: int, large: int) -> list[list[str]]:
    """Rows for bench.__main__.table: page, ms at small, ms at large, ratio, verdict."""
    out = [
        [
            "page",
            f"{small:,}",
            f"{large:,}",
            "ratio",
            f"<= {PAGE_LIMIT_MS} ms",
            f"ratio <= {FLAT_LIMIT}",
        ]
    ]
    for row in rows:
        s, l_ = row["timings"]["small"], row["timings"]["large"]
        errors = s.errors + l_.errors
        if errors or s.median is None or l_.median is None:
            out.append(
                [row["label"], "ERROR", "ERROR", "-", "ERROR: " + "; ".join(errors)[:80], "-"]
            )
            continue
        ratio = l_.median / s.median if s.median else float("inf")
        out.append(
            [
                row["label"],
                f"{s.median:.1f} ms",
                f"{l_.median:.1f} ms",
                f"{ratio:.2f}",
                mark(l_.median <= PAGE_LIMIT_MS),
                mark(ratio <= FLAT_LIMIT),
            ]
        )
    return out


def mark(ok: bool) -> str:
    return "yes" if ok else "**NO**"


if __name__ == "__main__":
    if sys.argv[1:] == ["prepare"]:
        print(json.dumps(prepare()), flush=True)
    else:
        raise SystemExit("usage: python -m bench.pages prepare")
