"""/sources/ and /sources/<id>/: sources, their names, and operators' weights edited in place."""

import re

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains

from distribution.models import Contact, Source, SourceOperatorConfig
from tests.views_support import HTMX, as_clerk, as_supervisor, is_fragment, queries_for


@pytest.fixture
def supervisor_client(client, db):
    return as_supervisor(client)


def weights_of(source) -> dict[int, int]:
    return dict(
        SourceOperatorConfig.objects.filter(source=source).values_list("operator_id", "weight")
    )


def set_url(source) -> str:
    return reverse("distribution:source_weight_set", args=[source.pk])


def shares(html: str) -> dict[str, str]:
    """Operator name -> the weight share shown in its row of the weights table."""
    rows = re.findall(
        r'<tr id="weight-\d+"[^>]*>\s*<th scope="row">([^<]+).*?data-share="([\d.]+)"', html, re.S
    )
    return {name.strip(): share for name, share in rows}


def test_list_shows_sources_with_their_weights_and_queue(
    supervisor_client, make_operator, make_source, register
):
    ann = make_operator("Ann")
    make_source("Bot", weights={ann: 3})
    empty = make_source("Ads")
    register(empty)
    response = supervisor_client.get("/sources/")
    html = response.content.decode()
    assert "Ann <b>×3</b>" in html
    assert "No operators: every contact is queued." in html
    assertContains(response, '<span class="badge badge-alert">1</span>', html=True)


def test_creating_a_source_leads_to_its_weights(supervisor_client, db):
    response = supervisor_client.post(reverse("distribution:source_create"), {"name": "Bot"})
    source = Source.objects.get(name="Bot")
    assert response.status_code == 302
    assert response["Location"] == f"/sources/{source.pk}/"


@pytest.mark.parametrize("name", ["", "   ", "bot"])
def test_a_missing_or_taken_name_shows_the_error_and_saves_nothing(
    supervisor_client, make_source, name
):
    make_source("Bot")
    response = supervisor_client.post(reverse("distribution:source_create"), {"name": name})
    assert response.status_code == 422
    assert 'id="id_name_error"' in response.content.decode()
    assert Source.objects.count() == 1


def test_detail_shows_each_operators_share(supervisor_client, make_operator, make_source):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source(weights={ann: 3, bob: 1})
    html = supervisor_client.get(f"/sources/{source.pk}/").content.decode()
    assert shares(html) == {"Ann": "0.750", "Bob": "0.250"}
    assert "75% <small>by weight</small>" in html


def test_changing_a_weight_in_place_returns_the_table_with_new_shares(
    supervisor_client, make_operator, make_source
):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source(weights={ann: 3, bob: 1})
    response = supervisor_client.post(
        set_url(source), {"row": "1", "operator": ann.pk, "weight": "1"}, **HTMX
    )
    assert response.status_code == 200
    assert is_fragment(response)
    assert response.content.decode().strip().startswith('<section class="card" id="weights">')
    assert shares(response.content.decode()) == {"Ann": "0.500", "Bob": "0.500"}
    assert weights_of(source) == {ann.pk: 1, bob.pk: 1}


def test_adding_an_operator_gives_it_a_share_and_drains_the_queue(
    supervisor_client, make_operator, make_source, register
):
    ann = make_operator("Ann")
    source = make_source()
    queued = register(source)
    response = supervisor_client.post(set_url(source), {"operator": ann.pk, "weight": "2"}, **HTMX)
    assert shares(response.content.decode()) == {"Ann": "1.000"}
    assert weights_of(source) == {ann.pk: 2}
    assert Contact.objects.get(pk=queued.pk).operator_id == ann.pk


def test_removing_an_operator_updates_the_others_shares(
    supervisor_client, make_operator, make_source
):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source(weights={ann: 3, bob: 1})
    url = reverse("distribution:source_weight_remove", args=[source.pk, ann.pk])
    response = supervisor_client.post(url, **HTMX)
    assert shares(response.content.decode()) == {"Bob": "1.000"}
    assert weights_of(source) == {bob.pk: 1}


def test_weight_changes_without_javascript_redirect_to_the_source(
    supervisor_client, make_operator, make_source
):
    ann = make_operator("Ann")
    source = make_source()
    response = supervisor_client.post(set_url(source), {"operator": ann.pk, "weight": "5"})
    assert response.status_code == 302
    assert response["Location"] == f"/sources/{source.pk}/"
    assert weights_of(source) == {ann.pk: 5}


@pytest.mark.parametrize("weight", ["0", "1001", "heavy", ""])
def test_a_bad_weight_shows_the_error_in_its_row_and_changes_nothing(
    supervisor_client, make_operator, make_source, weight
):
    ann = make_operator("Ann")
    source = make_source(weights={ann: 3})
    response = supervisor_client.post(
        set_url(source), {"row": "1", "operator": ann.pk, "weight": weight}, **HTMX
    )
    assert response.status_code == 422
    assert is_fragment(response)
    assert f'id="id_weight{ann.pk}_weight_error"' in response.content.decode()
    assert weights_of(source) == {ann.pk: 3}


