"""The client's address, as far as it can be trusted (used by the login throttling)."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """
    The address of whoever sent the request to the outermost of our PROXY_COUNT proxies.

    Each proxy appends the address it received the request from to X-Forwarded-For, so
    with N proxies in front the last N entries are theirs and the N-th from the end is
    the client's. Entries to the left of it come from the client and can be forged.
    """
    remote_addr = request.META.get("REMOTE_ADDR")
    proxies = settings.PROXY_COUNT
    if proxies == 0:
        return remote_addr
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        # The request did not pass through all our proxies: only the socket is certain.
        return remote_addr
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr
