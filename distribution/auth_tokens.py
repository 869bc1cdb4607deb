"""API tokens: created with a random secret of which only a SHA-256 hash is kept."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.utils import timezone

from .models import ApiToken

SECRET_PREFIX = "crm_"
# Writing last_used_at on every call would make each API read a write; once a minute
# is enough to see which tokens are alive.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, name: str) -> tuple[ApiToken, str]:
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(name=name, token_hash=hash_secret(secret))
    return token, secret


def api_token_authenticate(secret: str) -> ApiToken | None:
    """The live token with this secret, or None."""
    if not secret or len(secret) > 200:
        return None
    digest = hash_secret(secret)
    # The lookup is by a hash of a high-entropy secret, so its timing tells an attacker
    # nothing about the secret; compare_digest keeps the final check constant-time too.
    token = ApiToken.objects.filter(token_hash=digest, revoked_at__isnull=True).first()
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
