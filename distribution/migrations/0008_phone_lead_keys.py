"""Leads whose identifiers are phone numbers are keyed in E.164 (distribution/identity.py).

Every lead is re-keyed. Leads that now share a key ("+44 7700 918827" and
"+447700918827") are one customer: they are merged into the oldest, which keeps its
identifier and name (an empty name is filled from the next oldest that has one) and gets
every row that pointed to the others (their contacts); the others are deleted. Nothing is
lost. A group whose new key is held by a lead of another group is retried once that lead
has moved; what still cannot be re-keyed (keys edited by hand into each other's) is
logged and left as it was.

Going back is a no-op: a merged lead cannot be split into the spellings it came from, and
an E.164 key is still a trimmed, case-folded string.

The rule is copied here, as it was when this migration was written, so that later
changes to the app's code do not change what this migration did.
"""

import logging
import re
import unicodedata
from collections import defaultdict

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, migrations, transaction

logger = logging.getLogger(__name__)

_PHONE_SHAPE = re.compile(r"\(?\s*\+?[0-9\s().\-/]*[0-9][0-9\s().\-/]*", re.ASCII)
_DOUBLE_ZERO = re.compile(r"^\(?\s*00")


def _trim(value):
    def invisible(char):
        return char.isspace() or unicodedata.category(char) in {"Cf", "Zs"}

    start, end = 0, len(value)
    while start < end and invisible(value[start]):
        start += 1
    while end > start and invisible(value[end - 1]):
        end -= 1
    return value[start:end]


def _phone_key(text, region):
    if not _PHONE_SHAPE.fullmatch(text):
        return None
    if text.lstrip("( ").startswith("+"):
        international = text
    else:
        prefix = _DOUBLE_ZERO.match(text)
        international = f"+{text[prefix.end():]}" if prefix else None
    if international is None and region is None:
        return None
    try:
        number = phonenumbers.parse(international or text, None if international else region)
    except phonenumbers.NumberParseException:
        return None
    if international is not None:
        reason = phonenumbers.is_possible_number_with_reason(number)
        accepted = reason == phonenumbers.ValidationResult.IS_POSSIBLE
    else:
        accepted = phonenumbers.is_valid_number(number)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if accepted else None


def _key(identifier, region):
    text = _trim(identifier)
    return _phone_key(text, region) or text.casefold()


def _merge(Lead, key, leads):
    """Merge `leads` (oldest first) into the first under `key`; False if that cannot be
    done: the key is taken, or a row points to a lead other than by a foreign key (a
    one-to-one or many-to-many relation would need a rule of its own to be merged)."""
    keeper, others = leads[0], leads[1:]
    if others and not all(relation.one_to_many for relation in Lead._meta.related_objects):
        return False
    try:
        # A savepoint: a group that cannot be merged is left exactly as it was.
        with transaction.atomic():
            for relation in Lead._meta.related_objects:
                relation.related_model._base_manager.filter(
                    **{f"{relation.field.name}__in": others}
                ).update(**{relation.field.name: keeper})
            if not keeper.name:
                keeper.name = next((lead.name for lead in others if lead.name), "")
            Lead.objects.filter(pk__in=[lead.pk for lead in others]).delete()
            keeper.identifier_key = key
            keeper.save(update_fields=["identifier_key", "name"])
    except IntegrityError:
        return False
    return True


def rekey_leads(apps, schema_editor):
    Lead = apps.get_model("distribution", "Lead")
    region = getattr(settings, "CRM_PHONE_REGION", None)
    groups = defaultdict(list)
    for lead in Lead.objects.order_by("created_at", "pk"):
        groups[_key(lead.identifier, region)].append(lead)
    pending = [
        (key, leads)
        for key, leads in groups.items()
        if len(leads) > 1 or leads[0].identifier_key != key
    ]
    while pending:
        failed = [(key, leads) for key, leads in pending if not _merge(Lead, key, leads)]
        if len(failed) == len(pending):
            break
        pending = failed
    for key, leads in pending:
        logger.warning(
            "Leads %s were left as they are: they could not be merged under the key %r.",
            [lead.pk for lead in leads],
            key,
        )


class Migration(migrations.Migration):

    dependencies = [
        ("distribution", "0007_routing_policies"),
    ]

    operations = [
        migrations.RunPython(rekey_leads, migrations.RunPython.noop),
    ]
