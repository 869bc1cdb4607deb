"""
Who may do what (docs/permissions.md), in one place for the pages and the API.

Two roles log in. A supervisor is an active staff user: every page but the operator's
workspace. An operator is an active user linked to an operator row (Operator.user) and not
staff: only its workspace (/my/), where it sees its own contacts. A staff user linked to an
operator is a supervisor. Both may change their own password (`is_product_user`).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django_htmx.http import HttpResponseClientRedirect

from .http import HtmxHttpRequest
from .models import Operator

View = Callable[..., HttpResponse]


def is_supervisor(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def operator_of(user: Any) -> Operator | None:
    """The operator whose login `user` is, if `user` has the operator role."""
    if not (user.is_authenticated and user.is_active) or user.is_staff:
        return None
    # The reverse one-to-one raises a DoesNotExist that is also an AttributeError; the
    # answer is cached on the user object for the rest of the request.
    return getattr(user, "operator", None)


def is_operator(user: Any) -> bool:
    return operator_of(user) is not None


def is_product_user(user: Any) -> bool:
    """Someone who uses the product and so has account pages: supervisors and operators."""
    return is_supervisor(user) or is_operator(user)


def _login_then(request: HtmxHttpRequest) -> HttpResponse:
    if request.htmx:
        # An expired session inside an in-place edit: following a redirect would swap
        # the login page into a table cell, so send the whole window there.
        current = request.htmx.current_url_abs_path or request.get_full_path()
        return HttpResponseClientRedirect(redirect_to_login(current).url)
    return redirect_to_login(request.get_full_path())


def _required(check: Callable[[Any], bool], refusal: str) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return _login_then(request)
            if not check(request.user):
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


supervisor_required = _required(is_supervisor, "Only supervisors may use these pages.")
supervisor_required.__doc__ = (
    "Anonymous visitors go to the login page; logged-in users who are not supervisors get 403."
)
operator_required = _required(is_operator, "The workspace is for operators.")
operator_required.__doc__ = (
    "Anonymous visitors go to the login page; anyone else who is not an operator, a "
    "supervisor included, gets 403 (supervisors work from the dashboard)."
)
product_user_required = _required(is_product_user, "These pages are for users of the CRM.")
