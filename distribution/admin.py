"""
The Django admin: supervisors' raw edits of every row.

Edits that affect distribution (an operator's activity or limit, a source's weights,
closing or reassigning a contact) go through services.py, so the queue drains and
limits hold exactly as they do everywhere else.

Deleting an operator, source or lead that still has contacts is refused by the admin's
own protected-objects page (the foreign keys are PROTECT), which names the contacts.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from . import search, services
from .actors import Actor
from .models import (
    ApiToken,
    Contact,
    ContactEvent,
    Lead,
    Operator,
    SettingChange,
    Source,
    SourceOperatorConfig,
    normalize_identifier,
)
from .numbers import parse_id


class OperatorChoiceField(forms.ModelChoiceField):
    """An operator picked by id, read the one strict way (numbers.py) before any lookup:
    a number beyond 64 bits made SQLite raise OverflowError, a 500."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if parse_id(str(value)) is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class WeightForm(forms.ModelForm):
    operator = OperatorChoiceField(queryset=Operator.objects.order_by("name", "id"))

    class Meta:
        model = SourceOperatorConfig
        fields = ["operator", "weight"]


class WeightInline(admin.TabularInline):
    """The weights of a source. The formset only validates: SourceAdmin.save_related saves
    the whole set through services.source_set_weights, under its locks."""

    model = SourceOperatorConfig
    form = WeightForm
    extra = 1


def weights_of(formset) -> list[tuple[int, int]]:
    """The weight set a valid inline formset asks for: kept and new rows, minus deleted."""
    weights = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or not data.get("operator") or formset._should_delete_form(form):
            continue
        weights.append((data["operator"].pk, data["weight"]))
    return weights


@admin.register(Operator)
class OperatorAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "presence", "workload_limit", "on_shift", "created_at"]
    list_editable = ["is_active", "presence", "workload_limit"]
    list_filter = ["is_active", "presence", "on_shift"]
    search_fields = ["name"]
    # Working hours and logins are set on the operators page, which keeps them consistent.
    fields = ["name", "is_active", "presence", "workload_limit"]

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Through the service, so that raising a limit or activating drains the queue.
        services.operator_update(
            actor=Actor.of_request(request),
            operator_id=obj.pk,
            name=obj.name,
            is_active=obj.is_active,
            workload_limit=obj.workload_limit,
            presence=obj.presence,
        )


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "mode", "sticky_days", "response_minutes", "created_at"]
    list_filter = ["mode"]
    search_fields = ["name"]
    inlines = [WeightInline]
    # Routing settings change through services.source_update (the source's page and the
    # API), which records each change in the decision log.
    readonly_fields = ["mode", "sticky_days", "response_minutes"]

    def save_model(self, request, obj, form, change) -> None:
        if not change or "name" not in form.changed_data:
            super().save_model(request, obj, form, change)
            return
        # A rename through the service too, so that it is in the source's settings changes.
        services.source_update(
            source_id=obj.pk, actor=Actor.of_user(request.user), name=form.cleaned_data["name"]
        )

    def save_related(self, request, form, formsets, change) -> None:
        # Not the formsets' own save: a weight of an operator only changes under that
        # operator's lock, which source_set_weights takes (and then drains the queue).
        for formset in formsets:
            if formset.model is SourceOperatorConfig:
                services.source_set_weights(
                    actor=Actor.of_request(request),
                    source_id=form.instance.pk,
                    weights=weights_of(formset),
                )
                # What the admin's history message reads from a formset that saved itself.
                formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


class LeadForm(forms.ModelForm):
    class Meta:
        model = Lead
        fields = ["identifier", "name"]

    def clean_identifier(self) -> str:
        # identifier_key is not a form field, so the ModelForm does not check its
        # uniqueness: a spelling of a taken identifier failed on insert, a 500.
        identifier = self.cleaned_data["identifier"]
        taken = Lead.objects.filter(identifier_key=normalize_identifier(identifier))
        if taken.exclude(pk=self.instance.pk).exists():
            raise ValidationError(
                "A lead with this identifier (in any case, or this phone number in any "
                "spelling) already exists.",
                code="identifier_taken",
            )
        return identifier


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    form = LeadForm
    list_display = ["identifier", "name", "created_at"]
    search_fields = ["identifier_key", "name"]
    readonly_fields = ["identifier_key", "created_at"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A lead comes with its first contact (a registration), which is what counts it
        # in the tallies (selectors.lead_total): a lead added here, without a contact,
        # would be a customer nobody wrote for, and missing from every count.
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Lead], search_term: str
    ) -> tuple[QuerySet[Lead], bool]:
        # The search index (search.py), not a LIKE '%x%' over every lead.
        matches = search.lead_filter(search_term, names=True)
        return (queryset if matches is None else queryset.filter(matches)), False


