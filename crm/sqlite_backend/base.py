"""
Django's SQLite backend with a write queue: writers wait their turn on a lock of our own
instead of in SQLite's busy handler.

Every transaction here begins IMMEDIATE (crm/settings.py), so it takes SQLite's write lock
at BEGIN. When another writer holds it, SQLite's busy handler sleeps and polls (1, 2, 5,
10, 15, 20, 25, 25, 25, 50, 50, 100 ms...): the lock is often free while the waiters
sleep, and a writer that has waited long sleeps longest. Under load that wastes the
database's only write slot and stretches p95 (bench/, goal 4 of issue 13).

So, before BEGIN IMMEDIATE, a transaction takes the write queue, and gives it back when it
commits, rolls back or its connection closes:

* a threading lock per database file, for the threads of one process;
* then an exclusive `flock` on `<database>-writelock`, for the processes (gunicorn's
  workers, the worker command, management commands). The kernel wakes a waiter the moment
  the holder lets go, and drops the lock of a process that dies (a killed worker cannot
  leave it held).

Waiting is bounded by the same busy timeout (OPTIONS["timeout"]): past it the
transaction fails with OperationalError "database is locked", a 503, as before. Writers
that bypass Django (or autocommit writes outside a transaction) still meet SQLite's busy
handler, which keeps everything correct: the queue only orders Django's transactions.

OPTIONS["write_queue"] = False (SQLITE_WRITE_QUEUE=0) turns it off, for comparison.
"""

import contextlib
import fcntl
import os
import threading
import time
from typing import Any

from django.db.backends.sqlite3 import base, creation

# django-stubs leave out the private hooks overridden below (_commit, _rollback, _close,
# _start_transaction_under_autocommit, _destroy_test_db): the bases are typed as Any.
_Creation: Any = creation.DatabaseCreation
_Wrapper: Any = base.DatabaseWrapper

_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


def lock_path(database: str) -> str:
    return f"{database}-writelock"


def _thread_lock(path: str) -> threading.Lock:
    with _thread_locks_guard:
        return _thread_locks.setdefault(path, threading.Lock())


def _flock(path: str, timeout: float) -> int | None:
    """An open descriptor of `path` holding its exclusive flock, or None after `timeout`.

    flock has no timeout of its own: when the lock is taken, a helper thread waits for it,
    and gives it straight back if we stopped waiting first."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        pass
    except BaseException:
        os.close(fd)
        raise
    got = threading.Event()
    guard = threading.Lock()
    gave_up = False

    def wait() -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        finally:
            with guard:
                if gave_up:
                    os.close(fd)  # Closing lets the lock go.
                else:
                    got.set()

    threading.Thread(target=wait, name="sqlite-write-queue", daemon=True).start()
    if got.wait(timeout):
        return fd
    with guard:
        if got.is_set():
            return fd
        gave_up = True
    return None


class WriteTurn:
    """This connection's place at the head of the write queue, while it holds it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: int | None = None
        self.thread_lock: threading.Lock | None = None

    def take(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        thread_lock = _thread_lock(self.path)
        if not thread_lock.acquire(timeout=max(timeout, 0)):
            return False
        try:
            fd = _flock(self.path, max(deadline - time.monotonic(), 0))
        except BaseException:
            thread_lock.release()
            raise
        if fd is None:
            thread_lock.release()
            return False
        self.fd, self.thread_lock = fd, thread_lock
        return True

    def give_back(self) -> None:
        fd, thread_lock = self.fd, self.thread_lock
        self.fd = self.thread_lock = None
        if fd is not None:
            os.close(fd)  # Closing the descriptor releases its flock.
        if thread_lock is not None:
            thread_lock.release()


class DatabaseCreation(_Creation):
    def _destroy_test_db(self, test_database_name: str, verbosity: int) -> None:
        super()._destroy_test_db(test_database_name, verbosity)
        if test_database_name and not self.is_in_memory_db(test_database_name):
            with contextlib.suppress(FileNotFoundError):
                os.remove(lock_path(test_database_name))


class DatabaseWrapper(_Wrapper):
    creation_class = DatabaseCreation

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._write_turn: WriteTurn | None = None
        self.write_queue = False

    def get_connection_params(self) -> dict:
        params = super().get_connection_params()
        self.write_queue = params.pop("write_queue", True) and not self.is_in_memory_db()
        return params

    def _start_transaction_under_autocommit(self) -> None:
        self.ensure_connection()  # get_connection_params() reads the option.
        if not self.write_queue or self.transaction_mode is None:
            # No queue, or a deferred BEGIN that takes no write lock until it writes.
            super()._start_transaction_under_autocommit()
            return
        turn = WriteTurn(lock_path(self.settings_dict["NAME"]))
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        if not turn.take(timeout):
            with self.wrap_database_errors:
                raise self.Database.OperationalError(
                    f"database is locked (waited {timeout:g} s in the write queue)"
                )
        self._write_turn = turn
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._give_back()
            raise

    def _give_back(self) -> None:
        turn, self._write_turn = self._write_turn, None
        if turn is not None:
            turn.give_back()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            # A failed COMMIT is followed by Django's rollback; SQLite has ended the
            # transaction either way once the call returns or raises.
            if not (self.connection is not None and self.connection.in_transaction):
                self._give_back()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._give_back()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._give_back()
