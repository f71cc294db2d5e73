"""A real webhook receiver on 127.0.0.1 (http.server), scripted to fail before it succeeds."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hlskit.config import load_settings
from hlskit.notify import EVENT_ID_HEADER, SIGNATURE_HEADER, verify_signature

SECRET = "test-notify-secret-0123456789abcdef"


@dataclass
class Receiver:
    """Answers ``statuses`` in turn (then 200); keeps every request and the ids it accepted once."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    accepted: dict[str, dict] = field(default_factory=dict)  # event id → event, deduplicated
    processed: int = 0  # accepted deliveries acted upon
    gate: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    secret: str = SECRET

    def bodies(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]


def _handler(rx: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            rx.gate.wait(30)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with rx.lock:
                rx.requests.append({"headers": dict(self.headers), "body": body})
                status = rx.statuses.pop(0) if rx.statuses else 200
                # What a careful receiver does: check the signature, then drop repeats by id.
                if status == 200:
                    if not verify_signature(rx.secret, body, self.headers.get(SIGNATURE_HEADER)):
                        status = 401
                    elif self.headers[EVENT_ID_HEADER] not in rx.accepted:
                        rx.accepted[self.headers[EVENT_ID_HEADER]] = json.loads(body)
                        rx.processed += 1
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def receiver():
    rx = Receiver()
    rx.gate.set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rx))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    rx.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/hls?token=abc"
    yield rx
    rx.gate.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HLSKIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HLSKIT_NOTIFY_SECRET", SECRET)
    monkeypatch.delenv("HLSKIT_CONFIG", raising=False)
    return load_settings()
