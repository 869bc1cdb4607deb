"""The worker: what time brings, every few seconds.

Each tick stores the shift state of operators whose working hours started or ended (and
drains the queue to those whose shift started), then runs the safety sweep (drain_queue).
Several workers may run at once: each step locks what it changes and skips what another
worker already did. `--once` runs one tick, for cron.
"""

import logging
import signal
import threading

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections

from distribution import allocation, services

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 5.0


def tick() -> tuple[int, int]:
    """One round: (operators whose shift changed, contacts assigned by the sweep)."""
    return services.operator_sync_shifts(), allocation.drain_all()


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
            shifts, assigned = tick()
            self.stdout.write(f"Shifts changed: {shifts}; queued contacts assigned: {assigned}.")
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"Worker running every {interval:g} s; stop with Ctrl-C or SIGTERM.")
        while not stop.is_set():
            # A connection the database dropped (restart, outage) is replaced, not reused.
            close_old_connections()
            try:
                shifts, assigned = tick()
            except DatabaseError:
                # The database is away: say so and try again next tick, never die of it.
                logger.exception("worker tick failed; retrying in %g s", interval)
            else:
                if shifts or assigned:
                    logger.info(
                        "shifts changed: %d; queued contacts assigned: %d", shifts, assigned
                    )
            stop.wait(interval)
        self.stdout.write("Worker stopped.")
