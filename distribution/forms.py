"""
The supervisors' forms. They check the shape of the input; the rules are checked by
services.py, whose ValidationErrors are put back on the form with `add_service_errors`.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, time
from typing import Any, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from . import fairness, shifts
from .models import (
    MAX_IDENTIFIER_LENGTH,
    MAX_MESSAGE_LENGTH,
    MAX_NAME_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_RESPONSE_MINUTES,
    MAX_SEARCH_LENGTH,
    MAX_SHIFT_RANGES,
    MAX_STICKY_DAYS,
    MAX_WEIGHT,
    MAX_WORKLOAD_LIMIT,
    Contact,
    Operator,
    Presence,
    RoutingMode,
    Source,
)
from .numbers import parse_date, parse_id, parse_int
from .selectors import OperatorWithLoad

# (value, label) pairs of a select; the value "" is the "choose one" entry.
OperatorChoices = Sequence[tuple[int | str, str]]


def add_service_errors(
    form: forms.Form, exc: ValidationError, *, fields: Mapping[str, str] | None = None
) -> None:
    """Show a service's ValidationError on the form, next to the field it names.

    `fields` maps the service's keys (e.g. "operator_id") to form field names; keys the
    form does not have become errors of the whole form.
    """
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.error_dict.items():
        name = (fields or {}).get(key, key)
        target = name if name in form.fields and key != NON_FIELD_ERRORS else None
        form.add_error(target, errors)


def operator_choices(operators: Iterable[OperatorWithLoad]) -> OperatorChoices:
    """Labels with the load, from operators annotated with `open_contacts`."""
    return [
        (op.pk, f"{op.name} ({op.open_contacts}/{op.workload_limit})")
        for op in operators
        if op.is_active
    ]


class StrictIntegerField(forms.IntegerField):
    """A whole number in ASCII digits (see numbers.py): "١٠" or "1_0" is an error, not 10."""

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        number = parse_int(str(value).strip())
        if number is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class StrictDateField(forms.DateField):
    """A date written YYYY-MM-DD, as <input type="date"> sends it (see numbers.py)."""

    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    default_error_messages = {"invalid": "Enter a date as YYYY-MM-DD."}

    def to_python(self, value: Any) -> date | None:
        if value in self.empty_values:
            return None
        if isinstance(value, date):
            return value
        day = parse_date(str(value).strip())
        if day is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return day


class IdModelChoiceField(forms.ModelChoiceField):
    """A row chosen by its id, written as we write ids: "1_0" is not row 10."""

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        if parse_id(str(value).strip()) is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class OperatorCreateForm(forms.Form):
    name = forms.CharField(max_length=MAX_NAME_LENGTH)
    workload_limit = StrictIntegerField(
        label="Workload limit",
        min_value=0,
        max_value=MAX_WORKLOAD_LIMIT,
        initial=10,
        help_text="Open contacts the operator may hold at once.",
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)


class OperatorLimitForm(forms.Form):
    workload_limit = StrictIntegerField(
        label="Limit",
        min_value=0,
        max_value=MAX_WORKLOAD_LIMIT,
        widget=forms.NumberInput(attrs={"class": "input-num"}),
    )

    def __init__(self, *args: Any, operator: Operator, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_operator{operator.pk}_%s")
        kwargs.setdefault("initial", {"workload_limit": operator.workload_limit})
        super().__init__(*args, **kwargs)
        self.operator = operator


class OperatorNameForm(forms.Form):
    """Renaming an operator from its row of the list."""

    name = forms.CharField(max_length=MAX_NAME_LENGTH)

    def __init__(self, *args: Any, operator: Operator, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_operator{operator.pk}_%s")
        kwargs.setdefault("initial", {"name": operator.name})
        super().__init__(*args, **kwargs)
        self.operator = operator


def requeue_label(open_contacts: int) -> str:
    """The choice offered where an operator stops receiving contacts, with how many it concerns."""
    if open_contacts == 1:
        return "Return its open contact to the queue"
    return f"Return its {open_contacts} open contacts to the queue"


class RequeueChoice(forms.Form):
    """The optional "return its open contacts to the queue" of a change that can make the
    operator stop receiving contacts (services.operator_update does the rest)."""

    requeue_open_contacts = forms.BooleanField(required=False)

    def offer(self, operator: OperatorWithLoad, prefix: str) -> None:
        self.auto_id = f"id_operator{operator.pk}_{prefix}%s"
        self.fields["requeue_open_contacts"].label = requeue_label(operator.open_contacts)


class OperatorActiveForm(RequeueChoice):
    # Sent as a hidden "true"/"false": the button says which state it asks for, so a
    # double click or a stale page never flips the operator back.
    is_active = forms.BooleanField(required=False)

    def __init__(self, *args: Any, operator: OperatorWithLoad | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if operator is not None:
            self.offer(operator, "active_")


class OperatorPresenceForm(RequeueChoice):
    """An operator's presence, set by a supervisor from its row of the list."""

    presence = forms.ChoiceField(choices=Presence.choices)

    def __init__(self, *args: Any, operator: OperatorWithLoad, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"presence": operator.presence})
        super().__init__(*args, **kwargs)
        self.offer(operator, "")
        self.operator = operator
        # The list above the checkbox: presence first in the form's order.
        self.order_fields(["presence", "requeue_open_contacts"])


