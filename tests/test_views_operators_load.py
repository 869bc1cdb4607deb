"""/operators/: load below, at and over the limit told apart in text, presence at a glance,
and each operator's link to its contacts (the contacts list filtered by operator)."""

import re

import pytest

from distribution import services
from tests.views_support import as_supervisor


@pytest.fixture
def supervisor_client(client, db):
    return as_supervisor(client)


def row(html: str, operator) -> str:
    return re.search(rf'<tr id="operator-{operator.pk}".*?</tr>', html, re.S).group(0)


def load_text(row_html: str) -> str:
    """The load cell's visible words: the numbers and the state."""
    bar = re.search(r'<div class="loadbar (is-\w+)">.*?</div>', row_html, re.S)
    label = re.sub(r"<[^>]+>", " ", bar.group(0)).replace("&thinsp;", "")
    return f"{bar.group(1)}: {' '.join(label.split())}"


def test_below_at_and_over_the_limit_read_differently(
    supervisor_client, make_operator, make_source, register
):
    below, at = make_operator("Ann", limit=8), make_operator("Bob", limit=2)
    over = make_operator("Cid", limit=15)
    for op, n in ((below, 3), (at, 2), (over, 15)):
        source = make_source(weights={op: 1})
        for _ in range(n):
            register(source)
    # The limit is lowered below the load: nothing moves, the operator is over it.
    services.operator_update(operator_id=over.pk, workload_limit=8)
    html = supervisor_client.get("/operators/").content.decode()
    assert load_text(row(html, below)) == "is-below: 3/8"
    assert load_text(row(html, at)) == "is-full: 2/2 full"
    assert load_text(row(html, over)) == "is-over: 15/8, +7 over limit"
    assert 'aria-label="15 of 8 open contacts, 7 over the limit"' in row(html, over)


def test_presence_is_a_badge_beside_its_form(supervisor_client, make_operator):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    services.operator_update(operator_id=bob.pk, presence="away")
    html = supervisor_client.get("/operators/").content.decode()
    assert '<span class="badge presence-badge badge-ok">Available</span>' in row(html, ann)
    assert '<span class="badge presence-badge badge-off">Away</span>' in row(html, bob)


def test_each_operator_links_to_its_contacts(
    supervisor_client, make_operator, make_source, register
):
    ann, bob = make_operator("Ann"), make_operator("Bob")
    mine = register(make_source(weights={ann: 1}))
    theirs = register(make_source(weights={bob: 1}))
    html = supervisor_client.get("/operators/").content.decode()
    link = f"/contacts/?operator={ann.pk}&amp;status=open"
    assert f'href="{link}"' in row(html, ann)
    listed = supervisor_client.get(link.replace("&amp;", "&")).content.decode()
    assert f'id="contact-{mine.pk}"' in listed and f'id="contact-{theirs.pk}"' not in listed


@pytest.mark.parametrize("value", ["abc", "999999", "-1", "1" * 40])
def test_a_bad_operator_filter_is_told_and_ignored_never_a_500(
    supervisor_client, make_operator, make_source, register, value
):
    a = register(make_source(weights={make_operator(): 1}))
    response = supervisor_client.get("/contacts/", {"operator": value})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice" in html and 'id="id_operator_error"' in html
    assert f'id="contact-{a.pk}"' in html
