"""How every form of the project renders: with the project's own templates."""

from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    """Django's form rendering, through the TEMPLATES setting.

    So that templates/ can hold the one field template (forms/field.html, what
    `{{ field.as_field_group }}` renders) and the one error list (Django's own
    django/forms/errors/list/ul.html, overridden), used by every form on every page.
    """

    field_template_name = "forms/field.html"
