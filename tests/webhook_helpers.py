"""What the webhook tests share: a receiver listening on 127.0.0.1 only, and a guard that
refuses (and records) any connection this test process tries to open off this machine, so
a webhook test cannot reach another host even when the code under test is wrong."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from run_helpers import poll


class Receiver:
    """Records POSTed JSON bodies (`raw`: the bytes as sent); answers with the queued status
    codes, then 200."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answers: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    receiver.received.append(
                        {
                            "path": self.path,
                            "headers": dict(self.headers),
                            "raw": body,
                            **json.loads(body),
                        }
                    )
                    code = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def for_run(self, run_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.received if r["run_id"] == run_id]

    async def wait_for(self, run_id: str, count: int = 1) -> list[dict[str, Any]]:
        async def fetch() -> list[dict[str, Any]]:
            return self.for_run(run_id)

        got: list[dict[str, Any]] = await poll(
            fetch, lambda r: len(r) >= count, timeout=10, what=f"{count} webhook(s)"
        )
        return got


@contextlib.contextmanager
def receiving() -> Iterator[Receiver]:
    rec = Receiver()
    rec._thread.start()
    try:
        yield rec
    finally:
        rec.httpd.shutdown()
        rec.httpd.server_close()


def _on_this_machine(address: Any) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX
        return True
    try:
        return ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def loopback_only() -> Iterator[list[Any]]:
    """Within the block, socket connects to non-loopback addresses fail and are listed;
    leaving the block fails the test if any was tried."""
    refused: list[Any] = []
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guard(real: Any) -> Any:
        def guarded(self: socket.socket, address: Any) -> Any:
            if not _on_this_machine(address):
                refused.append(address)
                raise ConnectionRefusedError(f"test guard: {address} is off this machine")
            return real(self, address)

        return guarded

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", guard(connect))
        mp.setattr(socket.socket, "connect_ex", guard(connect_ex))
        yield refused
    assert refused == [], f"connections off this machine were attempted: {refused}"
