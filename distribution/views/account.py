"""The account pages: logging in and out, changing one's password, and a reset by e-mail.

Only what the product uses is served (docs/permissions.md): a password change for its
users, and a reset link only when e-mail is configured, a few requests per client an hour.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from crm.proxy import client_ip

from ..permissions import View, is_operator, product_user_required

RESET_WINDOW_SECONDS = 3600
LOGGED_OUT = "You have been logged out."


class LoginView(auth_views.LoginView):
    """Without a `next`, an operator lands on its workspace and a supervisor on the dashboard
    (LOGIN_REDIRECT_URL): every page of the one is 403 to the other."""

    def get_default_redirect_url(self) -> str:
        if is_operator(self.request.user):
            return reverse("distribution:my")
        return super().get_default_redirect_url()


class LogoutView(auth_views.LogoutView):
    """A GET (a typed or bookmarked /accounts/logout/) asks to confirm instead of a bare 405.

    Logging out stays a POST with CSRF, so no other site can log a supervisor out.
    """

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return render(request, "registration/logout_confirm.html")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        # Added after the session was flushed, so it travels in the messages cookie to the
        # login page (LOGOUT_REDIRECT_URL), which shows it.
        messages.info(request, LOGGED_OUT)
        return response


def _e_mail_configured(view: View) -> View:
    """A reset page exists only when the reset link can be sent (PASSWORD_RESET_BY_EMAIL)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.PASSWORD_RESET_BY_EMAIL:
            raise Http404("Password reset needs e-mail, which is not configured.")
        return view(request, *args, **kwargs)

    return wrapper


def _reset_allowed(request: HttpRequest) -> bool:
    """At most PASSWORD_RESET_RATE reset requests per client address an hour.

    Every request may send an e-mail to someone; without a limit the form is a way to
    flood an inbox. The count lives in Django's cache (one per process unless CACHES
    names a shared one), which bounds each worker.
    """
    key = f"password-reset:{client_ip(request)}"
    cache.add(key, 0, RESET_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # Expired between add() and incr().
        cache.set(key, 1, RESET_WINDOW_SECONDS)
        count = 1
    return count <= settings.PASSWORD_RESET_RATE


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _reset_allowed(request):
            return render(request, "registration/password_reset_throttled.html", status=429)
        return super().post(request, *args, **kwargs)


def _as_view(view_class: Any) -> Callable[..., HttpResponse]:
    return view_class.as_view()


password_change = product_user_required(_as_view(auth_views.PasswordChangeView))
password_change_done = product_user_required(_as_view(auth_views.PasswordChangeDoneView))
password_reset = _e_mail_configured(_as_view(ThrottledPasswordResetView))
password_reset_done = _e_mail_configured(_as_view(auth_views.PasswordResetDoneView))
password_reset_confirm = _e_mail_configured(_as_view(auth_views.PasswordResetConfirmView))
password_reset_complete = _e_mail_configured(_as_view(auth_views.PasswordResetCompleteView))
