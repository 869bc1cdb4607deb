"""A TCP proxy that a test can cut and restore: the database going away, on demand.

It forwards every connection to an upstream address. `cut()` drops every open
connection and closes each new one at once (what a client sees when the database
server or the network between goes away); `restore()` forwards again. It listens on the
same port throughout, so the clients' configuration never changes.
"""

import contextlib
import selectors
import socket
import threading
from types import TracebackType


class TcpProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._cut = False
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def __enter__(self) -> "TcpProxy":
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopped.set()
        self._listener.close()
        self._close_all()
        self._thread.join(timeout=5)

    def cut(self) -> None:
        with self._lock:
            self._cut = True
        self._close_all()

    def restore(self) -> None:
        with self._lock:
            self._cut = False

    def _close_all(self) -> None:
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                cut = self._cut
            if cut:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._open.update({client, server})
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()

    def _pipe(self, client: socket.socket, server: socket.socket) -> None:
        peer = {client: server, server: client}
        with selectors.DefaultSelector() as selector:
            try:
                selector.register(client, selectors.EVENT_READ)
                selector.register(server, selectors.EVENT_READ)
            except (ValueError, OSError):
                return
            while True:
                try:
                    events = selector.select(timeout=1)
                except (ValueError, OSError):
                    return
                if self._stopped.is_set() or client.fileno() < 0 or server.fileno() < 0:
                    break
                for key, _ in events:
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    try:
                        data = sock.recv(65536)
                        if not data:
                            raise ConnectionError
                        peer[sock].sendall(data)
                    except (OSError, ConnectionError):
                        with self._lock:
                            self._open.difference_update({client, server})
                        for s in (client, server):
                            with contextlib.suppress(OSError):
                                s.close()
                        return
