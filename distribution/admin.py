"""
The Django admin: supervisors' raw edits of every row.

Edits that affect distribution (an operator's activity or limit, a source's weights,
closing or reassigning a contact) go through services.py, so the queue drains and
limits hold exactly as they do everywhere else.

Deleting an operator, source or lead that still has contacts is refused by the admin's
own protected-objects page (the foreign keys are PROTECT), which names the contacts.
"""

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from . import services
from .models import ApiToken, Contact, Lead, Operator, Source, SourceOperatorConfig


class WeightInline(admin.TabularInline):
    model = SourceOperatorConfig
    extra = 1
    autocomplete_fields = ["operator"]


@admin.register(Operator)
class OperatorAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "workload_limit", "created_at"]
    list_editable = ["is_active", "workload_limit"]
    list_filter = ["is_active"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Through the service, so that raising a limit or activating drains the queue.
        services.operator_update(
            operator_id=obj.pk,
            name=obj.name,
            is_active=obj.is_active,
            workload_limit=obj.workload_limit,
        )


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [WeightInline]

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        # Weights added or raised in the inline may let queued contacts through.
        source = form.instance
        weights = source.weights.values_list("operator_id", "weight")
        services.source_set_weights(source_id=source.pk, weights=list(weights))


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["identifier", "name", "created_at"]
    search_fields = ["identifier_key", "name"]
    readonly_fields = ["identifier_key", "created_at"]
    date_hierarchy = "created_at"


@admin.action(description="Close the selected contacts")
def close_contacts(modeladmin, request, queryset) -> None:
    for contact_id in queryset.filter(status=Contact.Status.OPEN).values_list("pk", flat=True):
        services.contact_close(contact_id=contact_id)
    modeladmin.message_user(request, "Closed.")


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["id", "lead", "source", "operator", "status", "created_at", "assigned_at"]
    list_filter = ["status", "source", "operator"]
    list_select_related = ["lead", "source", "operator"]
    search_fields = ["lead__identifier_key", "message"]
    raw_id_fields = ["lead"]
    # Assignment and closing go through the service (the action below, or the
    # contacts page), so that limits hold and the queue drains.
    readonly_fields = ["operator", "status", "created_at", "assigned_at", "closed_at"]
    date_hierarchy = "created_at"
    actions = [close_contacts]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # A contact is history (and its operator's load): close it, never delete it.
        return False


@admin.action(description="Revoke the selected tokens")
def revoke_tokens(modeladmin, request, queryset) -> None:
    revoked = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    modeladmin.message_user(request, f"{revoked} token(s) revoked.")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    actions = [revoke_tokens]
    list_display = ["name", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name"]
    readonly_fields = ["created_at", "last_used_at"]
    fields = ["name", "created_at", "last_used_at", "revoked_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A token's secret is shown once, by `manage.py create_api_token`.
        return False
