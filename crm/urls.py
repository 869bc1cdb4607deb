from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path

from distribution.api import api
from distribution.views import account

# Django's auth URLs one by one: only the pages the product uses are served, each with
# its own permission (see distribution/views/account.py).
account_urls = [
    path("login/", account.LoginView.as_view(), name="login"),
    path("logout/", account.LogoutView.as_view(), name="logout"),
    path("password_change/", account.password_change, name="password_change"),
    path("password_change/done/", account.password_change_done, name="password_change_done"),
    path("password_reset/", account.password_reset, name="password_reset"),
    path("password_reset/done/", account.password_reset_done, name="password_reset_done"),
    path(
        "reset/<uidb64>/<token>/",
        account.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("reset/done/", account.password_reset_complete, name="password_reset_complete"),
]


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page links: send them to the SVG icon."""
    return redirect(static("favicon.svg"))


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/", include(account_urls)),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("distribution.urls")),
]

handler400 = "distribution.views.errors.bad_request"
handler500 = "distribution.views.errors.server_error"
