from django.contrib import admin
from django.urls import include, path

from distribution.api import api
from distribution.views.account import LogoutView

urlpatterns = [
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("distribution.urls")),
]

handler400 = "distribution.views.errors.bad_request"
handler500 = "distribution.views.errors.server_error"
