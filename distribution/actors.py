"""Who did something: a supervisor, an operator, an API token, or the system (the engine
on its own, the worker). Services take an Actor and write it into the decision log."""

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from .models import ActorType, ApiToken
from .permissions import is_operator, is_supervisor


@dataclass(frozen=True)
class Actor:
    type: str  # an ActorType value
    name: str = ""

    @classmethod
    def of_user(cls, user: Any) -> "Actor":
        """A logged-in user: a supervisor, else an operator (by its login)."""
        name = user.get_username()
        if is_supervisor(user):
            return cls(ActorType.SUPERVISOR, name)
        if is_operator(user):
            return cls(ActorType.OPERATOR, name)
        raise ValueError(f"{name!r} is neither a supervisor nor an operator.")

    @classmethod
    def of_token(cls, token: ApiToken) -> "Actor":
        return cls(ActorType.TOKEN, token.name)

    @classmethod
    def of_request(cls, request: HttpRequest) -> "Actor":
        """Whoever made the request: the API's token or session (request.auth), or the
        page's logged-in user."""
        auth = getattr(request, "auth", None)
        if isinstance(auth, ApiToken):
            return cls.of_token(auth)
        return cls.of_user(request.user)


SYSTEM = Actor(ActorType.SYSTEM, "system")