class OperatorLoginForm(forms.Form):
    """Giving an operator its login, from its row of the list (services.operator_login_create
    checks the name and the password against the project's password rules)."""

    username = forms.CharField(label="User name", max_length=150)
    password = forms.CharField(
        label="Initial password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Tell it to the operator; it can change it after logging in.",
    )

    def __init__(self, *args: Any, operator: Operator, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_operator{operator.pk}_login_%s")
        super().__init__(*args, **kwargs)
        self.operator = operator


WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_HH_MM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


class ClockField(forms.TimeField):
    """A time of day written HH:MM, as <input type="time"> sends it. As the end of a range,
    24:00 is accepted for midnight at the end of the day, which is stored as 00:00."""

    widget = forms.TimeInput(attrs={"type": "time", "class": "input-time"}, format="%H:%M")

    def __init__(self, *, end: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.end = end
        written = "HH:MM (00:00 to 23:59, or 24:00 for midnight)" if end else "HH:MM"
        self.error_messages["invalid"] = f"Enter a time of day as {written}."

    def to_python(self, value: Any) -> time | None:
        if value in self.empty_values:
            return None
        if isinstance(value, time):
            return value
        text = str(value).strip()
        if self.end and text == "24:00":
            return shifts.MIDNIGHT
        if not _HH_MM.fullmatch(text):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return time(int(text[:2]), int(text[3:]))


class ShiftRowForm(forms.Form):
    """One range of an operator's weekly hours: a row of the schedule page."""

    weekday = forms.TypedChoiceField(
        label="Day", coerce=int, choices=[("", "Choose a day"), *enumerate(WEEKDAYS)]
    )
    start = ClockField(label="Start")
    end = ClockField(label="End", end=True, help_text="00:00 is midnight.")

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None and not shifts.ends_after(start, end):
            self.add_error("end", "It ends before it starts (an end of 00:00 is midnight).")
        return data


class BaseShiftFormSet(forms.BaseFormSet):
    """The rows of a weekly schedule; blank rows are ignored, ticked ones removed."""

    default_error_messages = {
        "too_many_forms": "At most %(num)d ranges a week: join the ones that follow each other.",
    }

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove"

    def _kept(self) -> list[tuple[shifts.Hours, forms.Form]]:
        """The filled rows not ticked for removal, each with the range it holds."""
        return [
            (
                (
                    form.cleaned_data["weekday"],
                    form.cleaned_data["start"],
                    form.cleaned_data["end"],
                ),
                form,
            )
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]

    def hours(self) -> list[shifts.Hours]:
        """The ranges to store, once the formset is valid."""
        return [key for key, _ in self._kept()]

    def clean(self) -> None:
        if any(self.errors):
            return
        # The rule is shifts.overlaps (services check it again); here each error goes next
        # to the row that starts inside another one.
        form_of: dict[shifts.Hours, forms.Form] = {}
        for key, form in self._kept():
            if key in form_of:
                form.add_error("start", "The same range is already listed above.")
            form_of[key] = form
        for before, after in shifts.overlaps(form_of):
            form_of[after].add_error(
                "start",
                f"Overlaps {before[1]:%H:%M}–{before[2]:%H:%M} on {WEEKDAYS[before[0]]}.",
            )


ShiftFormSet = forms.formset_factory(
    ShiftRowForm,
    formset=BaseShiftFormSet,
    extra=3,
    can_delete=True,
    max_num=MAX_SHIFT_RANGES,
    validate_max=True,
)


class ScheduleForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Time zone",
        help_text="The hours below are read in this zone, daylight saving included.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zones = sorted(shifts.time_zone_names())
        cast(forms.ChoiceField, self.fields["time_zone"]).choices = [(z, z) for z in zones]


class SourceCreateForm(forms.Form):
    name = forms.CharField(max_length=MAX_NAME_LENGTH)


class SourceNameForm(forms.Form):
    """Renaming a source from its page."""

    name = forms.CharField(max_length=MAX_NAME_LENGTH)


class FairnessPeriodForm(forms.Form):
    """The days of a source's fairness report, both included (fairness.check_period)."""

    since = StrictDateField(label="From")
    until = StrictDateField(label="To", help_text="Included; days in the site's time zone.")

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since is not None and until is not None:
            try:
                fairness.check_period(since, until)
            except ValidationError as exc:
                add_service_errors(self, exc)
        return data


class SourceSettingsForm(forms.Form):
    """A source's routing settings (services.source_update checks the rules again)."""

    mode = forms.ChoiceField(
        label="Routing mode",
        choices=RoutingMode.choices,
        help_text=(
            "Random draws each contact by weight; balanced deals them in turn, so that each "
            "operator's count stays within one of its weight's share."
        ),
    )
    sticky_days = StrictIntegerField(
        label="Sticky owner (days)",
        required=False,
        min_value=1,
        max_value=MAX_STICKY_DAYS,
        widget=forms.NumberInput(attrs={"class": "input-num"}),
        help_text=(
            "A returning lead goes back to the operator of its latest contact within this many "
            "days, when that operator can take it. Empty: off."
        ),
    )
    response_minutes = StrictIntegerField(
        label="Response time (minutes)",
        required=False,
        min_value=1,
        max_value=MAX_RESPONSE_MINUTES,
        widget=forms.NumberInput(attrs={"class": "input-num"}),
        help_text=(
            "A contact not responded to within this time goes to someone else, never back to "
            "an operator who missed it. Empty: off."
        ),
    )

    @classmethod
    def of(cls, source: Source) -> "SourceSettingsForm":
        """The form showing the source's current settings."""
        return cls(
            initial={
                "mode": source.mode,
                "sticky_days": source.sticky_days,
                "response_minutes": source.response_minutes,
            }
        )


class WeightForm(forms.Form):
    """One operator's weight for a source: a row of the weights table, or the "add" form."""

    operator = forms.TypedChoiceField(coerce=int)
    weight = StrictIntegerField(
        min_value=1,
        max_value=MAX_WEIGHT,
        initial=1,
        widget=forms.NumberInput(attrs={"class": "input-num"}),
    )

    def __init__(
        self, *args, choices: OperatorChoices, row_of: int | None = None, **kwargs
    ) -> None:
        if row_of is not None:
            kwargs.setdefault("auto_id", f"id_weight{row_of}_%s")
        super().__init__(*args, **kwargs)
        self.row_of = row_of
        self.offer(choices)
        if row_of is not None:
            self.fields["operator"].widget = forms.HiddenInput()

    def offer(self, choices: OperatorChoices) -> None:
        """The operators the form lists (and accepts)."""
        cast(forms.ChoiceField, self.fields["operator"]).choices = choices


class ContactCreateForm(forms.Form):
    lead_identifier = forms.CharField(
        label="Lead identifier",
        max_length=MAX_IDENTIFIER_LENGTH,
        help_text=(
            "E-mail, phone or messenger id; the same identifier (a phone number in any "
            "spelling) is the same lead."
        ),
    )
    lead_name = forms.CharField(label="Lead name", max_length=MAX_NAME_LENGTH, required=False)
    source = IdModelChoiceField(
        queryset=Source.objects.order_by("name", "id"), empty_label="Choose a source"
    )
    message = forms.CharField(
        max_length=MAX_MESSAGE_LENGTH, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


class ContactFilterForm(forms.Form):
    STATUS_CHOICES = [("", "Any status"), *Contact.Status.choices]
    QUEUE = "queue"
    VIEW_CHOICES = [("", "All, newest first"), (QUEUE, "The queue, oldest first")]

    lead = forms.CharField(
        label="Lead",
        max_length=MAX_SEARCH_LENGTH,
        required=False,
        help_text="Part of its identifier or name.",
    )
    view = forms.ChoiceField(label="Show", choices=VIEW_CHOICES, required=False)
    source = IdModelChoiceField(
        queryset=Source.objects.order_by("name", "id"), required=False, empty_label="Any source"
    )
    operator = IdModelChoiceField(
        queryset=Operator.objects.order_by("name", "id"),
        required=False,
        empty_label="Any operator",
    )
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
    unassigned = forms.BooleanField(label="Queued only", required=False)

    def is_queue(self) -> bool:
        return self.is_valid() and self.cleaned_data.get("view") == self.QUEUE

    def filters(self) -> dict:
        """Keyword arguments for selectors.contact_list; invalid values are ignored."""
        # Field by field: a lead search too long to run does not drop the other filters.
        self.is_valid()
        data = self.cleaned_data
        source, operator = data.get("source"), data.get("operator")
        queue = data.get("view") == self.QUEUE
        return {
            "status": Contact.Status.OPEN if queue else data.get("status") or None,
            "source_id": source.pk if source else None,
            "operator_id": operator.pk if operator else None,
            "unassigned": queue or bool(data.get("unassigned")),
            "lead": data.get("lead") or "",
            "oldest_first": queue,
        }


class ReassignForm(forms.Form):
    operator = forms.TypedChoiceField(
        label="Reassign to",
        coerce=int,
        # The list holds active operators only: one deactivated since the page was
        # loaded is not in it, and Django's "Select a valid choice. 3 is not one of
        # the available choices." would not tell the supervisor why.
        error_messages={
            "invalid_choice": "This operator is inactive or no longer exists: choose another."
        },
    )

    def __init__(self, *args, contact: Contact, choices: OperatorChoices, **kwargs) -> None:
        kwargs.setdefault("auto_id", f"id_contact{contact.pk}_%s")
        super().__init__(*args, **kwargs)
        self.contact = contact
        cast(forms.ChoiceField, self.fields["operator"]).choices = [
            ("", "Choose an operator"),
            *choices,
        ]


class IdListField(forms.Field):
    """Ids of rows ticked in a list (several values of one name), written as we write ids."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": "Select at least one contact.",
        "invalid": "The selection holds something that is not a contact's id.",
    }

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        ids = [parse_id(str(item).strip()) for item in value]
        if any(pk is None for pk in ids):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return [pk for pk in ids if pk is not None]


class BulkContactsForm(forms.Form):
    """An action on the contacts ticked in the list; the button pressed names it."""

    CLOSE, REASSIGN, REQUEUE = "close", "reassign", "requeue"

    contacts = IdListField()
    action = forms.ChoiceField(
        choices=[(CLOSE, "Close"), (REASSIGN, "Reassign"), (REQUEUE, "Return to queue")]
    )
    outcome = forms.ChoiceField(
        label="Outcome", choices=[("", "No outcome"), *Contact.Outcome.choices], required=False
    )
    operator = forms.TypedChoiceField(
        label="To",
        coerce=int,
        required=False,
        empty_value=None,
        error_messages=ReassignForm.base_fields["operator"].error_messages,
    )

    def __init__(self, *args: Any, choices: OperatorChoices, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_bulk_%s")
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["operator"]).choices = [
            ("", "Choose an operator"),
            *choices,
        ]

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        reassigning = data.get("action") == self.REASSIGN
        if reassigning and data.get("operator") is None and "operator" not in self.errors:
            self.add_error("operator", "Choose the operator to reassign them to.")
        return data


class LeadContactForm(forms.Form):
    """A new contact of a lead, registered from its page."""

    source = IdModelChoiceField(
        queryset=Source.objects.order_by("name", "id"), empty_label="Choose a source"
    )
    message = forms.CharField(
        max_length=MAX_MESSAGE_LENGTH, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_new_%s")
        super().__init__(*args, **kwargs)


class LeadSearchForm(forms.Form):
    # The box is never swapped while one types; its errors are, out of band, inside a
    # container that is always there (templates/distribution/leads.html), so the box names
    # that container rather than the error list's own id, which comes and goes.
    search = forms.CharField(
        label="Search leads",
        max_length=MAX_SEARCH_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"aria-describedby": "search-errors"}),
    )


# --- the operator's workspace ------------------------------------------------------


class ContactCloseForm(forms.Form):
    """An operator closing its contact: an outcome (required here) and an optional note."""

    outcome = forms.ChoiceField(choices=[("", "Choose an outcome"), *Contact.Outcome.choices])
    note = forms.CharField(
        max_length=MAX_NOTE_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional; only you and the supervisors see it.",
    )

    def __init__(self, *args: Any, contact: Contact, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_contact{contact.pk}_%s")
        super().__init__(*args, **kwargs)
        self.contact = contact


class PresenceForm(forms.Form):
    """An operator setting its own presence; the buttons send `presence`."""

    presence = forms.ChoiceField(choices=Presence.choices)
    requeue_open_contacts = forms.BooleanField(required=False)

    def __init__(self, *args: Any, open_contacts: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["requeue_open_contacts"]
        field.label = (
            f"When I go away or offline, return my {open_contacts} open "
            f"contact{'' if open_contacts == 1 else 's'} to the queue"
        )
        self.open_contacts = open_contacts
