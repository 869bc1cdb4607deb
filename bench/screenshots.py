"""
PNG screenshots of the supervisors' pages, for the README.

    python -m bench.screenshots        (or: make screenshots, which loads the demo data first)

Serves the app from this process on a free port, against the configured database (the
demo data of `make setup`), logs Chromium in as a temporary supervisor that is deleted
afterwards, and writes docs/screenshots/*.png at 1280x800 (the dashboard also at 390x844).
Nothing in the data is changed.
"""

import os
import secrets
import sys
import threading
from pathlib import Path

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"


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


def _pages() -> list[tuple[str, str]]:
    from django.db.models import Count
    from django.urls import reverse

    from distribution.models import Lead, Source

    pages = [
        ("dashboard", reverse("distribution:dashboard")),
        ("operators", reverse("distribution:operator_list")),
        ("sources", reverse("distribution:source_list")),
        ("contacts", reverse("distribution:contact_list")),
        ("contact-new", reverse("distribution:contact_create")),
        ("leads", reverse("distribution:lead_list")),
    ]
    source = Source.objects.order_by("name").first()
    if source:
        pages.append(("source-detail", reverse("distribution:source_detail", args=[source.pk])))
    lead = Lead.objects.annotate(n=Count("contacts")).order_by("-n", "id").first()
    if lead:
        pages.append(("lead-detail", reverse("distribution:lead_detail", args=[lead.pk])))
    return pages


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ.setdefault("DEBUG", "1")
    # Playwright's sync API runs an event loop in this thread; our ORM calls here are plain.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from playwright.sync_api import sync_playwright

    chromium = CHROMIUM
    if not Path(chromium).exists():
        print(f"Chromium not found at {chromium}: set CHROMIUM_PATH.", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    user = get_user_model().objects.create_user(
        f"screenshots-{secrets.token_hex(4)}", password=secrets.token_urlsafe(24), is_staff=True
    )
    server, url = _serve()
    try:
        client = Client()
        client.force_login(user)
        cookie = {
            "name": settings.SESSION_COOKIE_NAME,
            "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": url,
        }
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            anonymous = browser.new_page(viewport=DESKTOP)
            anonymous.goto(url + "/accounts/login/")
            anonymous.screenshot(path=OUT / "login.png")
            for name, viewport in (("", DESKTOP), ("-phone", PHONE)):
                context = browser.new_context(viewport=viewport)
                context.add_cookies([cookie])
                page = context.new_page()
                for page_name, path in _pages():
                    if viewport is PHONE and page_name not in {"dashboard", "contacts"}:
                        continue
                    page.goto(url + path)
                    page.wait_for_load_state("networkidle")
                    # On a phone the long lists are shown as their first screen only.
                    full = viewport is DESKTOP or page_name == "dashboard"
                    page.screenshot(path=OUT / f"{page_name}{name}.png", full_page=full)
                    print(f"docs/screenshots/{page_name}{name}.png")
                context.close()
            browser.close()
    finally:
        server.shutdown()
        user.delete()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
