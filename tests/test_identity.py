"""Which identifiers are phone numbers, and the key that makes two spellings one lead."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from crm.settings import envregion
from distribution.identity import phone_search_fragment
from distribution.models import normalize_identifier

# Without a region, only international spellings (a leading + or 00) are phone numbers.
WITHOUT_REGION = [
    ("+44 7700 918827", "+447700918827"),
    ("+447700918827", "+447700918827"),
    ("+44-7700-918827", "+447700918827"),
    ("+44 (0) 7700 918827", "+447700918827"),
    ("(+44) 7700 918827", "+447700918827"),
    ("0044 7700 918827", "+447700918827"),
    ("00 44 7700 918827", "+447700918827"),
    ("+1 (415) 555-2671", "+14155552671"),
    ("+1.415.555.2671", "+14155552671"),
    ("+1/415/555/2671", "+14155552671"),
    ("\ufeff +44 7700 918827\u200b ", "+447700918827"),
    # National spellings need a region to say which country they are in.
    ("07700 918827", "07700 918827"),
    ("(415) 555-2671", "(415) 555-2671"),
    # Short numbers and numbers of impossible length for their country stay as written.
    ("12345", "12345"),
    ("+1 555 0100", "+1 555 0100"),
    ("+44 1", "+44 1"),
    ("+", "+"),
    # E-mail addresses, handles, links and order numbers keep the trimmed, case-folded key.
    (" Alice@Example.COM ", "alice@example.com"),
    ("Straße@Example.com", "strasse@example.com"),
    ("@Alice_Bot", "@alice_bot"),
    ("t.me/Alice", "t.me/alice"),
    ("https://t.me/+447700918827", "https://t.me/+447700918827"),
    ("#100234", "#100234"),
    ("ORDER-447700918827", "order-447700918827"),
    # Letters anywhere make it no phone number: extensions, vanity numbers, URIs.
    ("+44 7700 918827 ext 2", "+44 7700 918827 ext 2"),
    ("1-800-FLOWERS", "1-800-flowers"),
    ("tel:+447700918827", "tel:+447700918827"),
    ("+447700918827@s.whatsapp.net", "+447700918827@s.whatsapp.net"),
    # Digits other than ASCII ones are left alone (today's key).
    ("+٤٤٧٧٠٠٩١٨٨٢٧", "+٤٤٧٧٠٠٩١٨٨٢٧"),
]


@pytest.mark.parametrize(("identifier", "key"), WITHOUT_REGION)
def test_the_key_without_a_default_region(settings, identifier, key):
    settings.CRM_PHONE_REGION = None

    assert normalize_identifier(identifier) == key


WITH_REGION = [
    ("GB", "020 7946 0000", "+442079460000"),
    ("GB", "07911 123456", "+447911123456"),
    ("GB", "(020) 7946-0000", "+442079460000"),
    ("GB", "+44 7700 918827", "+447700918827"),
    ("GB", "0044 20 7946 0000", "+442079460000"),
    ("US", "(415) 555-2671", "+14155552671"),
    ("US", "415.555.2671", "+14155552671"),
    # The region's own international prefix.
    ("US", "011 44 20 7946 0000", "+442079460000"),
    # A national spelling must be a valid number of the region, so order numbers and
    # short codes, which often have a possible length, stay as written.
    ("GB", "12345", "12345"),
    ("GB", "100234", "100234"),
    ("DE", "123456", "123456"),
    ("GB", "alice@example.com", "alice@example.com"),
    ("GB", "@alice", "@alice"),
]


@pytest.mark.parametrize(("region", "identifier", "key"), WITH_REGION)
def test_the_key_with_a_default_region(settings, region, identifier, key):
    settings.CRM_PHONE_REGION = region

    assert normalize_identifier(identifier) == key


@pytest.mark.parametrize(
    ("search", "fragment"),
    [
        ("+44 7700 918827", "+447700918827"),
        ("0044 7700", "+447700"),
        ("7700 918-827", "7700918827"),
        # A national trunk prefix is not part of the stored international number.
        ("07700 918827", "7700918827"),
        ("alice@example.com", None),
        ("12a", None),
        ("+", None),
    ],
)
def test_the_search_fragment_of_a_phone_spelling(settings, search, fragment):
    settings.CRM_PHONE_REGION = None

    assert phone_search_fragment(search) == fragment


def test_the_region_setting_is_an_upper_case_region_code(monkeypatch):
    monkeypatch.setenv("CRM_PHONE_REGION", " gb ")
    assert envregion("CRM_PHONE_REGION") == "GB"
    monkeypatch.setenv("CRM_PHONE_REGION", "")
    assert envregion("CRM_PHONE_REGION") is None
    monkeypatch.delenv("CRM_PHONE_REGION")
    assert envregion("CRM_PHONE_REGION") is None


@pytest.mark.parametrize("value", ["UK", "44", "Britain", "XX"])
def test_an_unknown_region_stops_start_up_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("CRM_PHONE_REGION", value)

    with pytest.raises(ImproperlyConfigured, match="CRM_PHONE_REGION"):
        envregion("CRM_PHONE_REGION")
