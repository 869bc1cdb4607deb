from django.urls import path, register_converter

from .numbers import parse_id
from .views import (
    contact_detail,
    contacts,
    dashboard,
    fairness,
    health,
    leads,
    my,
    operator_detail,
    operators,
    schedule,
    sources,
)


class IdConverter:
    """A row id as we write it (see numbers.py), else no match (404).

    A bigger number cannot be an id, and SQLite's driver refuses to bind it (an
    OverflowError, so a 500) where a query takes ids as a list.
    """

    regex = "[1-9][0-9]*"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(f"{value} is not a 64-bit id.")
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")

app_name = "distribution"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("", dashboard.dashboard, name="dashboard"),
    path("dashboard/live/", dashboard.dashboard_live, name="dashboard_live"),
    path("operators/", operators.operator_list, name="operator_list"),
    path("operators/create/", operators.operator_create, name="operator_create"),
    path("operators/<id:operator_id>/", operator_detail.operator_detail, name="operator_detail"),
    path(
        "operators/<id:operator_id>/active/",
        operators.operator_set_active,
        name="operator_set_active",
    ),
    path(
        "operators/<id:operator_id>/limit/",
        operators.operator_set_limit,
        name="operator_set_limit",
    ),
    path(
        "operators/<id:operator_id>/presence/",
        operators.operator_set_presence,
        name="operator_set_presence",
    ),
    path(
        "operators/<id:operator_id>/login/",
        operators.operator_login_create,
        name="operator_login_create",
    ),
    path(
        "operators/<id:operator_id>/login/remove/",
        operators.operator_login_remove,
        name="operator_login_remove",
    ),
    path(
        "operators/<id:operator_id>/schedule/",
        schedule.operator_schedule,
        name="operator_schedule",
    ),
    path(
        "operators/<id:operator_id>/name/",
        operators.operator_rename,
        name="operator_rename",
    ),
    path("sources/", sources.source_list, name="source_list"),
    path("sources/create/", sources.source_create, name="source_create"),
    path("sources/<id:source_id>/", sources.source_detail, name="source_detail"),
    path("sources/<id:source_id>/fairness/", fairness.source_fairness, name="source_fairness"),
    path("sources/<id:source_id>/name/", sources.source_rename, name="source_rename"),
    path("sources/<id:source_id>/settings/", sources.source_settings, name="source_settings"),
    path("sources/<id:source_id>/weights/", sources.source_weight_set, name="source_weight_set"),
    path(
        "sources/<id:source_id>/route-preview/",
        sources.source_route_preview,
        name="source_route_preview",
    ),
    path(
        "sources/<id:source_id>/weights/<id:operator_id>/remove/",
        sources.source_weight_remove,
        name="source_weight_remove",
    ),
    path("contacts/", contacts.contact_list, name="contact_list"),
    path("contacts/new/", contacts.contact_create, name="contact_create"),
    path("contacts/<id:contact_id>/", contact_detail.contact_detail, name="contact_detail"),
    path("contacts/<id:contact_id>/close/", contacts.contact_close, name="contact_close"),
    path("contacts/<id:contact_id>/reassign/", contacts.contact_reassign, name="contact_reassign"),
    path("contacts/<id:contact_id>/reopen/", contacts.contact_reopen, name="contact_reopen"),
    path("contacts/bulk/", contacts.contact_bulk, name="contact_bulk"),
    path("leads/", leads.lead_list, name="lead_list"),
    path("leads/<id:lead_id>/", leads.lead_detail, name="lead_detail"),
    path("leads/<id:lead_id>/contacts/", leads.lead_contact_create, name="lead_contact_create"),
    path(
        "leads/<id:lead_id>/contacts/<id:contact_id>/close/",
        leads.lead_contact_close,
        name="lead_contact_close",
    ),
    path(
        "leads/<id:lead_id>/contacts/<id:contact_id>/reassign/",
        leads.lead_contact_reassign,
        name="lead_contact_reassign",
    ),
    # The operator's workspace (distribution/permissions.py: operators only).
    path("my/", my.my_workspace, name="my"),
    path("my/presence/", my.my_presence, name="my_presence"),
    path(
        "my/contacts/<id:contact_id>/respond/",
        my.my_contact_respond,
        name="my_contact_respond",
    ),
    path("my/contacts/<id:contact_id>/close/", my.my_contact_close, name="my_contact_close"),
]
