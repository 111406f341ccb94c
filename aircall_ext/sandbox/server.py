"""``sandbox serve``: the sandbox app over real HTTP, with the standard library only.

One thread per request (so a slow fault does not stall other clients), a Common Log Format
access line per request on stderr (so tests can count requests), dropped connections for
the ``reset`` fault, and a clean stop on SIGINT/SIGTERM.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any, cast
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from aircall_ext.sandbox.app import AppliedWrite
from aircall_ext.sandbox.faults import ConnectionDropped
from aircall_ext.sandbox.store import StoreUnusable

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def clf_time(now: float) -> str:
    """``10/Oct/2000:13:55:36 +0000``, in UTC and independent of the locale."""
    t = time.gmtime(now)
    clock = time.strftime("%H:%M:%S", t)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{clock} +0000"


class AccessLog:
    """Writes whole lines to a stream, flushed, from any thread."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        stream = self._stream or sys.stderr
        with self._lock:
            stream.write(line + "\n")
            stream.flush()


class WriteLog:
    """JSON lines of every applied extension change, appended: the evidence for audits."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def __call__(self, write: AppliedWrite) -> None:
        with self._lock:
            self._file.write(json.dumps(write.as_json()) + "\n")
            self._file.flush()

    def close(self) -> None:
        self._file.close()


class _ServerHandler(ServerHandler):
    dropped = False

    def handle_error(self) -> None:
        """A :class:`ConnectionDropped` means: send nothing at all. A database no request can
        use is a 500 that says what is wrong with it, as JSON like every other answer."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionDropped):
            self.dropped = True
            return
        if isinstance(error, StoreUnusable):
            body = {
                "error": "Internal Server Error",
                "troubleshoot": f"{error}; retrying will not help: {error.hint}",
            }
            self.error_body = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.error_headers = [("Content-Type", "application/json; charset=utf-8")]
        super().handle_error()

    def log_exception(self, exc_info: Any) -> None:
        """One line for a known database problem; a traceback only for a bug."""
        error = exc_info[1]
        if isinstance(error, StoreUnusable):
            stream = self.get_stderr()
            stream.write(f"error: {error}\n")
            stream.flush()
            return
        super().log_exception(exc_info)


class _RequestHandler(WSGIRequestHandler):
    timeout = 10  # an idle or stalled client must not hold up the shutdown for long
    server: SandboxServer

    def handle(self) -> None:
        # A client that went away or stalled gets no answer and no traceback.
        with contextlib.suppress(TimeoutError, ConnectionError):
            self._handle_one()

    def _handle_one(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        stdout = cast("IO[bytes]", self.wfile)
        handler = _ServerHandler(
            self.rfile, stdout, self.get_stderr(), self.get_environ(), multithread=True
        )
        handler.request_handler = self  # type: ignore[attr-defined]  # wsgiref's back-pointer
        handler.run(self.server.get_app())  # type: ignore[arg-type]
        if handler.dropped:
            self.log_message('"%s" %s %s', self.requestline, "RESET", "-")
            # Linger 0: closing sends a TCP RST, like a gateway that drops the connection.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def log_message(self, format: str, *args: Any) -> None:
        line = f"{self.address_string()} - - [{clf_time(time.time())}] {format % args}"
        self.server.access_log(line)


class SandboxServer(socketserver.ThreadingMixIn, WSGIServer):
    """Threaded WSGI server; ``server_close`` waits for requests in flight."""

    daemon_threads = False
    block_on_close = True

    def __init__(
        self, host: str, port: int, app: WSGIApplication, access_log: Callable[[str], None]
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.access_log = access_log
        super().__init__((host.strip("[]"), port), _RequestHandler)
        self.set_app(app)

    def server_bind(self) -> None:
        """Like the stdlib's, minus its reverse-DNS lookup of the host (slow, pointless here)."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        self.access_log(f"{client_address[0]} - - error: {type(error).__name__}: {error}")

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), int(self.server_address[1])
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"


def serve_until_signalled(server: SandboxServer) -> str | None:
    """Serve until SIGINT or SIGTERM; returns the name of the signal that stopped it."""
    received: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        # shutdown() waits for serve_forever() to return, which runs in this very thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.server_close()
    return signal.Signals(received[0]).name if received else None
