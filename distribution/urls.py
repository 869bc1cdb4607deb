from django.urls import path

from .views import contacts, dashboard, health, leads, operators, sources

app_name = "distribution"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("", dashboard.dashboard, name="dashboard"),
    path("operators/", operators.operator_list, name="operator_list"),
    path("operators/create/", operators.operator_create, name="operator_create"),
    path(
        "operators/<int:operator_id>/active/",
        operators.operator_set_active,
        name="operator_set_active",
    ),
    path(
        "operators/<int:operator_id>/limit/",
        operators.operator_set_limit,
        name="operator_set_limit",
    ),
    path("sources/", sources.source_list, name="source_list"),
    path("sources/create/", sources.source_create, name="source_create"),
    path("sources/<int:source_id>/", sources.source_detail, name="source_detail"),
    path("sources/<int:source_id>/weights/", sources.source_weight_set, name="source_weight_set"),
    path(
        "sources/<int:source_id>/weights/<int:operator_id>/remove/",
        sources.source_weight_remove,
        name="source_weight_remove",
    ),
    path("contacts/", contacts.contact_list, name="contact_list"),
    path("contacts/new/", contacts.contact_create, name="contact_create"),
    path("contacts/<int:contact_id>/close/", contacts.contact_close, name="contact_close"),
    path("contacts/<int:contact_id>/reassign/", contacts.contact_reassign, name="contact_reassign"),
    path("leads/", leads.lead_list, name="lead_list"),
    path("leads/<int:lead_id>/", leads.lead_detail, name="lead_detail"),
]
