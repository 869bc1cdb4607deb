"""/operators/<id>/schedule/: an operator's weekly working hours, edited on a page of its own."""

from datetime import time, timedelta

import pytest
from django.urls import reverse

from distribution import services
from distribution.models import MAX_SHIFT_RANGES, Operator, ShiftHours
from distribution.views.shift_text import in_words
from tests.views_support import as_clerk, as_supervisor


@pytest.fixture
def supervisor_client(client, db):
    return as_supervisor(client)


def url(operator) -> str:
    return reverse("distribution:operator_schedule", args=[operator.pk])


def form_data(time_zone="Europe/Berlin", rows=(), initial=0) -> dict:
    """The page's form: the zone, and one row per (weekday, start, end[, delete])."""
    data = {
        "time_zone": time_zone,
        "hours-TOTAL_FORMS": str(len(rows)),
        "hours-INITIAL_FORMS": str(initial),
        "hours-MIN_NUM_FORMS": "0",
        "hours-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        weekday, start, end, *delete = row
        data |= {f"hours-{i}-weekday": weekday, f"hours-{i}-start": start, f"hours-{i}-end": end}
        if delete:
            data[f"hours-{i}-DELETE"] = "on"
    return data


def stored(operator) -> list[tuple]:
    return list(
        ShiftHours.objects.filter(operator=operator)
        .order_by("weekday", "start")
        .values_list("weekday", "start", "end")
    )


def test_the_page_shows_the_zone_the_hours_and_blank_rows(supervisor_client, make_operator):
    ann = make_operator("Ann")
    services.operator_set_schedule(
        operator_id=ann.pk, time_zone="Asia/Tokyo", hours=[(2, time(9), time(17, 30))]
    )
    response = supervisor_client.get(url(ann))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Working hours of Ann" in html
    assert '<label for="id_time_zone">Time zone</label>' in html
    assert '<option value="Asia/Tokyo" selected>Asia/Tokyo</option>' in html
    assert '<option value="2" selected>Wednesday</option>' in html
    assert 'value="09:00"' in html and 'value="17:30"' in html
    assert '<label for="id_hours-0-weekday">Day</label>' in html
    assert 'name="hours-3-start"' in html  # Three blank rows after the one stored.


def test_saving_hours_stores_them_and_goes_back_to_the_list(supervisor_client, make_operator):
    ann = make_operator("Ann")
    response = supervisor_client.post(
        url(ann),
        form_data(
            "America/New_York", [("0", "09:00", "17:30"), ("4", "22:00", "00:00"), ("", "", "")]
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("distribution:operator_list")
    assert stored(ann) == [(0, time(9), time(17, 30)), (4, time(22), time(0))]
    assert Operator.objects.get(pk=ann.pk).time_zone == "America/New_York"
    assert (
        "Working hours of Ann saved."
        in supervisor_client.get(response["Location"]).content.decode()
    )


def test_24_00_is_accepted_as_midnight(supervisor_client, make_operator):
    ann = make_operator("Ann")
    supervisor_client.post(url(ann), form_data("UTC", [("6", "20:00", "24:00")]))
    assert stored(ann) == [(6, time(20), time(0))]


def test_removing_every_row_removes_the_schedule(supervisor_client, make_operator):
    ann = make_operator("Ann")
    services.operator_set_schedule(
        operator_id=ann.pk, time_zone="UTC", hours=[(1, time(9), time(10))]
    )
    response = supervisor_client.post(url(ann), form_data("UTC", [("1", "09:00", "10:00", "x")], 1))
    assert response.status_code == 302
    assert stored(ann) == []
    assert Operator.objects.get(pk=ann.pk).on_shift


@pytest.mark.parametrize(
    ("rows", "error_id", "words"),
    [
        ([("1", "10:00", "09:00")], "id_hours-0-end_error", "ends before it starts"),
        ([("1", "09:00", "09:00")], "id_hours-0-end_error", "ends before it starts"),
        ([("1", "9am", "10:00")], "id_hours-0-start_error", "HH:MM"),
        ([("1", "09:00", "24:30")], "id_hours-0-end_error", "HH:MM"),
        ([("1", "", "10:00")], "id_hours-0-start_error", "required"),
        ([("", "09:00", "10:00")], "id_hours-0-weekday_error", "required"),
        ([("9", "09:00", "10:00")], "id_hours-0-weekday_error", "valid choice"),
        ([("١", "09:00", "10:00")], "id_hours-0-weekday_error", "valid choice"),
        (
            [("1", "09:00", "12:00"), ("1", "11:00", "13:00")],
            "id_hours-1-start_error",
            "overlaps 09:00–12:00",
        ),
        (
            [("3", "20:00", "00:00"), ("3", "21:00", "22:00")],
            "id_hours-1-start_error",
            "overlaps 20:00–00:00",
        ),
    ],
)
def test_a_bad_row_shows_the_error_next_to_its_field_and_changes_nothing(
    supervisor_client, make_operator, rows, error_id, words
):
    ann = make_operator("Ann")
    services.operator_set_schedule(
        operator_id=ann.pk, time_zone="Europe/Paris", hours=[(5, time(8), time(12))]
    )
    response = supervisor_client.post(url(ann), form_data("UTC", rows))
    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="{error_id}"' in html
    errors = html.split(f'id="{error_id}"', 1)[1].split("</ul>", 1)[0]
    assert words.lower() in errors.lower()
    assert stored(ann) == [(5, time(8), time(12))]
    assert Operator.objects.get(pk=ann.pk).time_zone == "Europe/Paris"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "utc", "UTC\x00"])
def test_a_bad_time_zone_shows_the_error_next_to_it(supervisor_client, make_operator, zone):
    ann = make_operator("Ann")
    response = supervisor_client.post(url(ann), form_data(zone, [("1", "09:00", "10:00")]))
    assert response.status_code == 422
    assert 'id="id_time_zone_error"' in response.content.decode()
    assert stored(ann) == [] and Operator.objects.get(pk=ann.pk).time_zone == "UTC"


def test_a_broken_management_form_is_a_422_not_a_500(supervisor_client, make_operator):
    ann = make_operator("Ann")
    response = supervisor_client.post(url(ann), {"time_zone": "UTC", "hours-TOTAL_FORMS": "x"})
    assert response.status_code == 422
    assert stored(ann) == []


def test_more_rows_than_a_week_of_hours_holds_are_refused(supervisor_client, make_operator):
    ann = make_operator("Ann")
    # 169 ranges that do not overlap: one more than MAX_SHIFT_RANGES.
    rows = [(str(d), f"{h:02d}:00", f"{h:02d}:30") for d in range(7) for h in range(24)]
    rows.append(("0", "00:30", "00:45"))
    assert len(rows) == MAX_SHIFT_RANGES + 1
    response = supervisor_client.post(url(ann), form_data("UTC", rows))
    assert response.status_code == 422
    assert f"At most {MAX_SHIFT_RANGES} ranges" in response.content.decode()
    assert stored(ann) == []


def test_an_unknown_operator_is_a_404(supervisor_client, db):
    assert supervisor_client.get("/operators/4242/schedule/").status_code == 404
    assert supervisor_client.post("/operators/4242/schedule/", form_data()).status_code == 404


def test_the_page_is_for_supervisors_only(client, make_operator):
    ann = make_operator("Ann")
    response = client.get(url(ann))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    clerk = as_clerk(client)
    assert clerk.get(url(ann)).status_code == 403
    assert clerk.post(url(ann), form_data("UTC", [("1", "09:00", "10:00")])).status_code == 403
    assert stored(ann) == []


def test_the_operators_list_links_to_each_schedule(supervisor_client, make_operator):
    ann = make_operator("Ann")
    html = supervisor_client.get("/operators/").content.decode()
    assert f'href="{url(ann)}"' in html


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(seconds=20), "in less than a minute"),
        (timedelta(minutes=35, seconds=59), "in 35 min"),
        (timedelta(hours=2), "in 2 h"),
        (timedelta(hours=2, minutes=5), "in 2 h 5 min"),
        (timedelta(days=1), "in 1 d"),
        (timedelta(days=3, hours=1, minutes=59), "in 3 d 1 h"),
    ],
)
def test_the_distance_to_a_shift_change_reads_short_and_rounded_down(delta, words):
    assert in_words(delta) == words


def test_the_same_range_twice_is_shown_next_to_the_second(supervisor_client, make_operator):
    ann = make_operator("Ann")
    response = supervisor_client.post(
        url(ann), form_data("UTC", [("1", "09:00", "10:00"), ("1", "09:00", "10:00")])
    )
    assert response.status_code == 422
    errors = response.content.decode().split('id="id_hours-1-start_error"', 1)[1]
    assert "already listed" in errors.split("</ul>", 1)[0]
    assert stored(ann) == []
