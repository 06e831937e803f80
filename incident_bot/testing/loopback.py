"""The skeleton the loopback fakes (``FakeSlack``, ``FakeTwilio``) share: a threading HTTP
server on 127.0.0.1 at a free port, served from a daemon thread, started and stopped as a
context manager; and reading a request's body and answering it with JSON."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: with more concurrent senders than that, the
    # kernel drops new connections' SYNs and clients retry a second later, so a 150 ms fake
    # answered in over a second (found by bench/sms_throughput.py). A real server's is larger.
    request_queue_size = 128


class LoopbackServer:
    """Subclasses say which request handler serves them (``_handler_class``), the name of the
    serving thread and how often it polls for shutdown. Stopped and started again, a server
    listens on the port it had (a service coming back at the same address)."""

    thread_name = "loopback"
    poll_interval = 0.5  # seconds: the longest ``stop`` waits for the serving loop to notice

    def __init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0  # 0: any free port, the first time

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        server = _Server(("127.0.0.1", self._port), self._handler_class())
        server.daemon_threads = True
        self._port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever,
                                        args=(self.poll_interval,), name=self.thread_name,
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def read_body(handler: BaseHTTPRequestHandler) -> str:
    """The request's body as text (empty without a Content-Length)."""
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length).decode("utf-8") if length else ""


def send_json(handler: BaseHTTPRequestHandler, status: int, body: Any,
              headers: Mapping[str, str], content_type: str = "application/json") -> None:
    """Answer with ``body`` as JSON, with ``headers`` besides Content-Type and -Length."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)
