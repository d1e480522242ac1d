"""HTTP client for OpenAI-compatible servers: limits, retries, verbatim evidence, one error per failure.

* Request bodies are serialized once by memoview (JSON, sorted keys) and those
  exact bytes are sent and recorded; the response bytes are recorded as
  received. The API key is sent only in the ``Authorization`` header, which is
  never recorded.
* Retries with exponential backoff on 429, 500, 502, 503, 504, connection
  failures and timeouts (``Retry-After`` is honoured, capped); every try is
  an exchange of its own, so a retried request leaves its failures on record.
* A per-endpoint semaphore caps the requests in flight to one server, shared
  by every client of that base URL in the process.
* Every failure ends in one :class:`~memoview.core.errors.ServerError`
  subclass whose message names the endpoint and what to do.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable, Optional

from memoview.core import errors
from memoview.core.remote import evidence
from memoview.core.remote.endpoint import Endpoint, redact, resolve_api_key
from memoview.core.timeutil import utc_now

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
KEPT_HEADERS = ("server", "date", "x-request-id", "openai-version", "openai-model", "x-vllm-version")
MAX_ERROR_TEXT = 300

_SEMAPHORES: dict[str, threading.BoundedSemaphore] = {}
_SEM_LOCK = threading.Lock()


def endpoint_semaphore(endpoint: Endpoint) -> threading.BoundedSemaphore:
    """The one semaphore for this base URL (its size is the first client's concurrency)."""
    with _SEM_LOCK:
        sem = _SEMAPHORES.get(endpoint.base_url)
        if sem is None:
            sem = threading.BoundedSemaphore(endpoint.concurrency)
            _SEMAPHORES[endpoint.base_url] = sem
        return sem


def encode_body(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _server_message(raw: bytes) -> str:
    """The error text a server put in its body (OpenAI ``{"error": {"message"}}``, FastAPI ``detail``)."""
    try:
        data = json.loads(raw.decode("utf-8", errors="replace"))
    except (ValueError, UnicodeDecodeError):
        return raw[:MAX_ERROR_TEXT].decode("utf-8", errors="replace").strip()
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:MAX_ERROR_TEXT]
        if isinstance(err, str):
            return err[:MAX_ERROR_TEXT]
        detail = data.get("detail") or data.get("message")
        if detail:
            return (detail if isinstance(detail, str) else json.dumps(detail))[:MAX_ERROR_TEXT]
    return json.dumps(data)[:MAX_ERROR_TEXT]


def classify_http_error(endpoint: Endpoint, path: str, status: int, raw: bytes) -> errors.ServerError:
    """The error for a non-retried (or retried-out) HTTP status, naming the endpoint and what to do."""
    where = f"{endpoint.base_url} ({path})"
    msg = _server_message(raw)
    low = msg.lower()
    if status in (401, 403):
        return errors.ServerAuthError(
            f"The server at {where} refused the request ({status}: {msg or 'unauthorized'}).",
            f"Put the API key in the environment variable {endpoint.api_key_env} (or the OS keyring) and retry.")
    context_words = ("context length", "context window", "maximum context", "too long", "exceed context",
                     "max_model_len", "maximum model length", "prompt is too long")
    if any(w in low for w in context_words):
        return errors.ServerContextTooLongError(
            f"The request is longer than the served model's context ({where}: {msg}).",
            "Use a shorter prefix and suffix, or a server started with a longer context.")
    if ("model" in low and any(w in low for w in ("not found", "does not exist", "unknown", "not served"))) \
            or (status == 404 and "model" in low):
        return errors.ServerModelNotFoundError(
            f"The server at {endpoint.base_url} does not serve the model '{endpoint.model_id}' ({msg}).",
            "Give the id the server lists under /v1/models (memoview model test-server shows them).")
    if status in (404, 405, 501):
        return errors.ServerFeatureError(
            f"The server at {endpoint.base_url} has no {path} ({status}{': ' + msg if msg else ''}).",
            "Use a server that implements the OpenAI completions and chat completions API.")
    if status == 429:
        return errors.ServerBusyError(
            f"The server at {where} kept answering 429 (too many requests) after {endpoint.max_retries} retries.",
            "Lower --concurrency, wait, or raise the server's rate limit; the case can be resumed.")
    if status >= 500:
        return errors.ServerBusyError(
            f"The server at {where} failed with {status} after {endpoint.max_retries} retries"
            f"{': ' + msg if msg else ''}.",
            "Check the server's log; completed attempts are saved and the run can be resumed.")
    return errors.ServerResponseError(f"The server at {where} rejected the request ({status}: {msg}).",
                                      "Check the model id and parameters; the request is stored in the case.")


class HttpClient:
    """Synchronous, thread-safe client for one endpoint."""

    def __init__(self, endpoint: Endpoint, *, sleep: Callable[[float], None] = time.sleep) -> None:
        import httpx

        self.endpoint = endpoint
        self._httpx = httpx
        self._sleep = sleep
        self._sem = endpoint_semaphore(endpoint)
        self._key, self.key_source = resolve_api_key(endpoint)
        headers = {"Content-Type": "application/json", "User-Agent": _user_agent()}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        timeout = httpx.Timeout(endpoint.read_timeout_s, connect=endpoint.connect_timeout_s)
        limits = httpx.Limits(max_connections=max(1, endpoint.concurrency),
                              max_keepalive_connections=max(1, endpoint.concurrency))
        self._client = httpx.Client(headers=headers, timeout=timeout, limits=limits, trust_env=False)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ requests
    def post(self, path: str, body: dict[str, Any], purpose: str,
             collector: Optional[evidence.Collector] = None) -> tuple[dict[str, Any], evidence.Exchange]:
        return self._request("POST", path, encode_body(body), purpose, collector)

    def get(self, path: str, purpose: str, collector: Optional[evidence.Collector] = None
            ) -> tuple[dict[str, Any], evidence.Exchange]:
        return self._request("GET", path, b"", purpose, collector)

    def _request(self, method: str, path: str, content: bytes, purpose: str,
                 collector: Optional[evidence.Collector]) -> tuple[dict[str, Any], evidence.Exchange]:
        col = collector if collector is not None else evidence.active()
        url = self.endpoint.url(path)
        url_path = self._httpx.URL(url).path
        delay = self.endpoint.backoff_s
        last_error: Optional[errors.ServerError] = None
        for try_index in range(self.endpoint.max_retries + 1):
            started = utc_now()
            status, raw, failure = 0, b"", ""
            headers: tuple[tuple[str, str], ...] = ()
            retry_after: Optional[float] = None
            with self._sem:
                try:
                    resp = self._client.request(method, url, content=content if method == "POST" else None)
                    status, raw = resp.status_code, resp.content
                    headers = tuple((k, resp.headers[k]) for k in KEPT_HEADERS if k in resp.headers)
                    retry_after = _retry_after(resp.headers.get("retry-after"))
                except self._httpx.TimeoutException as exc:
                    failure = f"timeout ({type(exc).__name__})"
                    last_error = errors.ServerTimeoutError(
                        f"The server at {self.endpoint.base_url} did not answer {url_path} within "
                        f"{self.endpoint.read_timeout_s:g} s (tried {try_index + 1} times).",
                        "Raise the timeout, lower --concurrency, or check the server's load; the run can be resumed.")
                except self._httpx.TransportError as exc:
                    failure = f"no connection ({type(exc).__name__}: {redact(str(exc), self._key)[:MAX_ERROR_TEXT]})"
                    last_error = errors.ServerUnreachableError(
                        f"The server at {self.endpoint.base_url} cannot be reached "
                        f"({type(exc).__name__}; tried {try_index + 1} times).",
                        "Check that the server is running and the URL is right; completed attempts are saved "
                        "and the run can be resumed.")
            exchange = evidence.Exchange(
                seq=col.next_seq() if col is not None else 0, endpoint=self.endpoint.base_url,
                model_id=self.endpoint.model_id, method=method, path=url_path, purpose=purpose,
                request_body=content, response_body=raw, status=status, error=failure, try_index=try_index,
                started_at=started, finished_at=utc_now(), response_headers=headers)
            if status and status not in RETRY_STATUS and 200 <= status < 300:
                try:
                    data = json.loads(raw.decode("utf-8"))
                    if not isinstance(data, dict):
                        raise ValueError("not a JSON object")
                except (ValueError, UnicodeDecodeError) as exc:
                    bad = _with_error(exchange, f"unreadable response body ({exc})")
                    if col is not None:
                        col.add(bad)
                    raise errors.ServerResponseError(
                        f"The server at {self.endpoint.base_url} answered {url_path} with something that is not "
                        f"JSON ({len(raw):,} bytes, starting {raw[:40]!r}).",
                        "Check that the URL points at an OpenAI-compatible API; the response is stored in the case."
                    ) from exc
                if col is not None:
                    col.add(exchange)
                return data, exchange
            if status:
                exchange = _with_error(exchange, f"HTTP {status}")
            if col is not None:
                col.add(exchange)
            if status and status not in RETRY_STATUS:
                raise classify_http_error(self.endpoint, url_path, status, raw)
            if status:
                last_error = classify_http_error(self.endpoint, url_path, status, raw)
            if try_index == self.endpoint.max_retries:
                break
            wait = retry_after if retry_after is not None else delay
            self._sleep(min(self.endpoint.max_backoff_s, max(0.0, wait)))
            delay *= 2
        assert last_error is not None
        raise last_error


def _with_error(exchange: evidence.Exchange, error: str) -> evidence.Exchange:
    from dataclasses import replace

    return replace(exchange, error=error)


def _retry_after(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _user_agent() -> str:
    from memoview import __version__

    return f"memoview/{__version__}"


__all__ = ["HttpClient", "classify_http_error", "encode_body", "endpoint_semaphore"]