def test_adding_an_unknown_operator_shows_the_error_and_changes_nothing(
    supervisor_client, make_source
):
    source = make_source()
    response = supervisor_client.post(set_url(source), {"operator": "999", "weight": "1"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" in html
    assert 'id="id_operator_error"' in html
    assert weights_of(source) == {}


@pytest.mark.parametrize("stale", ["weight removed", "operator deleted"])
def test_an_error_in_a_row_gone_meanwhile_is_shown_and_changes_nothing(
    supervisor_client, make_operator, make_source, stale
):
    # A page opened before another tab removed Bob's weight, or the admin deleted Bob.
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source, bob_id = make_source(weights={ann: 3, bob: 2}), bob.pk
    SourceOperatorConfig.objects.filter(operator=bob).delete()
    if stale == "operator deleted":
        bob.delete()
    response = supervisor_client.post(
        set_url(source), {"row": "1", "operator": bob_id, "weight": "0"}, **HTMX
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'role="alert"' in html
    assert 'id="id_weight_error"' in html or 'id="id_operator_error"' in html
    assert weights_of(source) == {ann.pk: 3}


def name_url(source) -> str:
    return reverse("distribution:source_rename", args=[source.pk])


def test_renaming_without_javascript_redirects_back_to_the_source(supervisor_client, make_source):
    source = make_source("Bot")
    response = supervisor_client.post(name_url(source), {"name": " Telegram bot "})
    assert response.status_code == 302
    assert response["Location"] == f"/sources/{source.pk}/"
    assert Source.objects.get(pk=source.pk).name == "Telegram bot"
    assert "<h1>Telegram bot</h1>" in supervisor_client.get(response["Location"]).content.decode()


def test_renaming_by_htmx_returns_only_the_heading(supervisor_client, make_operator, make_source):
    source = make_source("Bot", weights={make_operator("Ann"): 1})
    response = supervisor_client.post(name_url(source), {"name": "Telegram bot"}, **HTMX)
    assert response.status_code == 200
    assert is_fragment(response)
    html = response.content.decode().strip()
    assert html.startswith('<div class="page-head" id="source-heading">')
    assert "<h1>Telegram bot</h1>" in html
    assert 'id="weights"' not in html and "Ann" not in html
    assert Source.objects.get(pk=source.pk).name == "Telegram bot"


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_a_name_taken_in_another_case_shows_the_error_next_to_the_field_and_changes_nothing(
    supervisor_client, make_source, headers
):
    make_source("Ads")
    source = make_source("Bot")
    response = supervisor_client.post(name_url(source), {"name": "aDS"}, **headers)
    assert response.status_code == 422
    html = response.content.decode()
    assert is_fragment(response) == bool(headers)
    assert '<details class="rename" open>' in html
    errors = html.split('id="id_name_error"', 1)[1].split("</ul>")[0]
    assert "already exists" in errors
    assert 'value="aDS"' in html
    assert "<h1>Bot</h1>" in html
    assert Source.objects.get(pk=source.pk).name == "Bot"


@pytest.mark.parametrize(
    ("name", "error"),
    [("", "required"), ("   ", "required"), ("x" * 201, "at most 200 characters")],
)
def test_a_blank_or_too_long_source_name_shows_the_error_and_changes_nothing(
    supervisor_client, make_source, name, error
):
    source = make_source("Bot")
    response = supervisor_client.post(name_url(source), {"name": name}, **HTMX)
    assert response.status_code == 422
    errors = response.content.decode().split('id="id_name_error"', 1)[1].split("</ul>")[0]
    assert error in errors
    assert Source.objects.get(pk=source.pk).name == "Bot"


def test_renaming_a_source_by_get_is_refused(supervisor_client, make_source):
    source = make_source("Bot")
    response = supervisor_client.get(name_url(source), {"name": "Ads"})
    assert response.status_code == 405
    assert Source.objects.get(pk=source.pk).name == "Bot"


def test_renaming_a_source_is_refused_to_anonymous_visitors_and_non_supervisors(
    client, make_source
):
    source = make_source("Bot")
    response = client.post(name_url(source), {"name": "Ads"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    response = as_clerk(client).post(name_url(source), {"name": "Ads"}, **HTMX)
    assert response.status_code == 403
    assert Source.objects.get(pk=source.pk).name == "Bot"


def test_unknown_source_is_404(supervisor_client, db):
    assert supervisor_client.get("/sources/999/").status_code == 404
    assert supervisor_client.post("/sources/999/name/", {"name": "Bot"}).status_code == 404
    assert supervisor_client.post("/sources/999/weights/", {"weight": "1"}).status_code == 404


def test_list_and_detail_issue_the_same_queries_for_few_and_many_rows(
    supervisor_client, make_operator, make_source, register
):
    def grow(n):
        operators = [make_operator() for _ in range(n)]
        for _ in range(n):
            source = make_source(weights={op: 1 for op in operators})
            register(source)
        return source

    source = grow(2)
    few = [
        queries_for(lambda: supervisor_client.get("/sources/")),
        queries_for(lambda: supervisor_client.get(f"/sources/{source.pk}/")),
    ]
    source = grow(12)
    many = [
        queries_for(lambda: supervisor_client.get("/sources/")),
        queries_for(lambda: supervisor_client.get(f"/sources/{source.pk}/")),
    ]
    assert few == many


def test_after_a_failed_add_the_form_offers_only_operators_without_a_weight(
    supervisor_client, make_operator, make_source
):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source(weights={ann: 3})

    response = supervisor_client.post(set_url(source), {"operator": "", "weight": "1"}, **HTMX)

    assert response.status_code == 422
    add_form = response.content.decode().split('id="id_operator"', 1)[1].split("</select>")[0]
    assert f'value="{bob.pk}"' in add_form
    assert f'value="{ann.pk}"' not in add_form
    assert weights_of(source) == {ann.pk: 3}
