"""The worker: what time brings, every few seconds.

Each tick stores the shift state of operators whose working hours started or ended (and
drains the queue to those whose shift started), takes back the contacts that waited past
their source's response time and routes them again (services.contacts_time_out), then
runs the safety sweep (drain_queue).
Several workers may run at once: each step locks what it changes and skips what another
worker already did. `--once` runs one tick, for cron.
"""

import logging
import signal
import threading
from typing import NamedTuple

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections

from distribution import allocation, services
from distribution.actors import SYSTEM

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 5.0


class Tick(NamedTuple):
    shifts: int  # operators whose shift started or ended
    timed_out: int  # contacts taken back after their response time
    swept: int  # queued contacts the sweep assigned


def tick() -> Tick:
    """One round, as the system: shifts, response times, the sweep."""
    return Tick(
        services.operator_sync_shifts(actor=SYSTEM),
        services.contacts_time_out(actor=SYSTEM),
        allocation.drain_all(actor=SYSTEM),
    )


class Command(BaseCommand):
    help = "Apply shift starts and ends and sweep the queue, every few seconds (or --once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="Run one tick and exit.")
        parser.add_argument(
            "--interval",
            type=float,
            default=DEFAULT_INTERVAL_S,
            help=f"Seconds between ticks (default {DEFAULT_INTERVAL_S:g}).",
        )

    def handle(self, *args, once: bool, interval: float, **options) -> None:
        if not 0.1 <= interval <= 3600:
            raise CommandError("--interval must be between 0.1 and 3600 seconds.")
        if once:
            done = tick()
            self.stdout.write(
                f"Shifts changed: {done.shifts}; contacts timed out: {done.timed_out}; "
                f"queued contacts assigned: {done.swept}."
            )
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"Worker running every {interval:g} s; stop with Ctrl-C or SIGTERM.")
        while not stop.is_set():
            # A connection the database dropped (restart, outage) is replaced, not reused.
            close_old_connections()
            try:
                done = tick()
            except DatabaseError:
                # The database is away: say so and try again next tick, never die of it.
                logger.exception("worker tick failed; retrying in %g s", interval)
            else:
                if any(done):
                    logger.info(
                        "shifts changed: %d; contacts timed out: %d; queued contacts assigned: %d",
                        *done,
                    )
            stop.wait(interval)
        self.stdout.write("Worker stopped.")
