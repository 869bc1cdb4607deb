"""Which lead identifiers are phone numbers, and their one spelling (E.164).

A customer's phone number arrives as "+44 7700 918827", "+447700918827" or
"0044 7700-918827"; all of them are one lead, keyed "+447700918827". Everything else (an
e-mail address, a messenger handle or link, an order number) keeps the trimmed,
case-folded key (models.normalize_identifier, the one place that combines the two).

What counts as a phone number is deliberately narrow, because a false positive merges
customers and a false negative only keeps two spellings apart, as before:

* only digits, spaces and the separators ( ) . - / with at most one leading "+": no
  letters (extensions, vanity numbers, links, e-mail addresses stay text);
* an international spelling ("+" or the "00" prefix) of a length its country code
  allows, local-only lengths excluded (phonenumbers.is_possible_number_with_reason):
  validity would depend on the version of the library's number-range data, and
  "+44 7700 918827" is in a range it calls reserved;
* a national spelling only when settings.CRM_PHONE_REGION names the country, and only
  if it is a valid number there (phonenumbers.is_valid_number), so that order numbers
  and short codes of a possible length stay text.
"""

import re

import phonenumbers
from django.conf import settings

# ASCII digits only: phonenumbers would read other scripts' digits too, but an identifier
# in them is rare enough to stay text (as it always was) rather than be guessed at.
_PHONE_SHAPE = re.compile(r"\(?\s*\+?[0-9\s().\-/]*[0-9][0-9\s().\-/]*", re.ASCII)
# The international call prefix most of the world dials, written before a country code.
_DOUBLE_ZERO = re.compile(r"^\(?\s*00")


def _international(text: str) -> str | None:
    """`text` with a leading + (a "00" prefix turned into one), or None if national."""
    if text.lstrip("( ").startswith("+"):
        return text
    prefix = _DOUBLE_ZERO.match(text)
    return f"+{text[prefix.end() :]}" if prefix else None


def phone_key(text: str) -> str | None:
    """The E.164 form of `text` (already trimmed) if it is a phone number, else None."""
    if not _PHONE_SHAPE.fullmatch(text):
        return None
    international = _international(text)
    region = getattr(settings, "CRM_PHONE_REGION", None)
    if international is None and region is None:
        return None
    try:
        number = phonenumbers.parse(international or text, None if international else region)
    except phonenumbers.NumberParseException:
        return None
    if international is not None:
        # Not IS_POSSIBLE_LOCAL_ONLY: "+1 555 0100" lacks the area code a country code
        # needs in front of a local number.
        reason = phonenumbers.is_possible_number_with_reason(number)
        accepted = reason == phonenumbers.ValidationResult.IS_POSSIBLE
    else:
        accepted = phonenumbers.is_valid_number(number)
    return (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if accepted
        else None
    )


def phone_search_fragment(text: str) -> str | None:
    """What a search typed as (part of) a phone number looks for in the leads' keys.

    A whole number is looked for in E.164; a part of one by its digits, after "+" when
    it is written internationally, and without a national trunk "0", which the stored
    international number does not have. None when `text` is not written like a number.
    """
    text = text.strip()
    if not _PHONE_SHAPE.fullmatch(text):
        return None
    key = phone_key(text)
    if key is not None:
        return key
    international = _international(text)
    digits = re.sub(r"[^0-9]", "", international or text)
    if international is not None:
        return f"+{digits}" if digits else None
    return digits.removeprefix("0") or None
