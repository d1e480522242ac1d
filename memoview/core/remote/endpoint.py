"""Where a served model lives and how memoview authenticates to it.

An :class:`Endpoint` is what the case stores about a server: its base URL,
the model id, the *name* of the environment variable (or keyring entry) the
API key comes from, and the client limits. The key itself is read at the
moment a request is sent and never enters a record, an exchange body, a log
line or an error message: it travels only in the ``Authorization`` header,
and exchange records keep no request headers at all.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any, Optional
from urllib.parse import urlsplit, urlunsplit

from memoview.core import errors

DEFAULT_KEY_ENV = "MEMOVIEW_API_KEY"
KEYRING_SERVICE = "memoview"


@dataclass(frozen=True)
class Endpoint:
    """One OpenAI-compatible server and the model id it serves."""

    base_url: str  # e.g. http://gpu-node-1:8000/v1 (the "/v1" is added when missing)
    model_id: str
    api_key_env: str = DEFAULT_KEY_ENV  # name of the variable; the value is never stored
    use_keyring: bool = True  # look in the OS keyring (service "memoview", user = base URL) when the variable is unset
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 300.0
    max_retries: int = 4  # retries after the first try, on 429 / 5xx / connection failures / timeouts
    backoff_s: float = 0.5  # first wait; doubled after each retry; Retry-After wins when the server sends it
    max_backoff_s: float = 30.0
    concurrency: int = 4  # requests in flight to this endpoint at once

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", normalize_base_url(self.base_url))
        if not self.model_id.strip():
            raise errors.ValidationError("A served model needs a model id.",
                                         "Give --model MODEL_ID (the id the server lists under /v1/models).")
        if self.concurrency < 1:
            raise errors.ValidationError(f"Concurrency must be at least 1 (got {self.concurrency}).")
        if self.max_retries < 0:
            raise errors.ValidationError(f"Retries must be 0 or more (got {self.max_retries}).")

    def url(self, path: str) -> str:
        """``path`` relative to the API root ("completions") or to the server root ("/version")."""
        if path.startswith("/"):
            parts = urlsplit(self.base_url)
            return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
        return f"{self.base_url}/{path}"

    @property
    def label(self) -> str:
        return f"{self.model_id} @ {self.base_url}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Endpoint":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def normalize_base_url(url: str) -> str:
    """``http(s)://host[:port][/prefix]/v1`` without a trailing slash; credentials in the URL are refused."""
    text = (url or "").strip()
    if not text:
        raise errors.ValidationError("A served model needs an endpoint URL.", "Give --endpoint http://HOST:PORT/v1.")
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.ValidationError(f"'{url}' is not an http(s) URL.", "Give --endpoint http://HOST:PORT/v1.")
    if parts.username or parts.password:
        raise errors.ValidationError(
            "The endpoint URL contains a user name or password; memoview would store it in the case.",
            f"Remove it from the URL and put the key in the environment variable {DEFAULT_KEY_ENV}.")
    if parts.query or parts.fragment:
        raise errors.ValidationError(
            f"The endpoint URL '{url}' has a query string; keys in URLs would end up in the case.",
            f"Give the bare URL and put the key in the environment variable {DEFAULT_KEY_ENV}.")
    path = parts.path.rstrip("/")
    if not path.endswith("/v1"):
        path = path + "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@dataclass(frozen=True)
class KeySource:
    """Where the key came from (stored in the case) — never the key."""

    kind: str  # "env" | "keyring" | "none"
    name: str  # the variable name or the keyring service/user


def resolve_api_key(endpoint: Endpoint) -> tuple[Optional[str], KeySource]:
    """The API key for ``endpoint`` and where it came from; (None, none) when no key is configured."""
    value = os.environ.get(endpoint.api_key_env, "")
    if value:
        return value, KeySource("env", endpoint.api_key_env)
    if endpoint.use_keyring:
        try:
            import keyring  # optional: only when installed
        except ImportError:
            return None, KeySource("none", "")
        try:
            stored: Optional[str] = keyring.get_password(KEYRING_SERVICE, endpoint.base_url)
        except Exception:  # a locked or absent keyring backend is the same as no key
            stored = None
        if stored:
            return stored, KeySource("keyring", f"{KEYRING_SERVICE}/{endpoint.base_url}")
    return None, KeySource("none", "")


def redact(text: str, secret: Optional[str]) -> str:
    """``text`` with every occurrence of the secret replaced (defence in depth for error messages)."""
    if secret and len(secret) >= 4:
        return text.replace(secret, "[API key removed]")
    return text


__all__ = ["DEFAULT_KEY_ENV", "Endpoint", "KeySource", "normalize_base_url", "redact", "resolve_api_key"]
