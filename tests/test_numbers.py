"""Numbers read from query strings and forms: ASCII digits within 64 bits, or refused.

Python's int() also reads "²"-like digits of other scripts ("١٠" is 10), underscores
("1_0" is 10), signs and surrounding spaces; a typo must never select another record.
"""

import pytest
from django.urls import reverse

from distribution.models import Operator, SourceOperatorConfig
from tests.views_support import as_supervisor

NOT_NUMBERS = ["²", "①", "١٠", "1_0", "+1", " 1", "1 ", "1.0", "0x1", "", "-", "1" + "0" * 20]


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_parse_int_refuses_everything_but_ascii_digits_in_64_bits(text):
    from distribution.numbers import parse_int

    assert parse_int(text) is None


@pytest.mark.parametrize(("text", "number"), [("0", 0), ("10", 10), ("007", 7), ("-3", -3)])
def test_parse_int_reads_ascii_digits(text, number):
    from distribution.numbers import parse_int

    assert parse_int(text) == number


@pytest.mark.parametrize("text", [*NOT_NUMBERS, "0", "01", "-1", "9223372036854775808"])
def test_parse_id_refuses_what_is_not_a_canonical_id(text):
    from distribution.numbers import parse_id

    assert parse_id(text) is None


def test_parse_id_reads_a_canonical_id():
    from distribution.numbers import parse_id

    assert parse_id("9223372036854775807") == 2**63 - 1


@pytest.fixture
def supervisor_client(client, db):
    return as_supervisor(client)


@pytest.mark.parametrize("value", ["²", "①", "١", "1_0", "99999999999999999999"])
def test_the_new_contact_page_ignores_a_registered_id_that_is_no_id(
    supervisor_client, make_operator, make_source, register, value
):
    source = make_source(weights={make_operator(): 1})
    register(source)

    response = supervisor_client.get("/contacts/new/", {"registered": value})

    assert response.status_code == 200
    assert b"registered</h2>" not in response.content


@pytest.mark.parametrize("param", ["source", "operator"])
def test_a_contact_filter_with_a_non_canonical_id_selects_no_other_record(
    supervisor_client, make_operator, make_source, register, param
):
    operators = [make_operator() for _ in range(11)]
    sources = [make_source(weights={op: 1}) for op in operators]
    contacts = [register(source) for source in sources]
    target = (operators if param == "operator" else sources)[-1]
    typo = f"{str(target.pk)[0]}_{str(target.pk)[1:]}"

    response = supervisor_client.get("/contacts/", {param: typo})

    assert response.status_code == 200
    # The typo is not read as the id it spells with an underscore: the filter is ignored
    # and its error shown, not a list of the other record's contacts.
    assert f'id="contact-{contacts[0].pk}"'.encode() in response.content


@pytest.mark.parametrize("value", ["²", "١٠", "1_0", " 1_0 "])
def test_an_operator_limit_in_another_script_or_with_underscores_is_a_form_error(
    supervisor_client, make_operator, value
):
    operator = make_operator(limit=3)

    response = supervisor_client.post(
        reverse("distribution:operator_set_limit", args=[operator.pk]),
        {"workload_limit": value},
    )

    assert response.status_code == 422
    assert b"Enter a whole number" in response.content
    operator.refresh_from_db()
    assert operator.workload_limit == 3


@pytest.mark.parametrize("value", ["١٠", "1_0"])
def test_a_weight_in_another_script_or_with_underscores_is_a_form_error(
    supervisor_client, make_operator, make_source, value
):
    operator = make_operator()
    source = make_source()

    response = supervisor_client.post(
        reverse("distribution:source_weight_set", args=[source.pk]),
        {"operator": operator.pk, "weight": value},
    )

    assert response.status_code == 422
    assert not SourceOperatorConfig.objects.exists()


@pytest.mark.parametrize(
    "path", ["/", "/operators/", "/sources/", "/contacts/", "/leads/", "/contacts/new/"]
)
@pytest.mark.parametrize("value", ["²", "①", "1_0", "99999999999999999999"])
def test_every_page_answers_a_bad_page_number_without_an_error(supervisor_client, path, value):
    response = supervisor_client.get(path, {"page": value, "registered": value})

    assert response.status_code == 200


def test_a_page_number_with_an_underscore_is_not_read_as_another_page(
    supervisor_client, make_operator
):
    names = [f"Op {i:03}" for i in range(30)]
    for name in names:
        make_operator(name)

    response = supervisor_client.get("/operators/", {"page": "0_2"})

    assert response.status_code == 200
    # Page 1 (the number is ignored), not page 2.
    assert b"Op 000" in response.content
    assert Operator.objects.count() == 30
