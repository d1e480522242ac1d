"""Why an attempt has nothing to align, said precisely (the comparison view and the exhibit share it).

"No output or no source document" leaves the reader guessing which; a served
chat that answered with an empty reply is a finding in itself (a deployed
system may return nothing, e.g. a filter), so the sentence names what is
missing and, for a served model, where the stored response is.
"""

from __future__ import annotations

from typing import Any, Optional


def _served(attempt: Any) -> bool:
    env = attempt.environment or {}
    return bool(env.get("server_exchanges")) or (env.get("engine_identity") or {}).get("engine") == "openai"


def missing_output(attempt: Any) -> str:
    """What the attempt's missing output is: failed before answering, an empty reply, or an empty output."""
    if attempt.status == "failed":
        return f"the attempt failed before any output ({attempt.error or 'no error recorded'})"
    if attempt.status == "cancelled":
        return "the attempt was cancelled before any output"
    finish = (attempt.metrics or {}).get("finish_reason")
    if _served(attempt):
        who = "the served model's reply was empty"
        if finish and finish != "None":
            who += f" (finish reason '{finish}')"
        return who + "; its stored response is under 'Exchanges with the server'"
    return "the model produced no output (an empty text)"


def nothing_to_align(attempt: Any, document: Optional[Any]) -> str:
    """'Nothing to align: …' naming what is missing: the output, the source document, or both."""
    has_output = bool(attempt.output_text)
    if document is None and not has_output:
        return f"Nothing to align: {missing_output(attempt)}, and the attempt is tied to no source document."
    if document is None:
        return ("Nothing to align: the attempt is tied to no source document (a free or chat prompt run without "
                "'compare against a work').")
    return f"Nothing to align: {missing_output(attempt)}."


__all__ = ["missing_output", "nothing_to_align"]
