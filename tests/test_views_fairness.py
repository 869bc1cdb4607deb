"""/sources/<id>/fairness/: the report page, its period form and its CSV."""

import csv
import io
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from distribution import fairness
from distribution.models import ContactEvent
from tests.fairness_support import assign, candidate, noon, unlogged
from tests.test_form_markup import assert_described_by_ids_exist
from tests.views_support import as_clerk, as_operator, as_supervisor, queries_for

DAY = date(2024, 5, 6)
PERIOD = {"since": "2024-05-06", "until": "2024-05-06"}


class ReportPage(HTMLParser):
    """The texts of the report's table cells (header first) and of its summary lines."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.table: list[list[str]] = []
        self.summary: list[tuple[str, str]] = []
        self._where: str | None = None
        self._cell: list[str] | None = None
        self._term = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element_id = dict(attrs).get("id")
        if element_id in {"fairness-table", "fairness-summary"}:
            self._where = element_id
        elif self._where == "fairness-table" and tag == "tr":
            self.table.append([])
        if self._where and tag in {"th", "td", "dt", "dd"}:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in {"table", "dl"}:
            self._where = None
        if self._cell is None or tag not in {"th", "td", "dt", "dd"}:
            return
        text = " ".join("".join(self._cell).split())
        self._cell = None
        if tag in {"th", "td"}:
            self.table[-1].append(text)
        elif tag == "dt":
            self._term = text
        else:
            self.summary.append((self._term, text))

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture
def supervisor_client(client, db):
    return as_supervisor(client)


@pytest.fixture
def world(make_operator, make_source):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source("Telegram", weights={ann: 1, bob: 3})
    both = [candidate(ann, 1), candidate(bob, 3)]
    assign(source, ann, both, times=20)
    assign(source, bob, both, times=20)
    unlogged(source, bob, times=8)
    assign(source, bob, both, reason=ContactEvent.Reason.STICKY, times=3)
    return source


def url(source) -> str:
    return reverse("distribution:source_fairness", args=[source.pk])


def test_the_page_shows_the_table_the_test_and_the_flag(supervisor_client, world):
    response = supervisor_client.get(url(world), PERIOD)

    assert response.status_code == 200
    page = ReportPage(response.content.decode())
    assert page.table == [
        ["Operator", "Weight now", "Contacts", "Actual share", "Expected share", "Expected count"],
        ["Ann", "1", "20", "41.7%", "25.0%", "12.00"],
        ["Bob", "3", "28", "58.3%", "75.0%", "36.00"],
    ]
    lines = dict(page.summary)
    assert lines["Chi-square"] == "7.111"  # 8²/12 + 8²/36
    assert lines["Degrees of freedom"] == "1"
    assert lines["p-value"] == "0.008"
    assert lines["Counted from the decision log (draws)"] == "40"
    assert lines["Counted against today's weights (before the log)"] == "8"
    assert lines["Not counted: sticky assignments"] == "3"
    assert "Unlikely under the weights" in lines["Verdict"]
    assert "8 contacts from before the decision log are counted against the source" in (
        response.content.decode()
    )


def test_without_a_period_the_page_covers_the_last_seven_days(
    supervisor_client, make_operator, make_source
):
    ann = make_operator("Ann")
    source = make_source(weights={ann: 1})
    today = timezone.localdate()
    assign(source, ann, [candidate(ann, 1)], times=2, at=noon(today))
    assign(source, ann, [candidate(ann, 1)], times=5, at=noon(today - timedelta(days=7)))

    response = supervisor_client.get(url(source))

    page = ReportPage(response.content.decode())
    assert page.table[1][:3] == ["Ann", "1", "2"]
    week_ago = today - timedelta(days=6)
    assert dict(page.summary)["Period"] == f"{week_ago:%Y-%m-%d} to {today:%Y-%m-%d}"
    assert f'value="{week_ago:%Y-%m-%d}"' in response.content.decode()


def test_not_enough_data_is_said_instead_of_a_p_value(
    supervisor_client, make_operator, make_source
):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source(weights={ann: 1, bob: 3})
    assign(source, bob, [candidate(ann, 1), candidate(bob, 3)], times=6)

    response = supervisor_client.get(url(source), PERIOD)

    lines = dict(ReportPage(response.content.decode()).summary)
    assert lines["p-value"] == lines["Chi-square"] == "n/a"
    assert lines["Verdict"].startswith("Not enough data for the test")
    assert "expected count is below 5" in lines["Verdict"]


def test_the_csv_is_the_pages_table_and_test(supervisor_client, world):
    page = ReportPage(supervisor_client.get(url(world), PERIOD).content.decode())

    response = supervisor_client.get(url(world), {**PERIOD, "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"] == (
        f'attachment; filename="fairness-source-{world.pk}-2024-05-06-2024-05-06.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    blank = rows.index([])
    assert rows[:blank] == page.table
    assert [tuple(row) for row in rows[blank + 1 :]] == page.summary


def test_the_csv_keeps_an_operators_name_from_being_a_formula(
    supervisor_client, make_operator, make_source
):
    evil = make_operator("=HYPERLINK(1)")
    source = make_source(weights={evil: 1})

    response = supervisor_client.get(url(source), {**PERIOD, "format": "csv"})

    assert list(csv.reader(io.StringIO(response.content.decode())))[1][0] == "'=HYPERLINK(1)"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"since": "2024-05-07", "until": "2024-05-06"}, "until", "ends before it starts"),
        ({"since": "2023-01-01", "until": "2024-05-06"}, "until", "longer than a year"),
        ({"since": "2024-02-30", "until": "2024-05-06"}, "since", "YYYY-MM-DD"),
        ({"since": "06/05/2024", "until": "2024-05-06"}, "since", "YYYY-MM-DD"),
        ({"since": "٢٠٢٤-05-01", "until": "2024-05-06"}, "since", "YYYY-MM-DD"),
        ({"since": "", "until": "2024-05-06"}, "since", "required"),
        ({"since": "2024-05-06"}, "until", "required"),
        ({"since": "0001-01-01", "until": "0001-01-02"}, "since", "between"),
    ],
)
def test_a_bad_period_is_an_error_next_to_its_field(
    supervisor_client, world, params, field, message
):
    for fmt in ({}, {"format": "csv"}):
        response = supervisor_client.get(url(world), {**params, **fmt})

        assert response.status_code == 422
        html = response.content.decode()
        page = assert_described_by_ids_exist(html)
        assert f"id_{field}_error" in page.references[f"id_{field}"]
        assert message in html
        assert ReportPage(html).table == []


def test_the_source_page_links_to_the_report(supervisor_client, world):
    response = supervisor_client.get(reverse("distribution:source_detail", args=[world.pk]))

    assert url(world) in response.content.decode()


def test_an_unknown_source_is_a_404(supervisor_client, db):
    assert supervisor_client.get("/sources/999/fairness/").status_code == 404


def test_only_supervisors_see_the_report(client, world, make_operator):
    assert client.get(url(world))["Location"].startswith("/accounts/login/")
    assert as_clerk(client).get(url(world), {**PERIOD, "format": "csv"}).status_code == 403
    operator_client = as_operator(client, make_operator("Cid"))
    assert operator_client.get(url(world), {**PERIOD, "format": "csv"}).status_code == 403


def test_the_report_costs_the_same_queries_however_many_operators(
    supervisor_client, make_operator, make_source
):
    def source_with(n: int):
        ops = [make_operator() for _ in range(n)]
        source = make_source(weights=dict.fromkeys(ops, 1))
        everyone = [candidate(op, 1) for op in ops]
        for op in ops:
            assign(source, op, everyone, times=6)
            unlogged(source, op, times=2)
        return source

    small, large = source_with(2), source_with(12)

    for params in (PERIOD, {**PERIOD, "format": "csv"}):
        few = queries_for(lambda s=small, p=params: supervisor_client.get(url(s), p))
        many = queries_for(lambda s=large, p=params: supervisor_client.get(url(s), p))
        assert few == many


def test_the_selector_alone_runs_four_queries(world, django_assert_num_queries):
    with django_assert_num_queries(4):
        fairness.source_fairness(world, since=DAY, until=DAY)
