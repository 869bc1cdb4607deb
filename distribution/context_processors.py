"""What every template may ask about the user: its role (distribution/permissions.py)."""

from django.http import HttpRequest

from .permissions import is_operator, is_supervisor


def roles(request: HttpRequest) -> dict[str, bool]:
    user = request.user
    return {"is_supervisor": is_supervisor(user), "is_operator": is_operator(user)}
