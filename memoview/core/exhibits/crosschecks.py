"""Cross-engine checks in an exhibit: which recorded checks belong to it, and what they add to the manifest.

A cross-engine check (:mod:`memoview.core.crosscheck`) is stored as an audit
entry ``crosscheck.record`` on its attempt. An exhibit lists every such check
of the attempts it covers, taken from the same audit entries the manifest's
audit head is computed from (``ExhibitData.audit_entries``), so the appendix
can never show a check the manifest does not bind. The manifest names each
check by its audit sequence number and entry hash; a case without checks
gives the same manifest (and the same bytes) as before this appendix existed.
Drawing lives in :mod:`.sections.crosschecks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from memoview.core.crosscheck import EVENT


@dataclass(frozen=True)
class RecordedCheck:
    """One cross-engine check as the exhibit shows it: the audit entry that holds it, and its figures."""

    seq: int
    at: str
    entry_sha256: str
    attempt_id: int
    payload: dict[str, Any]


def _attempt_id(subject: str) -> int:
    try:
        return int(subject.split(":", 1)[1])
    except (IndexError, ValueError):
        return -1


def checks_for(entries: Iterable[Any], attempt_ids: Iterable[int]) -> list[RecordedCheck]:
    """The recorded checks of ``attempt_ids`` among the audit ``entries``, by attempt then in the order recorded."""
    wanted = set(attempt_ids)
    found = [RecordedCheck(int(e.seq), str(e.at), str(e.hash), _attempt_id(e.subject), dict(e.payload))
             for e in entries if e.event == EVENT and _attempt_id(e.subject) in wanted]
    return sorted(found, key=lambda c: (c.attempt_id, c.seq))


def manifest_part(entries: Iterable[Any], attempt_ids: Iterable[int]) -> dict[str, Any]:
    """``{"crosschecks": [...]}`` for the manifest, or ``{}`` when there are none (older manifests unchanged)."""
    checks = checks_for(entries, attempt_ids)
    if not checks:
        return {}
    return {"crosschecks": [{"attempt_id": c.attempt_id, "audit_seq": c.seq, "entry_sha256": c.entry_sha256}
                            for c in checks]}


__all__ = ["RecordedCheck", "checks_for", "manifest_part"]
