"""The production log: every exhibit exported from a case.

Each export appends an ``exhibit.export`` entry to the case's hash-chained
audit log (see :mod:`.export`). This module reads those entries back as
plain records, so counsel can attach a list of what was produced: file
name, the PDF's SHA-256, the Bates range, the exhibit's printed date and
when it was exported. Nothing here writes to the case; the log is derived
from the audit chain, so it cannot drift from it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Sequence

from memoview.core.records import AuditEntry

EXPORT_EVENT = "exhibit.export"
PREVIEW_PREFIX = "PREVIEW-"  # previews logged by earlier versions (previews are no longer logged)


@dataclass(frozen=True)
class ExportRecord:
    """One exported exhibit, as the audit log recorded it."""

    seq: int  # the audit entry's sequence number (its place in the hash chain)
    exported_at: str  # UTC time of the export (audit entry time)
    file_name: str
    pdf_sha256: str
    pages: int
    bates_first: str
    bates_last: str
    exhibit_date: str  # the creation date printed in the exhibit
    exhibit_label: str  # e.g. "Exhibit 12"
    manifest_sha256: str
    run_id: str
    audit_entry_sha256: str
    is_preview: bool

    @property
    def bates_range(self) -> str:
        if not self.bates_first:
            return ""
        if self.bates_first == self.bates_last or not self.bates_last:
            return self.bates_first
        return f"{self.bates_first}\u2013{self.bates_last}"


def _record(entry: AuditEntry) -> ExportRecord:
    p: dict[str, Any] = entry.payload or {}
    options: dict[str, Any] = p.get("options") or {}
    label = f"{options.get('label', '') or ''} {options.get('number', '') or ''}".strip()
    try:
        pages = int(p.get("pages", 0) or 0)
    except (TypeError, ValueError):
        pages = 0
    return ExportRecord(
        seq=entry.seq, exported_at=entry.at, file_name=entry.subject, pdf_sha256=str(p.get("pdf_sha256", "")),
        pages=pages, bates_first=str(p.get("bates_first", "")), bates_last=str(p.get("bates_last", "")),
        exhibit_date=str(options.get("creation_date") or ""), exhibit_label=label,
        manifest_sha256=str(p.get("manifest_sha256", "")), run_id=str(p.get("run_id", "")),
        audit_entry_sha256=entry.hash, is_preview=entry.subject.startswith(PREVIEW_PREFIX),
    )


def exports_from_entries(entries: Iterable[AuditEntry], *, include_previews: bool = True) -> list[ExportRecord]:
    """The export records among audit entries, in the order they were made."""
    out = [_record(e) for e in entries if e.event == EXPORT_EVENT]
    return out if include_previews else [r for r in out if not r.is_preview]


def exports_log(case: Any, *, include_previews: bool = True) -> list[ExportRecord]:
    """Every export of ``case`` (a :class:`memoview.core.case.Case`), oldest first."""
    return exports_from_entries(case.audit_entries(), include_previews=include_previews)


def to_json(records: Sequence[ExportRecord]) -> str:
    """Machine-readable log: one object per export, with the Bates range spelled out."""
    rows = [dict(asdict(r), bates_range=r.bates_range) for r in records]
    return json.dumps(rows, indent=2, ensure_ascii=False)


def to_text(records: Sequence[ExportRecord], case_name: str = "") -> str:
    """A plain table for a terminal or a production cover letter (full SHA-256, no truncation)."""
    if not records:
        return f"No exhibit has been exported from {case_name or 'this case'} yet."
    lines = [f"Exports of {case_name}" if case_name else "Exports", ""]
    for r in records:
        kind = " (preview, not for filing)" if r.is_preview else ""
        lines.append(f"{r.file_name}{kind}")
        lines.append(f"  exported (UTC)   {r.exported_at[:19].replace('T', ' ')}")
        if r.exhibit_label:
            lines.append(f"  exhibit          {r.exhibit_label}")
        lines.append(f"  exhibit date     {r.exhibit_date or '-'}")
        lines.append(f"  Bates range      {r.bates_range or '(no Bates numbers)'} ({r.pages} page{'s' if r.pages != 1 else ''})")
        lines.append(f"  PDF SHA-256      {r.pdf_sha256}")
        lines.append(f"  manifest SHA-256 {r.manifest_sha256}")
        lines.append(f"  audit entry      #{r.seq} {r.audit_entry_sha256}")
        lines.append("")
    previews = sum(r.is_preview for r in records)
    lines.append(f"{len(records) - previews} export(s)" + (f" and {previews} preview(s)" if previews else "")
                 + "; each is an entry in the case's hash-chained audit log ('memoview case verify' checks it).")
    return "\n".join(lines)
