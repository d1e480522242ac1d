"""A small local OpenAI-shaped HTTP server that misbehaves on purpose (127.0.0.1 only).

The happy path of the server engine is tested against llama.cpp's real
server; the faults a real server shows only now and then (garbage bodies,
500s, 429s with Retry-After, answers slower than the timeout, refused keys)
are produced here on demand, because they cannot be provoked reliably from a
healthy server. Each request is counted so tests can check the retries.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional

Responder = Callable[[str, dict[str, Any], int], tuple[int, bytes, dict[str, str]]]


def completion(text: str = "ok") -> bytes:
    return json.dumps({"id": "cmpl-1", "object": "text_completion", "model": "m",
                       "choices": [{"index": 0, "text": text, "finish_reason": "length", "logprobs": None}],
                       "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}).encode()


class FaultServer:
    """``responder(path, body, count) -> (status, body bytes, headers)``; ``count`` is this path's call number."""

    def __init__(self, responder: Responder, api_key: Optional[str] = None, port: int = 0) -> None:
        self.responder = responder
        self.api_key = api_key
        self.calls: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = {"_raw": raw.decode("latin-1")}
                with server._lock:
                    server.calls.append((self.path, body, dict(self.headers)))
                    server._counts[self.path] = server._counts.get(self.path, 0) + 1
                    count = server._counts[self.path]
                if server.api_key is not None and self.headers.get("Authorization") != f"Bearer {server.api_key}":
                    status, out, headers = 401, b'{"error": {"message": "Invalid API key"}}', {}
                elif self.path == "/v1/models":
                    status, out, headers = 200, json.dumps({"object": "list", "data": [{"id": "m"}]}).encode(), {}
                else:
                    status, out, headers = server.responder(self.path, body, count)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(out)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(out)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "FaultServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def count(self, path: str) -> int:
        with self._lock:
            return self._counts.get(path, 0)


def slow(seconds: float, then: bytes = b"") -> Responder:
    def respond(path: str, body: dict[str, Any], count: int) -> tuple[int, bytes, dict[str, str]]:
        time.sleep(seconds)
        return 200, then or completion(), {}
    return respond


def openai_like(text_for: Callable[[dict[str, Any]], str] = lambda body: "a reply") -> Responder:
    """A minimal OpenAI-shaped server: completions and chat completions answer ``text_for(body)``; the
    vLLM / llama.cpp extras (``/version``, ``/props``, tokenize, prompt log-probs) are absent, as on a
    hosted API."""
    def respond(path: str, body: dict[str, Any], count: int) -> tuple[int, bytes, dict[str, str]]:
        if path == "/v1/completions":
            return 200, completion(text_for(body)), {}
        if path == "/v1/chat/completions":
            return 200, json.dumps({"id": "chat-1", "object": "chat.completion", "model": "m",
                                    "choices": [{"index": 0, "finish_reason": "stop",
                                                 "message": {"role": "assistant", "content": text_for(body)}}]}
                                   ).encode(), {}
        return 404, b'{"detail": "Not Found"}', {}
    return respond
