"""The forms' markup on every page: each input names, in aria-describedby, elements that exist.

Django puts `aria-describedby="<id>_helptext <id>_error"` on an input that has help text
or errors; a screen reader reads those elements when the input gets focus, so the help
text and the error list must carry exactly those ids.
"""

from collections import Counter
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.views_support import HTMX, as_supervisor

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class DescribedBy(HTMLParser):
    """The ids of a page, the ids each element's aria-describedby refers to, and the ids of
    the elements each element with an id sits in."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()
        self.references: dict[str, list[str]] = {}
        self.hidden: set[str] = set()
        self.containers: dict[str, set[str]] = {}
        self.open: list[tuple[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        element_id = attributes.get("id") or ""
        if element_id:
            self.ids[element_id] += 1
            self.containers[element_id] = {outer for _, outer in self.open if outer}
        if tag not in VOID:
            self.open.append((tag, element_id))
        if attributes.get("type") == "hidden":
            self.hidden.add(element_id)
        if referenced := attributes.get("aria-describedby"):
            self.references[element_id or f"<{tag}>"] = referenced.split()

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            if self.open.pop()[0] == tag:
                break


def assert_described_by_ids_exist(html: str) -> DescribedBy:
    page = DescribedBy(html)
    for element, referenced in page.references.items():
        for target in referenced:
            assert page.ids[target] == 1, f"{element} is described by #{target}: {page.ids[target]}"
    # And the other way round: the help text and errors of a visible input are read with it,
    # by their own id or by that of an element they are in.
    for element_id in page.ids:
        for suffix in ("_helptext", "_error"):
            owner = element_id.removesuffix(suffix)
            if owner != element_id and page.ids[owner] and owner not in page.hidden:
                read = {element_id} | page.containers[element_id]
                assert read & set(page.references.get(owner, [])), f"#{owner} lacks {element_id}"
    return page


@pytest.fixture
def supervisor_client(client, db):
    return as_supervisor(client)


def test_the_login_form_describes_its_fields_with_ids_that_exist(client, db):
    assert_described_by_ids_exist(client.get("/accounts/login/").content.decode())
    response = client.post("/accounts/login/", {"username": "", "password": ""})
    page = assert_described_by_ids_exist(response.content.decode())
    assert page.references["id_username"] == ["id_username_error"]


def test_the_password_change_form_describes_its_fields_with_ids_that_exist(client, db):
    user = get_user_model().objects.create_user("boss", password="old-pass-word-1", is_staff=True)
    client.force_login(user)
    assert_described_by_ids_exist(client.get("/accounts/password_change/").content.decode())
    response = client.post(
        "/accounts/password_change/",
        {"old_password": "wrong", "new_password1": "a", "new_password2": "b"},
    )
    page = assert_described_by_ids_exist(response.content.decode())
    assert "id_old_password_error" in page.references["id_old_password"]


def test_the_operator_forms_describe_their_fields_with_ids_that_exist(
    supervisor_client, make_operator
):
    ann = make_operator("Ann")
    page = assert_described_by_ids_exist(supervisor_client.get("/operators/").content.decode())
    assert page.references["id_workload_limit"] == ["id_workload_limit_helptext"]

    response = supervisor_client.post(
        reverse("distribution:operator_create"), {"name": "", "workload_limit": "-1"}
    )
    page = assert_described_by_ids_exist(response.content.decode())
    assert page.references["id_workload_limit"] == [
        "id_workload_limit_helptext",
        "id_workload_limit_error",
    ]
    assert page.references["id_name"] == ["id_name_error"]

    for url, data in [
        (reverse("distribution:operator_rename", args=[ann.pk]), {"name": ""}),
        (reverse("distribution:operator_set_limit", args=[ann.pk]), {"workload_limit": "x"}),
    ]:
        for headers in ({}, HTMX):
            response = supervisor_client.post(url, data, **headers)
            assert response.status_code == 422
            assert_described_by_ids_exist(response.content.decode())


def test_the_source_forms_describe_their_fields_with_ids_that_exist(
    supervisor_client, make_operator, make_source
):
    ann = make_operator("Ann")
    source = make_source(weights={ann: 2})
    make_operator("Bob")
    response = supervisor_client.post(reverse("distribution:source_create"), {"name": ""})
    page = assert_described_by_ids_exist(response.content.decode())
    assert page.references["id_name"] == ["id_name_error"]

    page = assert_described_by_ids_exist(
        supervisor_client.get(f"/sources/{source.pk}/").content.decode()
    )
    assert page.references["id_sticky_days"] == ["id_sticky_days_helptext"]

    weights = reverse("distribution:source_weight_set", args=[source.pk])
    settings = reverse("distribution:source_settings", args=[source.pk])
    for url, data in [
        (reverse("distribution:source_rename", args=[source.pk]), {"name": ""}),
        (settings, {"mode": "x", "sticky_days": "0", "response_minutes": "many"}),
        (weights, {"row": "1", "operator": ann.pk, "weight": "0"}),
        (weights, {"operator": "", "weight": "many"}),
    ]:
        for headers in ({}, HTMX):
            response = supervisor_client.post(url, data, **headers)
            assert response.status_code == 422
            assert_described_by_ids_exist(response.content.decode())


def test_the_contact_forms_describe_their_fields_with_ids_that_exist(
    supervisor_client, make_operator, make_source, register
):
    source = make_source(weights={make_operator("Ann"): 1})
    contact = register(source, "eve@example.com")
    page = assert_described_by_ids_exist(supervisor_client.get("/contacts/new/").content.decode())
    assert page.references["id_lead_identifier"] == ["id_lead_identifier_helptext"]
    response = supervisor_client.post("/contacts/new/", {"lead_identifier": " "})
    page = assert_described_by_ids_exist(response.content.decode())
    assert page.references["id_source"] == ["id_source_error"]

    assert_described_by_ids_exist(supervisor_client.get("/contacts/").content.decode())
    url = reverse("distribution:contact_reassign", args=[contact.pk])
    for headers in ({}, HTMX):
        response = supervisor_client.post(url, {"operator": ""}, **headers)
        assert response.status_code == 422
        page = assert_described_by_ids_exist(response.content.decode())
        field = f"id_contact{contact.pk}_operator"
        assert page.references[field] == [f"{field}_error"]


def test_the_lead_search_describes_its_field_with_ids_that_exist(supervisor_client):
    response = supervisor_client.get("/leads/", {"search": "a" * 256})
    assert response.status_code == 422
    page = assert_described_by_ids_exist(response.content.decode())
    # The box names the errors' container, which is there with or without errors: htmx
    # replaces the errors out of band and never the box, whose attributes stay as they were.
    assert page.references["id_search"] == ["search-errors"]
    assert "search-errors" in page.containers["id_search_error"]
    page = assert_described_by_ids_exist(supervisor_client.get("/leads/").content.decode())
    assert page.references["id_search"] == ["search-errors"]
