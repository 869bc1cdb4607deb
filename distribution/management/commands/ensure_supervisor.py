"""Create the first supervisor from the environment, or say how to create one."""

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create a supervisor from DJANGO_SUPERUSER_USERNAME / DJANGO_SUPERUSER_PASSWORD when "
        "both are set and no such user exists; otherwise print how to create one."
    )

    def handle(self, *args, **options) -> None:
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "").strip()
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
        User = get_user_model()
        if username and password:
            if User.objects.filter(username=username).exists():
                self.stdout.write(
                    f"Log in at http://127.0.0.1:8000/accounts/login/ as {username!r}."
                )
                return
            User.objects.create_superuser(username=username, password=password, email="")
            self.stdout.write(
                self.style.SUCCESS(
                    f"Supervisor {username!r} created. Log in at http://127.0.0.1:8000/accounts/login/"
                )
            )
            return
        if User.objects.filter(is_staff=True, is_active=True).exists():
            self.stdout.write("Log in at http://127.0.0.1:8000/accounts/login/ as a supervisor.")
            return
        self.stdout.write(
            "No supervisor yet. Create one with:\n"
            "    DEBUG=1 .venv/bin/python manage.py createsuperuser\n"
            "or run `make run` with DJANGO_SUPERUSER_USERNAME and DJANGO_SUPERUSER_PASSWORD set."
        )
