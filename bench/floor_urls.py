"""
The raw floor behind the real server: the project's URLs plus POST /bench/floor/contacts/,
for `make bench` only (bench/floor_settings.py; never in the product's URLs).

It does what a registration through this server cannot do without: it authenticates the
bearer token as the API does, reads the same JSON body, and runs the registration's
transaction with the sqlite3 module (bench.floor.raw_register) in the same write queue
(crm/sqlite_backend), on one connection per process. No ORM, no ninja, no decision-log
Python: what it costs beyond /healthz is the least that any registration through this
server costs, so its rate against /healthz's is the ceiling of goal 3's ratio.
"""

import json
import random
import sqlite3
import threading

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bench.floor import raw_register
from crm.sqlite_backend.base import WriteTurn, lock_path
from crm.urls import handler400, handler500  # noqa: F401 (the root URLconf's handlers)
from crm.urls import urlpatterns as project_urls
from distribution.auth_tokens import api_token_authenticate, bearer_secret

_local = threading.local()
_rng = random.Random()


def _database() -> sqlite3.Connection:
    db = getattr(_local, "db", None)
    if db is None:
        db = sqlite3.connect(settings.DATABASES["default"]["NAME"], isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            db.execute(f"PRAGMA {pragma}")
        _local.db = db
    return db


@csrf_exempt
@require_POST
def register_floor(request: HttpRequest) -> JsonResponse:
    if api_token_authenticate(bearer_secret(request) or "") is None:
        return JsonResponse({"detail": "Invalid or missing API token."}, status=401)
    try:
        body = json.loads(request.body)
        identifier, source_id = str(body["lead_identifier"]), int(body["source_id"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"detail": "lead_identifier and source_id are required."}, status=422)
    database = settings.DATABASES["default"]
    turn = WriteTurn(lock_path(database["NAME"]))
    if not turn.take(float(database["OPTIONS"].get("timeout", 20))):
        return JsonResponse({"detail": "database is locked"}, status=503)
    try:
        contact_id = raw_register(_database(), identifier, source_id, _rng)
    finally:
        turn.give_back()
    return JsonResponse(
        {"id": contact_id, "lead_identifier": identifier, "source_id": source_id}, status=201
    )


urlpatterns = [*project_urls, path("bench/floor/contacts/", register_floor)]
