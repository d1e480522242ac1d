"""The HTTP client against faults: garbage, 500, 429, slow answers, refused keys, a dead port.

These use tests/support/fault_server.py, a small local server on 127.0.0.1
that misbehaves on purpose (a real server cannot be made to fail on
demand); the happy path runs against llama.cpp's real server in
test_server_llamacpp.py. Backoff sleeps are recorded instead of slept, so
the tests are quick; no test asserts a duration.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from memoview.core import errors
from memoview.core.remote import evidence
from memoview.core.remote.client import HttpClient
from memoview.core.remote.endpoint import Endpoint, normalize_base_url
from tests.support.fault_server import FaultServer, completion, slow

KEY = "sk-test-SECRET-7f3a9c"


def _client(url: str, sleeps: list[float], **kw: Any) -> HttpClient:
    ep = Endpoint(base_url=url, model_id="m", api_key_env="MEMOVIEW_TEST_KEY", use_keyring=False,
                  backoff_s=0.01, **kw)
    return HttpClient(ep, sleep=sleeps.append)


def test_retries_500_then_succeeds_and_keeps_every_try(monkeypatch: pytest.MonkeyPatch) -> None:
    def respond(path: str, body: dict, count: int) -> tuple[int, bytes, dict[str, str]]:
        return (500, b'{"error": {"message": "boom"}}', {}) if count < 3 else (200, completion("fine"), {})

    sleeps: list[float] = []
    with FaultServer(respond) as srv, _client(srv.url, sleeps) as client, evidence.capture() as col:
        data, ex = client.post("completions", {"model": "m", "prompt": "x"}, "generate")
    assert data["choices"][0]["text"] == "fine"
    assert srv.count("/v1/completions") == 3
    tries = col.drain()
    assert [t.status for t in tries] == [500, 500, 200] and [t.try_index for t in tries] == [0, 1, 2]
    assert tries[0].response_body == b'{"error": {"message": "boom"}}'  # failures are evidence too
    assert json.loads(tries[2].request_body) == {"model": "m", "prompt": "x"}
    assert sleeps == [0.01, 0.02]


def test_429_honours_retry_after_then_gives_a_clear_error() -> None:
    def respond(path: str, body: dict, count: int) -> tuple[int, bytes, dict[str, str]]:
        return 429, b'{"error": {"message": "rate limited"}}', {"Retry-After": "2"}

    sleeps: list[float] = []
    with FaultServer(respond) as srv, _client(srv.url, sleeps, max_retries=2) as client:
        with pytest.raises(errors.ServerBusyError, match="429") as info:
            client.post("completions", {"model": "m", "prompt": "x"}, "generate")
    assert srv.count("/v1/completions") == 3
    assert sleeps == [2.0, 2.0]
    assert "resumed" in info.value.hint


def test_garbage_body_is_a_response_error_and_is_stored() -> None:
    def respond(path: str, body: dict, count: int) -> tuple[int, bytes, dict[str, str]]:
        return 200, b"<html>proxy error \x00\xff</html>", {}

    with FaultServer(respond) as srv, _client(srv.url, []) as client, evidence.capture() as col:
        with pytest.raises(errors.ServerResponseError, match="not JSON"):
            client.post("completions", {"model": "m", "prompt": "x"}, "generate")
    (stored,) = col.drain()
    assert stored.response_body == b"<html>proxy error \x00\xff</html>"
    assert stored.error.startswith("unreadable response body")
    assert srv.count("/v1/completions") == 1  # garbage is not retried


def test_slow_answer_times_out_with_retries() -> None:
    sleeps: list[float] = []
    with FaultServer(slow(1.5)) as srv, _client(srv.url, sleeps, read_timeout_s=0.3, max_retries=1) as client, \
            evidence.capture() as col:
        with pytest.raises(errors.ServerTimeoutError, match="did not answer"):
            client.post("completions", {"model": "m", "prompt": "x"}, "generate")
    tries = col.drain()
    assert [t.status for t in tries] == [0, 0] and all("timeout" in t.error for t in tries)


def test_unreachable_port_is_a_clear_error() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with _client(f"http://127.0.0.1:{port}/v1", [], max_retries=1) as client:
        with pytest.raises(errors.ServerUnreachableError, match="cannot be reached") as info:
            client.get("models", "probe")
    assert "running" in info.value.hint


def test_wrong_key_is_an_auth_error_and_the_key_is_never_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMOVIEW_TEST_KEY", "wrong-key-123456")
    with FaultServer(lambda p, b, c: (200, completion(), {}), api_key=KEY) as srv, _client(srv.url, []) as client, \
            evidence.capture() as col:
        with pytest.raises(errors.ServerAuthError) as info:
            client.post("completions", {"model": "m", "prompt": "x"}, "generate")
        assert "MEMOVIEW_TEST_KEY" in info.value.hint
        monkeypatch.setenv("MEMOVIEW_TEST_KEY", KEY)
        with _client(srv.url, []) as good:
            good.post("completions", {"model": "m", "prompt": "x"}, "generate")
        assert srv.calls[-1][2]["Authorization"] == f"Bearer {KEY}"  # the key went in the header only
    for ex in col.drain():
        blob = ex.request_body + ex.response_body + repr(ex).encode()
        assert KEY.encode() not in blob and b"wrong-key-123456" not in blob


@pytest.mark.parametrize("status,message,error", [
    (400, "This model's maximum context length is 2048 tokens", errors.ServerContextTooLongError),
    (404, "The model `x` does not exist.", errors.ServerModelNotFoundError),
    (404, "Not Found", errors.ServerFeatureError),
    (400, "bad parameter", errors.ServerResponseError),
])
def test_http_errors_map_to_one_clear_error_each(status: int, message: str, error: type) -> None:
    body = json.dumps({"error": {"message": message}}).encode()
    with FaultServer(lambda p, b, c: (status, body, {})) as srv, _client(srv.url, []) as client:
        with pytest.raises(error):
            client.post("completions", {"model": "m", "prompt": "x"}, "generate")
        assert srv.count("/v1/completions") == 1  # 4xx are not retried


def test_endpoint_urls_are_normalised_and_credentials_refused() -> None:
    assert normalize_base_url("127.0.0.1:8000") == "http://127.0.0.1:8000/v1"
    assert normalize_base_url("https://h.example/api/v1/") == "https://h.example/api/v1"
    with pytest.raises(errors.ValidationError, match="user name or password"):
        normalize_base_url("http://user:pw@h.example/v1")
    with pytest.raises(errors.ValidationError, match="query string"):
        normalize_base_url("http://h.example/v1?api_key=abc")


def test_concurrency_limit_is_per_endpoint() -> None:
    import threading
    import time

    active = {"now": 0, "max": 0}
    lock = threading.Lock()

    def respond(path: str, body: dict, count: int) -> tuple[int, bytes, dict[str, str]]:
        with lock:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
        time.sleep(0.05)
        with lock:
            active["now"] -= 1
        return 200, completion(), {}

    with FaultServer(respond) as srv, _client(srv.url, [], concurrency=2) as client:
        threads = [threading.Thread(target=client.post, args=("completions", {"model": "m"}, "generate"))
                   for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert srv.count("/v1/completions") == 8
    assert active["max"] <= 2
