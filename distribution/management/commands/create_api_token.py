"""Create an API token and print its secret, alone on one line. It is never shown again."""

from django.core.management.base import BaseCommand, CommandError

from distribution.auth_tokens import api_token_create


class Command(BaseCommand):
    help = "Create a bearer token for the JSON API and print its secret once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="Who or what uses the token, e.g. 'telegram-bot'.")

    def handle(self, *args, name: str, **options) -> None:
        name = name.strip()
        if not name or len(name) > 100:
            raise CommandError("NAME must be 1 to 100 characters.")
        _token, secret = api_token_create(name=name)
        self.stdout.write(secret)
