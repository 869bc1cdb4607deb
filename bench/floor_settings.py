"""The production settings with one more URL, bench/floor_urls.py's; for `make bench` only
(goal 3 on SQLite runs its server with these)."""

from crm.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor_urls"
