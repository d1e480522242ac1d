"""The words a finished job is reported in: verification, a protocol run, an import, a model's facts.

Plain functions from a core result to text (no widgets), so the wording can be read and changed in
one place; the window shows the text in a message box or the status bar.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from memoview.core.errors import MemoviewError


def verification_text(result: Any) -> tuple[bool, str]:
    """(all well, the message) for a ``core/verification.py::verify_fully`` result."""
    from memoview.core.integrity import report_notes

    report = result.case
    ok = bool(result.ok)
    if result.ok:
        text = (f"The case verified: {report.audit_entries} audit entries in an unbroken hash chain, "
                f"{report.documents_checked} documents and {report.attempts_checked} attempts match "
                "what was logged.")
        if result.models_checked is not None:
            text += f"\n\nModel files: {result.models_checked} model(s) re-read byte for byte; all match."
        if result.reruns is not None:
            text += (f"\n\nRe-runs: {len(result.reruns)} attempt(s) re-run on this machine, all matching "
                     "the record (greedy and beam outputs token for token, sweeps window by window).")
    elif result.cancelled and not report.problems:
        text = "Verification was cancelled before it finished; nothing was found wrong up to that point."
    else:
        text = "Verification found problems:\n\n" + "\n".join(f"• {p}" for p in report.problems)
    return ok, text + report_notes(report)


def protocol_text(counts: dict[str, Any]) -> str:
    """The status line after a protocol ran (``gui/engine.py::run_protocol_job``'s counts)."""
    if counts["attempts_run"] == 0 and counts["attempts_skipped"] == counts["attempts_planned"]:
        return f"All {counts['attempts_planned']} planned attempts are already in the case; nothing to run."
    return (f"Protocol {counts['protocol_id']}: {counts['attempts_run']} attempts run, "
            f"{counts['attempts_skipped']} already in the case.")


def import_text(report: Any) -> tuple[str, Optional[MemoviewError]]:
    """The status line after an import, and the error listing the files not imported (each with its reason)."""
    imported = list(getattr(report, "imported", []))
    failed = list(getattr(report, "failed", []))
    status = f"Imported {len(imported)} document(s)" + (f"; {len(failed)} not imported" if failed else "")
    if not failed:
        return status, None
    lines = [f"{Path(o.path).name}: {o.error}" for o in failed]
    hints = sorted({o.hint for o in failed if o.hint})
    return status, MemoviewError(
        f"{len(failed)} of {len(failed) + len(imported)} file(s) were not imported:\n" + "\n".join(lines),
        " ".join(hints))


def model_info_html(info: Any) -> str:
    """A registered model's facts for the Model box (case tree ▸ a model)."""
    lines = [f"<b>{info.name}</b> ({info.format.upper()}, {info.architecture})",
             f"Path: {info.path}", f"Parameters: {info.parameter_count:,}",
             f"Fingerprint SHA-256: <code>{info.fingerprint}</code>",
             f"Context length: {info.context_length or 'unknown'}; dtype {info.dtype or 'unknown'}; "
             f"quantization {info.quantization or 'none'}",
             f"Files: {len(info.files)}"]
    return "<br>".join(lines)
