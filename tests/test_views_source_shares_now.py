"""/sources/<id>/: the share each weighted operator would get of a new contact now, its
load on the same row, why it gets 0%, and a warning when nobody can take a new contact."""

import re

import pytest

from distribution import services
from distribution.models import Operator
from tests.views_support import as_supervisor, queries_for


@pytest.fixture
def supervisor_client(client, db):
    return as_supervisor(client)


def rows(html: str) -> dict[str, str]:
    """Operator name -> the whole <tr> of its weight row."""
    found = re.findall(r'<tr id="weight-\d+"[^>]*>\s*<th scope="row">([^<]+)(.*?)</tr>', html, re.S)
    return {name.strip(): row for name, row in found}


def shares_now(html: str) -> dict[str, float]:
    return {
        name: float(re.search(r'data-share-now="([\d.]+)"', row).group(1))
        for name, row in rows(html).items()
    }


def off_shift(operator: Operator) -> None:
    Operator.objects.filter(pk=operator.pk).update(on_shift=False)


def test_only_operators_that_can_take_a_contact_share_the_next_one(
    supervisor_client, make_operator, make_source, register
):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    away, full = make_operator("Cid"), make_operator("Dan", limit=1)
    source = make_source("Bot", weights={ann: 3, bob: 1, away: 4, full: 2})
    services.contact_reassign(contact_id=register(source).pk, operator_id=full.pk)
    services.operator_update(operator_id=away.pk, presence="away")
    html = supervisor_client.get(f"/sources/{source.pk}/").content.decode()
    shares = shares_now(html)
    assert shares == {"Ann": 0.75, "Bob": 0.25, "Cid": 0.0, "Dan": 0.0}
    assert sum(shares.values()) == 1.0
    assert "75%</strong> now" in rows(html)["Ann"]
    assert "Nobody can take a new contact" not in html


@pytest.mark.parametrize(
    "make_unable, why",
    [
        (lambda op: services.operator_update(operator_id=op.pk, is_active=False), "inactive"),
        (lambda op: services.operator_update(operator_id=op.pk, presence="away"), "away"),
        (lambda op: services.operator_update(operator_id=op.pk, presence="offline"), "offline"),
        (off_shift, "off shift"),
        (lambda op: services.operator_update(operator_id=op.pk, workload_limit=0), "full"),
    ],
)
def test_an_operator_that_cannot_take_a_contact_shows_0_percent_and_why(
    supervisor_client, make_operator, make_source, make_unable, why
):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    source = make_source(weights={ann: 1, bob: 1})
    make_unable(bob)
    html = supervisor_client.get(f"/sources/{source.pk}/").content.decode()
    assert shares_now(html) == {"Ann": 1.0, "Bob": 0.0}
    assert re.search(
        rf'0%</strong> now:\s*<span class="badge [^"]+">{why}</span>', rows(html)["Bob"]
    )


def test_each_row_shows_the_operators_load_against_its_limit(
    supervisor_client, make_operator, make_source, register
):
    ann, bob = make_operator("Ann", limit=2), make_operator("Bob", limit=5)
    source = make_source(weights={ann: 1})
    other = make_source(weights={ann: 1})
    register(other)
    register(other)
    services.source_set_weight(source_id=source.pk, operator_id=bob.pk, weight=1)
    html = supervisor_client.get(f"/sources/{source.pk}/").content.decode()
    assert '<span class="bar-label">2&thinsp;/&thinsp;2</span>' in rows(html)["Ann"]
    assert '<span class="load-state">full</span>' in rows(html)["Ann"]
    assert '<span class="bar-label">0&thinsp;/&thinsp;5</span>' in rows(html)["Bob"]


def test_a_warning_says_when_nobody_can_take_a_new_contact(
    supervisor_client, make_operator, make_source, register
):
    ann, bob = make_operator("Ann", limit=1), make_operator("Bob")
    source = make_source(weights={ann: 1, bob: 1})
    services.operator_update(operator_id=bob.pk, presence="offline")
    register(source)  # Ann takes it and is full.
    html = supervisor_client.get(f"/sources/{source.pk}/").content.decode()
    assert shares_now(html) == {"Ann": 0.0, "Bob": 0.0}
    assert "Nobody can take a new contact of this source now" in html
    assert "New contacts will wait in the queue" in html


def test_the_source_page_costs_the_same_queries_for_few_and_many_operators(
    supervisor_client, make_operator, make_source, register
):
    source = make_source()

    def grow(n):
        for i in range(n):
            op = make_operator(limit=2)
            services.source_set_weight(source_id=source.pk, operator_id=op.pk, weight=1)
            if i % 2:
                services.operator_update(operator_id=op.pk, presence="away")
        for _ in range(n * 2):
            register(source)

    grow(2)
    few = queries_for(lambda: supervisor_client.get(f"/sources/{source.pk}/"))
    grow(10)
    many = queries_for(lambda: supervisor_client.get(f"/sources/{source.pk}/"))
    assert few == many
