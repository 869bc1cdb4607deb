"""
PNG screenshots of every page, for the README.

    python -m bench.screenshots        (or: make screenshots)

Builds a database of its own, never the configured one: a fresh SQLite file in a temporary
directory, migrated, with the demo week of `seed_demo` and a supervisor. Serves the app
from this process on a free port, logs Chromium in as that supervisor (and as the demo
operator `alice` for her workspace, /my/), and writes docs/screenshots/<page>.png at
1280x800 and <page>-phone.png at 390x844. The temporary database is deleted afterwards.

    python -m bench.screenshots --prepare-only DIR

builds the database in DIR, prints its path and stops (the tests check it this way).
"""

import argparse
import os
import secrets
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
SUPERVISOR = "sam"
OPERATOR = "alice"
# On a phone the long lists are shown as their first screen only.
FIRST_SCREEN_ON_PHONE = {"contacts", "leads", "operators", "sources", "source-detail"}


def prepare_database(directory: Path) -> Path:
    """Point Django at a new SQLite file in `directory` and fill it: migrations, the demo
    week, a supervisor. Call it before Django is set up: the settings read DATABASE_URL
    once, and a database chosen before this call must not be the one the pictures show."""
    path = directory / "screenshots.sqlite3"
    if path.exists():
        raise FileExistsError(f"{path} already exists: the screenshots need a fresh database.")
    os.environ["DJANGO_SETTINGS_MODULE"] = "crm.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    # The demo operators' logins are made in DEBUG (seed_demo); this server is local.
    os.environ["DEBUG"] = "1"
    os.environ["DJANGO_SUPERUSER_USERNAME"] = SUPERVISOR
    os.environ["DJANGO_SUPERUSER_PASSWORD"] = secrets.token_urlsafe(24)
    # Playwright's sync API runs an event loop in this thread; our ORM calls here are plain.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    if Path(settings.DATABASES["default"]["NAME"]) != path:
        raise RuntimeError("Django was set up before prepare_database(): not its own database.")
    call_command("migrate", verbosity=0)
    call_command("seed_demo")
    call_command("ensure_supervisor")
    return path


def _serve():
    """A threaded WSGI server with static files, like the test live server; returns its URL."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(StaticFilesHandler(get_wsgi_application()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _url(name: str, *args) -> str | None:
    """The page's path, or None when this version of the app has no such page."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _supervisor_pages() -> list[tuple[str, str]]:
    from django.db.models import Count, Q

    from distribution.models import Contact, ContactEvent, Lead, Operator, Source

    pages = [
        ("dashboard", _url("distribution:dashboard")),
        ("operators", _url("distribution:operator_list")),
        ("sources", _url("distribution:source_list")),
        ("contacts", _url("distribution:contact_list")),
        ("contact-new", _url("distribution:contact_create")),
        ("leads", _url("distribution:lead_list")),
    ]
    operator = Operator.objects.filter(hours__isnull=False).order_by("name").first()
    if operator:
        pages.append(("operator-detail", _url("distribution:operator_detail", operator.pk)))
        pages.append(("operator-schedule", _url("distribution:operator_schedule", operator.pk)))
    # The source with routing settings worth seeing: the balanced one, else the first.
    source = Source.objects.order_by("mode", "name").first()
    if source:
        pages.append(("source-detail", _url("distribution:source_detail", source.pk)))
    # Fairness where there is most to judge: the source with the most contacts.
    busiest = Source.objects.annotate(n=Count("contacts")).order_by("-n", "name").first()
    if busiest:
        pages.append(("source-fairness", _url("distribution:source_fairness", busiest.pk)))
    # The contact with the longest story in the log (a timed-out one, once there is one).
    contact = (
        Contact.objects.annotate(
            timed_out=Count("events", filter=Q(events__kind=ContactEvent.Kind.TIMED_OUT)),
            n=Count("events"),
        )
        .order_by("-timed_out", "-n", "-id")
        .first()
    )
    if contact:
        pages.append(("contact-detail", _url("distribution:contact_detail", contact.pk)))
    lead = Lead.objects.annotate(n=Count("contacts")).order_by("-n", "id").first()
    if lead:
        pages.append(("lead-detail", _url("distribution:lead_detail", lead.pk)))
    return [(name, path) for name, path in pages if path]


def _cookie(username: str, url: str) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {"name": settings.SESSION_COOKIE_NAME, "value": value, "url": url}


def _capture(browser, url: str, cookie: dict | None, pages: list[tuple[str, str]]) -> None:
    from tests.browser.chromium import DESKTOP, PHONE

    for suffix, viewport in (("", DESKTOP), ("-phone", PHONE)):
        context = browser.new_context(viewport=viewport)
        if cookie:
            context.add_cookies([cookie])
        page = context.new_page()
        for name, path in pages:
            page.goto(url + path)
            page.wait_for_load_state("networkidle")
            full = viewport is DESKTOP or name not in FIRST_SCREEN_ON_PHONE
            page.screenshot(path=OUT / f"{name}{suffix}.png", full_page=full)
            print(f"docs/screenshots/{name}{suffix}.png")
        context.close()


def take_screenshots() -> int:
    from playwright.sync_api import sync_playwright

    from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        print(f"Chromium not found at {CHROMIUM}: set CHROMIUM_PATH.", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    server, url = _serve()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            _capture(browser, url, None, [("login", "/accounts/login/")])
            _capture(browser, url, _cookie(SUPERVISOR, url), _supervisor_pages())
            workspace = [("my", path) for path in [_url("distribution:my")] if path]
            _capture(browser, url, _cookie(OPERATOR, url), workspace)
            browser.close()
    finally:
        server.shutdown()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    parser.add_argument(
        "--prepare-only", metavar="DIR", type=Path, help="build the database in DIR and stop"
    )
    args = parser.parse_args(argv)
    if args.prepare_only:
        args.prepare_only.mkdir(parents=True, exist_ok=True)
        print(prepare_database(args.prepare_only))
        return 0
    with tempfile.TemporaryDirectory(prefix="crm-screenshots-") as directory:
        prepare_database(Path(directory))
        return take_screenshots()


if __name__ == "__main__":
    raise SystemExit(main())
