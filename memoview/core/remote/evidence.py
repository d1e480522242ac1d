"""What a served system was asked and what it said: verbatim HTTP exchanges, hashed.

Every HTTP try (retries included) becomes an :class:`Exchange`: the exact
request body bytes memoview sent (JSON; the API key is only ever in the
``Authorization`` header, which is not kept), the exact response body bytes
the server returned, the status, the endpoint, the time, and the SHA-256 of
both bodies. Exchanges made while an attempt runs are collected by the
:class:`Collector` of the current capture scope and stored with the attempt
in the same transaction (``Case.record_attempt``), their hashes in the
attempt record and its audit entry.

Capture scopes are context-local. An engine that fans requests out to worker
threads takes :func:`current` in the calling thread and hands it to the
workers, so that every exchange lands with the attempt that caused it.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import threading
from dataclasses import dataclass
from typing import Any, Iterator, Optional


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and its response (or the failure to get one)."""

    seq: int  # order within its collector
    endpoint: str  # base URL
    model_id: str
    method: str  # GET | POST
    path: str  # URL path, e.g. /v1/completions
    purpose: str  # score | generate | chat | probe | tokenize
    request_body: bytes  # exactly what was sent (b"" for GET)
    response_body: bytes  # exactly what came back (b"" when nothing did)
    status: int  # HTTP status; 0 when no response (connection failure, timeout)
    error: str  # why the try failed, "" when it did not
    try_index: int  # 0 = first try, 1.. = retries
    started_at: str
    finished_at: str
    response_headers: tuple[tuple[str, str], ...] = ()  # identifying headers only (server, date, request id)

    @property
    def request_sha256(self) -> str:
        return sha256_bytes(self.request_body)

    @property
    def response_sha256(self) -> str:
        return sha256_bytes(self.response_body)

    def digest(self) -> dict[str, Any]:
        """The part of an exchange that goes into the attempt record and the audit log."""
        return {"seq": self.seq, "path": self.path, "status": self.status, "try": self.try_index,
                "request_sha256": self.request_sha256, "response_sha256": self.response_sha256}


class Collector:
    """Thread-safe list of the exchanges of one attempt (or one probe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Exchange] = []
        self._seq = 0

    def next_seq(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def add(self, exchange: Exchange) -> None:
        with self._lock:
            self._items.append(exchange)

    def drain(self) -> list[Exchange]:
        with self._lock:
            items, self._items = sorted(self._items, key=lambda e: e.seq), []
            return items

    def drain_since(self, started_at: str) -> list[Exchange]:
        """The exchanges started at or after ``started_at`` (an attempt's start), removed; older ones stay
        (they belong to an attempt that failed before it was recorded and are stored on their own)."""
        with self._lock:
            mine = [e for e in self._items if not started_at or e.started_at >= started_at]
            self._items = [e for e in self._items if started_at and e.started_at < started_at]
            return sorted(mine, key=lambda e: e.seq)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


_CURRENT: contextvars.ContextVar[Optional[Collector]] = contextvars.ContextVar("memoview_exchange_collector",
                                                                              default=None)


# Exchanges made outside any capture scope (a single-threaded GUI or CLI run) land here, and the next
# recorded attempt takes those made since its start. Concurrent runs use explicit scopes instead.
_FALLBACK = Collector()


def current() -> Optional[Collector]:
    return _CURRENT.get()


def active() -> Collector:
    """The collector requests made now belong to: the current scope's, else the process-wide fallback."""
    col = _CURRENT.get()
    return col if col is not None else _FALLBACK  # (an empty Collector is falsy: no `or` here)


@contextlib.contextmanager
def capture(collector: Optional[Collector] = None) -> Iterator[Collector]:
    """Collect the exchanges made inside the block (a fresh collector unless one is given)."""
    col = collector if collector is not None else Collector()
    token = _CURRENT.set(col)
    try:
        yield col
    finally:
        _CURRENT.reset(token)


def take_for_attempt(started_at: str) -> list[Exchange]:
    """What ``Case.record_attempt`` stores with an attempt: the current scope's exchanges since its start."""
    return active().drain_since(started_at)


def leftovers() -> list[Exchange]:
    """Exchanges of the active collector that no recorded attempt took (an attempt failed mid-request)."""
    return active().drain()


def summary(exchanges: list[Exchange]) -> dict[str, Any]:
    """What an attempt record says about its exchanges: count, per-exchange hashes, one combined hash."""
    digests = [e.digest() for e in exchanges]
    joined = "\n".join(f"{d['seq']} {d['request_sha256']} {d['response_sha256']}" for d in digests)
    return {"count": len(digests), "exchanges": digests,
            "combined_sha256": sha256_bytes(joined.encode("ascii"))}


__all__ = ["Collector", "Exchange", "active", "capture", "current", "leftovers", "sha256_bytes", "summary",
           "take_for_attempt"]