@admin.action(description="Close the selected contacts")
def close_contacts(modeladmin, request, queryset) -> None:
    for contact_id in queryset.filter(status=Contact.Status.OPEN).values_list("pk", flat=True):
        services.contact_close(actor=Actor.of_request(request), contact_id=contact_id)
    modeladmin.message_user(request, "Closed.")


class ReassignForm(forms.Form):
    operator = OperatorChoiceField(
        queryset=Operator.objects.order_by("name", "id"), label="Reassign to"
    )


@admin.action(description="Reassign the selected contacts")
def reassign_contacts(modeladmin, request, queryset: QuerySet[Contact]) -> HttpResponse | None:
    """First a page to pick the operator, then each contact through contact_reassign."""
    form = ReassignForm(request.POST if "apply" in request.POST else None)
    if not form.is_valid():
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": "Reassign contacts",
            "form": form,
            "contacts": queryset,
            "opts": modeladmin.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/distribution/contact/reassign.html", context)
    operator = form.cleaned_data["operator"]
    moved = 0
    for contact_id in queryset.values_list("pk", flat=True):
        try:
            services.contact_reassign(
                actor=Actor.of_request(request), contact_id=contact_id, operator_id=operator.pk
            )
        except ValidationError as exc:
            modeladmin.message_user(
                request, f"Contact #{contact_id}: {' '.join(exc.messages)}", messages.ERROR
            )
        else:
            moved += 1
    modeladmin.message_user(request, f"{moved} contact(s) reassigned to {operator}.")
    return None


class ContactAddForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["lead", "source", "message"]


class ReadOnly:
    """The decision log is history: it is read here, never written (decision_log.py)."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    pass


EVENT_FIELDS = (
    "at",
    "kind",
    "operator",
    "previous_operator",
    "reason",
    "actor_type",
    "actor_name",
    "detail",
)


class ContactEventInline(ReadOnly, admin.TabularInline):
    model = ContactEvent
    fields = EVENT_FIELDS
    readonly_fields = EVENT_FIELDS
    ordering = ["at", "id"]
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[ContactEvent]:
        return super().get_queryset(request).select_related("operator", "previous_operator")


@admin.register(ContactEvent)
class ContactEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "contact", "kind", "operator", "reason", "actor_type", "actor_name"]
    list_filter = ["kind", "reason", "actor_type"]
    list_select_related = ["contact__lead", "contact__source", "operator"]
    search_fields = ["actor_name", "contact__lead__identifier_key"]
    date_hierarchy = "at"


@admin.register(SettingChange)
class SettingChangeAdmin(ReadOnlyAdmin):
    list_display = ["at", "operator", "source", "field", "old", "new", "actor_type", "actor_name"]
    list_filter = ["field", "actor_type"]
    list_select_related = ["operator", "source"]
    search_fields = ["actor_name", "operator__name", "source__name"]
    date_hierarchy = "at"


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["id", "lead", "source", "operator", "status", "created_at", "assigned_at"]
    list_filter = ["status", "source", "operator"]
    list_select_related = ["lead", "source", "operator"]
    search_fields = ["lead__identifier_key", "message"]
    raw_id_fields = ["lead"]
    date_hierarchy = "created_at"
    actions = [close_contacts, reassign_contacts]

    def get_inlines(self, request: HttpRequest, obj=None) -> list:
        # A contact being added has no events yet: its log starts when it is registered.
        return [] if obj is None else [ContactEventInline]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ContactAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        # Who holds a contact, and whether it is open, changes only through the engine:
        # the actions above, the contacts page or the API. Only the message is editable.
        routing = ["operator", "status", "created_at", "assigned_at", "closed_at"]
        return routing if obj is None else ["lead", "source", *routing]

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new contact is registered like any other: assigned by weight, or queued.
        contact = services.contact_register(
            actor=Actor.of_request(request),
            lead_identifier=obj.lead.identifier,
            source_id=obj.source_id,
            message=obj.message,
        )
        for field in Contact._meta.concrete_fields:
            setattr(obj, field.attname, getattr(contact, field.attname))

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
