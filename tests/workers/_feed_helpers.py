"""Shared bits of the parser tests: fixture paths and a local HTTP server that records every request."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CONFORMANCE = FIXTURES / "conformance"
FEEDS = FIXTURES / "feeds"


def conformance(name: str) -> bytes:
    return (CONFORMANCE / name).read_bytes()


def feed(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[str]:
    """Serve ``server`` (bound to 127.0.0.1) from a thread; yield its base URL; shut it down after."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def recording_server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1; yields (base URL, list of request paths it received)."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            seen.append(self.path)
            body = b'<!ENTITY send "LEAKED-OVER-HTTP">'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as base:
        yield base, seen


class QuietHandler(BaseHTTPRequestHandler):
    """A local feed server's handler base: no request log, and ``_send`` for a status, a body, headers."""

    def log_message(self, *_args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
