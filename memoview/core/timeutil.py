"""UTC timestamps in one format everywhere (ISO 8601, microseconds, 'Z')."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
