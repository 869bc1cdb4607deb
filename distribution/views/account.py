"""Logging out: Django's LogoutView, which only logs out on POST."""

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class LogoutView(auth_views.LogoutView):
    """A GET (a typed or bookmarked /accounts/logout/) asks to confirm instead of a bare 405.

    Logging out stays a POST with CSRF, so no other site can log a supervisor out.
    """

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return render(request, "registration/logout_confirm.html")
