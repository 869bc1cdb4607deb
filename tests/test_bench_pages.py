"""bench/pages.py without a server: which page is "deep", and how a failing page shows."""

from bench.pages import Timing, deep_path, table_rows


def test_a_keyset_pager_is_followed_to_its_oldest_link():
    page = """
    <nav class="pager"><a href="?before=123&amp;status=open">Older &rarr;</a>
    <a href="/contacts/?before=0&amp;status=open">Oldest &raquo;</a></nav>"""
    assert deep_path(page) == ("/contacts/?before=0&status=open", "its Oldest/Last link")


def test_page_numbers_lead_to_the_last_page():
    page = """<nav class="pager"><a href="?page=2">Next &rarr;</a></nav>
    <form><input type="number" name="page" min="1" max="4001" value="1"></form>"""
    assert deep_path(page) == ("/contacts/?page=4001", "the last page number (4001)")


def test_only_an_older_link_is_followed_once():
    page = '<nav class="pager"><a href="?before=77">Older</a></nav>'
    path, how = deep_path(page)
    assert path == "/contacts/?before=77" and "no deeper link" in how


def test_a_page_that_failed_is_an_error_row_not_a_time():
    ok = Timing(times_ms=[10.0, 12.0, 11.0])
    failed = Timing(errors=["500 on /leads/"])
    rows = table_rows(
        [
            {"label": "dashboard", "timings": {"small": ok, "large": ok}},
            {"label": "leads", "timings": {"small": ok, "large": failed}},
        ],
        10_000,
        1_000_000,
    )
    assert rows[1][:4] == ["dashboard", "11.0 ms", "11.0 ms", "1.00"]
    assert rows[2][0] == "leads" and rows[2][1:3] == ["ERROR", "ERROR"]
    assert "500 on /leads/" in rows[2][4]
