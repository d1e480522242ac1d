"""Exhibit content for attempts on a served model (a deployed system): identity and what it was sent and said.

Pure text and rows; ``sections/works.py`` and ``sections/front.py`` lay them out. The
request and response bodies are the stored bytes (pretty-printed JSON for
reading), each with the SHA-256 of the stored bytes, so the other side can
check them against the case (``memoview server exchanges CASE ID --out DIR``
writes the bytes out; ``sha256sum`` gives the same hashes).
"""

from __future__ import annotations

import json
from typing import Any, Optional, Sequence

MAX_BODY_CHARS = 4000
DEPLOYED_STATEMENT = ("Deployed system, identified by endpoint, model id and date; "
                      "weights not available to the examiner.")


def is_served(model_format: str) -> bool:
    return model_format == "openai"


def _pretty(raw: bytes) -> str:
    try:
        text = json.dumps(json.loads(raw.decode("utf-8")), indent=1, ensure_ascii=False)
    except (ValueError, UnicodeDecodeError):
        text = raw.decode("utf-8", errors="replace")
    if len(text) > MAX_BODY_CHARS:
        text = text[:MAX_BODY_CHARS] + f"\n[… {len(text) - MAX_BODY_CHARS:,} more characters; complete bytes in the case]"
    return text


IDENTITY_HASH_LABEL = "identity hash (endpoint, model id, date; not a hash of weights)"


def attempt_is_served(attempt: Any) -> bool:
    """Whether the attempt ran on a served model (its recorded engine is the OpenAI-compatible one)."""
    env = attempt.environment or {}
    return bool(env.get("server_exchanges")) or (env.get("engine_identity") or {}).get("engine") == "openai"


def model_row(attempt: Any) -> str:
    """The exhibit's per-attempt 'Model' value: a weight fingerprint for a local model; for a served one, what
    it is (a deployed system) and its identity hash, labelled as such (there are no weights to hash)."""
    spec = attempt.spec
    if not attempt_is_served(attempt):
        return f"model {spec.model_id}, fingerprint {spec.model_fingerprint}"
    return f"model {spec.model_id}: {DEPLOYED_STATEMENT} {IDENTITY_HASH_LABEL[0].upper()}{IDENTITY_HASH_LABEL[1:]}: " \
           f"{spec.model_fingerprint}"


def best_pz_bound(views: Sequence[Any]) -> Optional[float]:
    """The largest upper bound on log10 p_z over finished attempts whose p_z is only bounded (served models
    returning fewer top log-probs than the scheme's top-k), or None."""
    from memoview.core.extraction.pz_label import is_bound

    bounds: list[float] = []
    for v in views:
        a = v.attempt
        m = a.metrics or {}
        if a.status != "done" or not is_bound(m):
            continue
        ub = m.get("max_log10_pz_upper_bound" if a.spec.method == "sweep" else "log10_pz_upper_bound")
        if ub is not None:
            bounds.append(float(ub))
    return max(bounds) if bounds else None


def bound_cell(log10_bound: float) -> str:
    """'≤ 10^-3.2 (bound)': an upper bound, never written as a value."""
    from memoview.core.findings.stats import fmt_log10

    return f"\u2264 10^{fmt_log10(log10_bound)} (bound)"


def exchange_rows(attempt: Any) -> list[tuple[str, str]]:
    """Key-value rows: how many exchanges, their combined hash, where they went."""
    info = (attempt.environment or {}).get("server_exchanges") or {}
    ident = ((attempt.environment or {}).get("engine_identity") or {}).get("extra") or {}
    rows = [("Model identity", DEPLOYED_STATEMENT)]
    if ident:
        rows += [("Endpoint(s) / model id", f"{', '.join(ident.get('endpoints') or [])} / {ident.get('model_id', '?')}"),
                 ("Server (as it reported itself)", f"{ident.get('server_kind', '?')} {ident.get('server_version', '')}"
                  + (f"; system fingerprint {ident['system_fingerprint']}" if ident.get("system_fingerprint") else ""))]
    rows += [("Requests and responses stored", f"{info.get('count', 0):,} (verbatim, in the case; API key never stored)"),
             ("Combined SHA-256 of the exchanges", str(info.get("combined_sha256", "\u2013")))]
    return rows


def exchange_texts(rows: Sequence[dict[str, Any]], limit: int = 3) -> list[tuple[str, str]]:
    """(label, body text) for the first ``limit`` exchanges' request and response."""
    out: list[tuple[str, str]] = []
    for r in list(rows)[:limit]:
        when = str(r.get("started_at", ""))[:19].replace("T", " ")
        out.append((f"REQUEST #{r['seq']} \u2014 {r['method']} {r['path']} at {when} UTC",
                    f"to {r['endpoint']}\nSHA-256 of the stored bytes: {r['request_sha256']}\n\n"
                    + _pretty(r.get("request_body") or b"")))
        out.append((f"RESPONSE #{r['seq']} \u2014 status {r['status'] or r.get('error') or 'none'}",
                    f"SHA-256 of the stored bytes: {r['response_sha256']}\n\n" + _pretty(r.get("response_body") or b"")))
    return out


__all__ = ["DEPLOYED_STATEMENT", "exchange_rows", "exchange_texts", "is_served"]
