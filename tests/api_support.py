"""What the API tests share: a test client that sends a bearer token and speaks JSON."""

import json
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from distribution.auth_tokens import api_token_create


class ApiClient:
    """Django's test client with `Authorization: Bearer <secret>` on every request."""

    def __init__(self, client: Client, secret: str | None = None) -> None:
        self.client = client
        self.secret = secret
        if secret is None:
            _token, self.secret = api_token_create(name="tests")

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}

    def get(self, path: str, params: dict[str, Any] | None = None):
        return self.client.get(path, params or {}, headers=self.headers)

    def post(self, path: str, body: Any = None, **kwargs):
        return self._send("post", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs):
        return self._send("patch", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs):
        return self._send("put", path, body, **kwargs)

    def _send(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        raw: bytes | str | None = None,
        content_type: str = "application/json",
    ):
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        return getattr(self.client, method)(
            path, data, content_type=content_type, headers=self.headers
        )


def json_of(response) -> Any:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    return json.loads(response.content)


def query_count(request) -> int:
    """How many queries one API request runs (its token already warmed up)."""
    request()  # The first call of a token also writes its last_used_at.
    with CaptureQueriesContext(connection) as queries:
        response = request()
    assert response.status_code == 200, response.content[:300]
    return len(queries)
