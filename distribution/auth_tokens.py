"""API tokens: created with a random secret of which only a SHA-256 hash is kept."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS, connection
from django.http import HttpRequest
from django.utils import timezone

from .models import ApiToken

SECRET_PREFIX = "crm_"
# Writing last_used_at on every call would make each API read a write; once a minute
# is enough to see which tokens are alive.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_SECRET_LENGTH = 200


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, name: str) -> tuple[ApiToken, str]:
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(name=name, token_hash=hash_secret(secret))
    return token, secret


def bearer_secret(request: HttpRequest) -> str | None:
    """The secret of an `Authorization: Bearer <secret>` header ("" when it is empty), or
    None when the request has no such header. The API's authentication and the
    middleware that lets token calls skip the pages' machinery read it alike."""
    scheme, _, secret = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return secret.strip()


# One indexed lookup (token_hash is unique) written as SQL: the ORM spent more time
# building this query than the database spent answering it, on every API call. The
# query also says whether last_used_at is due, so that a fresh token is never written.
_LOOKUP = (
    "SELECT id, name, token_hash, last_used_at IS NULL OR last_used_at < %s"
    f" FROM {ApiToken._meta.db_table} WHERE token_hash = %s AND revoked_at IS NULL"
)


def api_token_authenticate(secret: str) -> ApiToken | None:
    """The live token with this secret (only its id and name loaded), or None."""
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return None
    digest = hash_secret(secret)
    now = timezone.now()
    due = connection.ops.adapt_datetimefield_value(now - LAST_USED_RESOLUTION)
    with connection.cursor() as cursor:
        cursor.execute(_LOOKUP, [due, digest])
        row = cursor.fetchone()
    # The lookup is by a hash of a high-entropy secret, so its timing tells an attacker
    # nothing about the secret; compare_digest keeps the final check constant-time too.
    if row is None or not hmac.compare_digest(row[2], digest):
        return None
    pk, name, _hash, stale = row
    if stale:
        ApiToken.objects.filter(pk=pk).update(last_used_at=now)
    # Like .only("id", "name"): the other fields load on access, and a save() writes only
    # these two, so the partial instance cannot blank the rest.
    return ApiToken.from_db(DEFAULT_DB_ALIAS, ["id", "name"], (pk, name))
