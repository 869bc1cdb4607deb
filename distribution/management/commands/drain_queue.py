"""The safety sweep: assign every queued contact that can be assigned now.

Every write already drains the queue it makes room for, so on a healthy system this finds
nothing; it is the net under "no contact waits while an eligible operator has room" (I2 in
distribution/allocation.py). Idempotent, and safe while the app serves and while another
sweep runs: it locks what a registration locks, in the same order.
"""

from django.core.management.base import BaseCommand

from distribution import allocation


class Command(BaseCommand):
    help = "Assign queued contacts that an eligible operator with room can take now."

    def handle(self, *args, **options) -> None:
        assigned = allocation.drain_all()
        self.stdout.write(f"Assigned {assigned} queued contact(s).")
