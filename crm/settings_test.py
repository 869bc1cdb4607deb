"""
The test suite's settings: chosen by pytest's configuration (pyproject.toml,
DJANGO_SETTINGS_MODULE = "crm.settings_test"), never guessed from what is imported.

crm/settings.py sees this module's name in DJANGO_SETTINGS_MODULE and sets TESTING,
which relaxes what tests cannot provide (a SECRET_KEY, HTTPS, collected static files)
and gives each run its own SQLite file.
"""

from crm.settings import *  # noqa: F403
