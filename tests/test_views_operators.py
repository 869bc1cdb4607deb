"""/operators/: the list, adding operators, names, activation and limits changed in place."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse
from pytest_django.asserts import assertContains

from distribution import services
from distribution.models import Contact, Operator, Presence
from tests.views_support import HTMX, as_clerk, as_supervisor, is_fragment, queries_for

LIST = "/operators/"


@pytest.fixture
def supervisor_client(client, db):
    return as_supervisor(client)


def active_url(operator) -> str:
    return reverse("distribution:operator_set_active", args=[operator.pk])


def limit_url(operator) -> str:
    return reverse("distribution:operator_set_limit", args=[operator.pk])


def test_list_shows_each_operator_with_load_limit_and_state(
    supervisor_client, make_operator, make_source, register
):
    ann = make_operator("Ann", limit=3)
    make_operator("Bob", active=False)
    source = make_source(weights={ann: 1})
    register(source)
    response = supervisor_client.get(LIST)
    html = response.content.decode()
    assert "Ann" in html and "Bob" in html
    assert 'aria-label="1 of 3 open contacts"' in html
    assert "Deactivate" in html and "Activate" in html
    assertContains(response, '<label for="id_name">Name</label>', html=True)


def test_creating_an_operator_redirects_to_the_list(supervisor_client, db):
    response = supervisor_client.post(
        reverse("distribution:operator_create"),
        {"name": "Cleo", "workload_limit": "4", "is_active": "on"},
    )
    assert response.status_code == 302
    assert response["Location"] == LIST
    operator = Operator.objects.get(name="Cleo")
    assert operator.workload_limit == 4 and operator.is_active
    assert "Operator Cleo added." in supervisor_client.get(LIST).content.decode()


def test_creating_an_operator_with_a_taken_name_shows_the_error_and_saves_nothing(
    supervisor_client, make_operator
):
    make_operator("Ann")
    response = supervisor_client.post(
        reverse("distribution:operator_create"), {"name": " ann ", "workload_limit": "4"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_name_error"' in html
    assert "already exists" in html
    assert Operator.objects.count() == 1


@pytest.mark.parametrize("limit", ["-1", "100001", "many", ""])
def test_creating_an_operator_with_a_bad_limit_saves_nothing(supervisor_client, db, limit):
    response = supervisor_client.post(
        reverse("distribution:operator_create"), {"name": "Cleo", "workload_limit": limit}
    )
    assert response.status_code == 422
    assert 'id="id_workload_limit_error"' in response.content.decode()
    assert not Operator.objects.exists()


def test_deactivating_in_place_returns_only_the_row(supervisor_client, make_operator):
    ann = make_operator("Ann")
    response = supervisor_client.post(active_url(ann), {"is_active": "false"}, **HTMX)
    assert response.status_code == 200
    assert is_fragment(response)
    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="operator-{ann.pk}" class="is-inactive">')
    assert "Activate" in html and "Deactivate" not in html
    assert not Operator.objects.get(pk=ann.pk).is_active


def test_activating_assigns_queued_contacts_and_the_row_shows_the_new_load(
    supervisor_client, make_operator, make_source, register
):
    ann = make_operator("Ann", active=False)
    source = make_source(weights={ann: 1})
    queued = register(source)
    assert queued.operator_id is None
    response = supervisor_client.post(active_url(ann), {"is_active": "true"}, **HTMX)
    assert Contact.objects.get(pk=queued.pk).operator_id == ann.pk
    assert 'aria-label="1 of 10 open contacts"' in response.content.decode()


def test_toggle_without_javascript_redirects_back_to_the_same_page(
    supervisor_client, make_operator
):
    ann = make_operator("Ann")
    response = supervisor_client.post(active_url(ann) + "?page=2", {"is_active": "false"})
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?page=2"
    assert not Operator.objects.get(pk=ann.pk).is_active


def test_changing_the_limit_in_place_returns_the_row(supervisor_client, make_operator):
    ann = make_operator("Ann", limit=3)
    response = supervisor_client.post(limit_url(ann), {"workload_limit": "7"}, **HTMX)
    assert response.status_code == 200
    assert is_fragment(response)
    assert 'value="7"' in response.content.decode()
    assert Operator.objects.get(pk=ann.pk).workload_limit == 7


def test_raising_a_limit_assigns_queued_contacts(
    supervisor_client, make_operator, make_source, register
):
    ann = make_operator("Ann", limit=0)
    source = make_source(weights={ann: 1})
    queued = register(source)
    supervisor_client.post(limit_url(ann), {"workload_limit": "1"}, **HTMX)
    assert Contact.objects.get(pk=queued.pk).operator_id == ann.pk


@pytest.mark.parametrize("limit", ["-5", "100001", "lots", ""])
def test_a_bad_limit_shows_the_error_in_the_row_and_changes_nothing(
    supervisor_client, make_operator, limit
):
    ann = make_operator("Ann", limit=3)
    response = supervisor_client.post(limit_url(ann), {"workload_limit": limit}, **HTMX)
    assert response.status_code == 422
    assert is_fragment(response)
    html = response.content.decode()
    assert f'id="id_operator{ann.pk}_workload_limit_error"' in html
    assert 'aria-invalid="true"' in html
    assert Operator.objects.get(pk=ann.pk).workload_limit == 3


def test_a_bad_limit_without_javascript_shows_the_page_with_the_error_in_the_row(
    supervisor_client, make_operator
):
    ann = make_operator("Ann", limit=3)
    make_operator("Bob")
    response = supervisor_client.post(limit_url(ann), {"workload_limit": "-1"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" in html
    assert f'id="id_operator{ann.pk}_workload_limit_error"' in html
    assert Operator.objects.get(pk=ann.pk).workload_limit == 3


def name_url(operator) -> str:
    return reverse("distribution:operator_rename", args=[operator.pk])


def test_renaming_in_place_returns_only_that_row(supervisor_client, make_operator):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    response = supervisor_client.post(name_url(ann), {"name": " Annie "}, **HTMX)
    assert response.status_code == 200
    assert is_fragment(response)
    html = response.content.decode().strip()
    assert html.startswith(f'<tr id="operator-{ann.pk}"') and html.endswith("</tr>")
    assertContains(response, '<span class="op-label">Annie</span>', html=True)
    assert "Bob" not in html
    assert Operator.objects.get(pk=ann.pk).name == "Annie"
    assert Operator.objects.get(pk=bob.pk).name == "Bob"


def test_renaming_without_javascript_redirects_back_to_the_same_page(
    supervisor_client, make_operator
):
    ann = make_operator("Ann")
    response = supervisor_client.post(name_url(ann) + "?page=2", {"name": "Annie"})
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?page=2"
    assert Operator.objects.get(pk=ann.pk).name == "Annie"


def test_a_name_taken_in_another_case_shows_the_error_in_the_row_and_changes_nothing(
    supervisor_client, make_operator
):
    make_operator("Ann")
    bob = make_operator("Bob")
    response = supervisor_client.post(name_url(bob), {"name": "aNN"}, **HTMX)
    assert response.status_code == 422
    assert is_fragment(response)
    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="operator-{bob.pk}"')
    # The error sits under the name field, in a disclosure left open so that it is seen.
    assert '<details class="rename" open>' in html
    errors = html.split(f'id="id_operator{bob.pk}_name_error"', 1)[1].split("</ul>")[0]
    assert "already exists" in errors
    assert 'value="aNN"' in html
    assert Operator.objects.get(pk=bob.pk).name == "Bob"


def test_a_taken_name_without_javascript_shows_the_page_with_the_error_in_the_row(
    supervisor_client, make_operator
):
    make_operator("Ann")
    bob = make_operator("Bob")
    response = supervisor_client.post(name_url(bob), {"name": "ANN"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" in html
    assert f'id="id_operator{bob.pk}_name_error"' in html
    assert Operator.objects.get(pk=bob.pk).name == "Bob"


@pytest.mark.parametrize(
    ("name", "error"),
    [("", "required"), ("   ", "required"), ("x" * 201, "at most 200 characters")],
)
def test_a_blank_or_too_long_name_shows_the_error_and_changes_nothing(
    supervisor_client, make_operator, name, error
):
    ann = make_operator("Ann")
    response = supervisor_client.post(name_url(ann), {"name": name}, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="id_operator{ann.pk}_name_error"' in html
    assert error in html
    assert Operator.objects.get(pk=ann.pk).name == "Ann"


def test_renaming_by_get_is_refused(supervisor_client, make_operator):
    ann = make_operator("Ann")
    response = supervisor_client.get(name_url(ann), {"name": "Annie"})
    assert response.status_code == 405
    assert Operator.objects.get(pk=ann.pk).name == "Ann"


def test_renaming_is_refused_to_anonymous_visitors_and_non_supervisors(client, make_operator):
    ann = make_operator("Ann")
    response = client.post(name_url(ann), {"name": "Annie"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    response = as_clerk(client).post(name_url(ann), {"name": "Annie"}, **HTMX)
    assert response.status_code == 403
    assert Operator.objects.get(pk=ann.pk).name == "Ann"


def test_unknown_operator_is_404(supervisor_client, db):
    assert (
        supervisor_client.post("/operators/999/limit/", {"workload_limit": "1"}).status_code == 404
    )
    assert (
        supervisor_client.post("/operators/999/active/", {"is_active": "true"}).status_code == 404
    )
    assert supervisor_client.post("/operators/999/name/", {"name": "Ann"}).status_code == 404


@pytest.mark.parametrize("operator_id", [2**63, 10**20])
def test_an_id_beyond_64_bits_is_404_and_changes_nothing(
    supervisor_client, make_operator, operator_id
):
    ann = make_operator("Ann", limit=3)
    for action, data in (("active", {"is_active": "false"}), ("limit", {"workload_limit": "1"})):
        response = supervisor_client.post(f"/operators/{operator_id}/{action}/", data, **HTMX)
        assert response.status_code == 404
    assert Operator.objects.filter(pk=ann.pk, is_active=True, workload_limit=3).exists()


def test_the_list_is_paged(supervisor_client, make_operator):
    for i in range(30):
        make_operator(f"Op {i:02d}")
    first = supervisor_client.get(LIST).content.decode()
    second = supervisor_client.get(LIST + "?page=2").content.decode()
    assert "Op 00" in first and "Op 29" not in first
    assert "Op 29" in second and "Page 2 of 2" in second


def test_the_list_issues_the_same_queries_for_few_and_many_operators(
    supervisor_client, make_operator, make_source, register
):
    def grow(n):
        operators = [make_operator(limit=2) for _ in range(n)]
        source = make_source(weights={op: 1 for op in operators})
        for _ in range(n):
            register(source)

    grow(2)
    few = queries_for(lambda: supervisor_client.get(LIST))
    grow(20)
    many = queries_for(lambda: supervisor_client.get(LIST))
    assert few == many


@pytest.mark.parametrize("url_name", ["operator_set_limit", "operator_rename"])
def test_an_operator_deleted_while_its_change_is_saved_is_a_404(
    supervisor_client, make_operator, monkeypatch, url_name
):

    operator = make_operator("Ann", limit=3)

    def deleted_meanwhile(**kwargs):
        raise Operator.DoesNotExist

    monkeypatch.setattr(services, "operator_update", deleted_meanwhile)
    response = supervisor_client.post(
        reverse(f"distribution:{url_name}", args=[operator.pk]),
        {"workload_limit": "5", "name": "Bo"},
    )

    assert response.status_code == 404


# --- presence, requeue, shifts ----------------------------------------------------


def presence_url(operator) -> str:
    return reverse("distribution:operator_set_presence", args=[operator.pk])


def two_operators_with_contacts_on_ann(make_operator, make_source, register, n=2):
    """Ann holds n open contacts; Bob, just activated, could take them."""
    ann, bob = make_operator("Ann"), make_operator("Bob", active=False)
    source = make_source(weights={ann: 1, bob: 1})
    contacts = [register(source) for _ in range(n)]
    services.operator_update(operator_id=bob.pk, is_active=True)
    assert {c.operator_id for c in contacts} == {ann.pk}
    return ann, bob, contacts


def test_each_row_shows_the_presence_selected_and_a_form_to_change_it(
    supervisor_client, make_operator
):
    ann = make_operator("Ann")
    services.operator_update(operator_id=ann.pk, presence="away")
    html = supervisor_client.get(LIST).content.decode()
    assert f'<label for="id_operator{ann.pk}_presence">Presence</label>' in html
    assert '<option value="away" selected>Away</option>' in html
    assert presence_url(ann) in html


def test_setting_presence_in_place_returns_only_the_row(supervisor_client, make_operator):
    ann = make_operator("Ann")
    response = supervisor_client.post(presence_url(ann), {"presence": "offline"}, **HTMX)
    assert response.status_code == 200
    assert is_fragment(response)
    html = response.content.decode().strip()
    assert html.startswith(f'<tr id="operator-{ann.pk}"')
    assert '<option value="offline" selected>Offline</option>' in html
    assert Operator.objects.get(pk=ann.pk).presence == Presence.OFFLINE


def test_setting_presence_without_javascript_redirects_back_to_the_same_page(
    supervisor_client, make_operator
):
    ann = make_operator("Ann")
    response = supervisor_client.post(presence_url(ann) + "?page=2", {"presence": "away"})
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?page=2"
    assert Operator.objects.get(pk=ann.pk).presence == Presence.AWAY


@pytest.mark.parametrize("presence", ["busy", "", "AWAY"])
def test_a_bad_presence_shows_the_error_in_the_row_and_changes_nothing(
    supervisor_client, make_operator, presence
):
    ann = make_operator("Ann")
    response = supervisor_client.post(presence_url(ann), {"presence": presence}, **HTMX)
    assert response.status_code == 422
    assert is_fragment(response)
    assert f'id="id_operator{ann.pk}_presence_error"' in response.content.decode()
    assert Operator.objects.get(pk=ann.pk).presence == Presence.AVAILABLE


def test_a_bad_presence_without_javascript_shows_the_page_with_the_error(
    supervisor_client, make_operator
):
    ann = make_operator("Ann")
    response = supervisor_client.post(presence_url(ann), {"presence": "busy"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" in html and f'id="id_operator{ann.pk}_presence_error"' in html
    assert Operator.objects.get(pk=ann.pk).presence == Presence.AVAILABLE


def test_presence_is_refused_to_anonymous_visitors_and_non_supervisors(client, make_operator):
    ann = make_operator("Ann")
    response = client.post(presence_url(ann), {"presence": "away"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert as_clerk(client).post(presence_url(ann), {"presence": "away"}).status_code == 403
    assert Operator.objects.get(pk=ann.pk).presence == Presence.AVAILABLE


def test_presence_by_get_is_refused(supervisor_client, make_operator):
    ann = make_operator("Ann")
    assert supervisor_client.get(presence_url(ann), {"presence": "away"}).status_code == 405
    assert Operator.objects.get(pk=ann.pk).presence == Presence.AVAILABLE


def test_the_requeue_choice_says_how_many_contacts_it_concerns(
    supervisor_client, make_operator, make_source, register
):
    ann, bob, _ = two_operators_with_contacts_on_ann(make_operator, make_source, register, n=3)
    html = supervisor_client.get(LIST).content.decode()
    row = html.split(f'id="operator-{ann.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Return its 3 open contacts to the queue" in row
    other = html.split(f'id="operator-{bob.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "to the queue" not in other  # Bob holds nothing: no choice to offer.


def test_going_away_keeps_the_open_contacts_by_default(
    supervisor_client, make_operator, make_source, register
):
    ann, _, contacts = two_operators_with_contacts_on_ann(make_operator, make_source, register)
    response = supervisor_client.post(presence_url(ann), {"presence": "away"}, **HTMX)
    assert 'aria-label="2 of 10 open contacts"' in response.content.decode()
    assert set(Contact.objects.values_list("operator_id", flat=True)) == {ann.pk}


def test_going_away_with_requeue_hands_the_contacts_to_those_eligible(
    supervisor_client, make_operator, make_source, register
):
    ann, bob, _ = two_operators_with_contacts_on_ann(make_operator, make_source, register)
    response = supervisor_client.post(
        presence_url(ann), {"presence": "away", "requeue_open_contacts": "on"}, **HTMX
    )
    assert response.status_code == 200
    assert 'aria-label="0 of 10 open contacts"' in response.content.decode()
    assert set(Contact.objects.values_list("operator_id", flat=True)) == {bob.pk}


def test_deactivating_with_requeue_hands_the_contacts_to_those_eligible(
    supervisor_client, make_operator, make_source, register
):
    ann, bob, _ = two_operators_with_contacts_on_ann(make_operator, make_source, register)
    response = supervisor_client.post(
        active_url(ann), {"is_active": "false", "requeue_open_contacts": "on"}, **HTMX
    )
    assert 'aria-label="0 of 10 open contacts"' in response.content.decode()
    assert set(Contact.objects.values_list("operator_id", flat=True)) == {bob.pk}
    assert not Operator.objects.get(pk=ann.pk).is_active


def test_deactivating_without_requeue_keeps_the_contacts(
    supervisor_client, make_operator, make_source, register
):
    ann, _, _ = two_operators_with_contacts_on_ann(make_operator, make_source, register)
    supervisor_client.post(active_url(ann), {"is_active": "false"})
    assert set(Contact.objects.values_list("operator_id", flat=True)) == {ann.pk}


def test_becoming_available_drains_the_queue_and_the_row_shows_the_new_load(
    supervisor_client, make_operator, make_source, register
):
    ann = make_operator("Ann", limit=3)
    services.operator_update(operator_id=ann.pk, presence="away")
    source = make_source(weights={ann: 1})
    queued = [register(source) for _ in range(2)]
    assert all(c.is_queued for c in queued)
    response = supervisor_client.post(presence_url(ann), {"presence": "available"}, **HTMX)
    assert 'aria-label="2 of 3 open contacts"' in response.content.decode()
    assert set(Contact.objects.values_list("operator_id", flat=True)) == {ann.pk}


def test_an_operator_without_hours_is_always_on_shift(supervisor_client, make_operator):
    make_operator("Ann")
    html = supervisor_client.get(LIST).content.decode()
    assert "Always on shift" in html


# A Tuesday, 10:00 in UTC: 15:30 in Kolkata, 06:00 in New York.
NOW = datetime(2025, 3, 11, 10, 0, tzinfo=UTC)


def test_the_row_says_until_when_the_shift_lasts_in_the_operators_zone(
    supervisor_client, make_operator
):
    ann = make_operator("Ann")
    # Stored as the services store it; set directly so that the moment is known here.
    Operator.objects.filter(pk=ann.pk).update(
        time_zone="Asia/Kolkata", on_shift=True, shift_changes_at=NOW + timedelta(hours=2)
    )
    with time_machine.travel(NOW, tick=False):
        html = supervisor_client.get(LIST).content.decode()
    row = html.split(f'id="operator-{ann.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "On shift" in row
    assert "until 17:30 (in 2 h)" in row
    assert "Asia/Kolkata" in row


def test_an_operator_off_shift_shows_when_it_starts(supervisor_client, make_operator):
    ann = make_operator("Ann")
    Operator.objects.filter(pk=ann.pk).update(
        time_zone="America/New_York",
        on_shift=False,
        shift_changes_at=NOW + timedelta(days=2, hours=3, minutes=20),
    )
    with time_machine.travel(NOW, tick=False):
        html = supervisor_client.get(LIST).content.decode()
    row = html.split(f'id="operator-{ann.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Off shift" in row
    assert "starts Thu 09:20 (in 2 d 3 h)" in row


def test_a_shift_change_the_worker_has_not_stored_yet_still_reads_right(
    supervisor_client, make_operator
):
    ann = make_operator("Ann")
    Operator.objects.filter(pk=ann.pk).update(
        on_shift=True, shift_changes_at=NOW - timedelta(minutes=1)
    )
    with time_machine.travel(NOW, tick=False):
        html = supervisor_client.get(LIST).content.decode()
    row = html.split(f'id="operator-{ann.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Off shift" in row and "until" not in row and "starts" not in row


def test_the_list_with_presence_schedules_and_contacts_issues_the_same_queries(
    supervisor_client, make_operator, make_source, register
):
    def grow(n):
        operators = [make_operator(limit=2) for _ in range(n)]
        for i, op in enumerate(operators):
            services.operator_set_schedule(
                operator_id=op.pk, time_zone="Europe/Berlin", hours=[(i % 7, time(9), time(17))]
            )
            services.operator_update(operator_id=op.pk, presence=["away", "offline"][i % 2])
        source = make_source(weights={op: 1 for op in operators})
        for _ in range(n):
            register(source)

    grow(2)
    few = queries_for(lambda: supervisor_client.get(LIST))
    grow(20)
    many = queries_for(lambda: supervisor_client.get(LIST))
    assert few == many


# --- logins -----------------------------------------------------------------------


def login_url(operator) -> str:
    return reverse("distribution:operator_login_create", args=[operator.pk])


def login_remove_url(operator) -> str:
    return reverse("distribution:operator_login_remove", args=[operator.pk])


STRONG = "a long enough passphrase 41"


def test_an_operator_without_a_login_offers_one(supervisor_client, make_operator):
    ann = make_operator("Ann")
    html = supervisor_client.get(LIST).content.decode()
    row = html.split(f'id="operator-{ann.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Give a login" in row
    assert f'<label for="id_operator{ann.pk}_login_username">User name</label>' in row
    assert login_url(ann) in row


def test_giving_a_login_in_place_creates_an_operator_user_and_shows_it(
    supervisor_client, make_operator
):
    ann = make_operator("Ann")
    response = supervisor_client.post(
        login_url(ann), {"username": "ann", "password": STRONG}, **HTMX
    )
    assert response.status_code == 200
    assert is_fragment(response)
    html = response.content.decode()
    assert "Login: <strong>ann</strong>" in html
    assert login_remove_url(ann) in html
    user = Operator.objects.get(pk=ann.pk).user
    assert user.username == "ann" and not user.is_staff and user.check_password(STRONG)


def test_giving_a_login_without_javascript_redirects_back(supervisor_client, make_operator):
    ann = make_operator("Ann")
    response = supervisor_client.post(
        login_url(ann) + "?page=2", {"username": "ann", "password": STRONG}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?page=2"
    assert Operator.objects.get(pk=ann.pk).user.username == "ann"


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"username": "", "password": STRONG}, "username", "required"),
        ({"username": "boss", "password": STRONG}, "username", "already taken"),
        ({"username": "BOSS", "password": STRONG}, "username", "already taken"),
        ({"username": "ann", "password": "short"}, "password", "too short"),
        ({"username": "ann", "password": "12345678901"}, "password", "numeric"),
        ({"username": "a b", "password": STRONG}, "username", "valid"),
    ],
)
def test_a_bad_login_shows_the_error_next_to_the_field_and_creates_nothing(
    supervisor_client, make_operator, data, field, words
):
    ann = make_operator("Ann")
    users = get_user_model().objects.count()
    response = supervisor_client.post(login_url(ann), data, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    error_id = f"id_operator{ann.pk}_login_{field}_error"
    assert f'id="{error_id}"' in html
    assert words in html.split(f'id="{error_id}"', 1)[1].split("</ul>", 1)[0]
    assert Operator.objects.get(pk=ann.pk).user is None
    assert get_user_model().objects.count() == users


def test_a_bad_login_without_javascript_shows_the_page_with_the_error(
    supervisor_client, make_operator
):
    ann = make_operator("Ann")
    response = supervisor_client.post(login_url(ann), {"username": "ann", "password": "x"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" in html and f'id="id_operator{ann.pk}_login_password_error"' in html


def test_removing_a_login_deletes_the_operators_user(supervisor_client, make_operator):
    ann = make_operator("Ann")
    services.operator_login_create(operator_id=ann.pk, username="ann", password=STRONG)
    response = supervisor_client.post(login_remove_url(ann), **HTMX)
    assert response.status_code == 200
    assert "Give a login" in response.content.decode()
    assert Operator.objects.get(pk=ann.pk).user is None
    assert not get_user_model().objects.filter(username="ann").exists()


def test_logins_are_refused_by_get_and_to_non_supervisors(client, make_operator):
    ann = make_operator("Ann")
    clerk = as_clerk(client)
    assert clerk.post(login_url(ann), {"username": "x", "password": STRONG}).status_code == 403
    assert clerk.post(login_remove_url(ann)).status_code == 403
    boss = as_supervisor(client, "boss2")
    assert boss.get(login_url(ann)).status_code == 405
    assert boss.get(login_remove_url(ann)).status_code == 405
    assert Operator.objects.get(pk=ann.pk).user is None


def test_logins_of_an_unknown_operator_are_404(supervisor_client, db):
    assert supervisor_client.post("/operators/4242/login/", {"username": "x"}).status_code == 404
    assert supervisor_client.post("/operators/4242/login/remove/").status_code == 404


def test_the_list_with_logins_issues_the_same_queries(supervisor_client, make_operator):
    def grow(n):
        for _ in range(n):
            op = make_operator()
            services.operator_login_create(
                operator_id=op.pk, username=f"op{op.pk}", password=STRONG
            )

    grow(2)
    few = queries_for(lambda: supervisor_client.get(LIST))
    grow(20)
    assert queries_for(lambda: supervisor_client.get(LIST)) == few
