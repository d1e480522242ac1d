"""What an exhibit says about the case it was made from, so that the filed exhibit anchors the case.

An exhibit prints the audit chain's head (hash and entry count) at the time
of export, and ships the standalone verifier (``verify_standalone.py``,
Python standard library only) beside the PDF with its SHA-256 printed in the
exhibit. Anyone holding the exhibit and the case file can then run::

    python3 EXHIBIT.verify_standalone.py CASE.memoview --expect-head HEAD

which fails if the case was truncated, rebuilt or restored from an earlier
copy, without installing or trusting memoview. Kept apart from the renderer
so the wording lives in one place.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

VERIFIER_SOURCE = Path(__file__).resolve().parents[2] / "verify_standalone.py"
VERIFIER_SUFFIX = ".verify_standalone.py"


def verifier_bytes() -> bytes:
    """The verifier's source. A frozen bundle must ship ``memoview/verify_standalone.py`` as a data file."""
    try:
        return VERIFIER_SOURCE.read_bytes()
    except OSError as exc:
        from memoview.core.errors import ExportError

        raise ExportError(f"The standalone verifier {VERIFIER_SOURCE} is missing from this installation ({exc}).",
                          "Reinstall memoview; an exhibit is not exported without its verifier.") from None


def verifier_sha256() -> str:
    return hashlib.sha256(verifier_bytes()).hexdigest()


def verifier_name(pdf_name: str) -> str:
    """The verifier's file name beside an exhibit (``Ex1.pdf`` -> ``Ex1.verify_standalone.py``)."""
    return Path(pdf_name).stem + VERIFIER_SUFFIX


def write_verifier(pdf_path: Path) -> Path:
    target = pdf_path.with_name(verifier_name(pdf_path.name))
    target.write_bytes(verifier_bytes())
    return target


def head_text(manifest: dict[str, Any]) -> str:
    return f"{manifest.get('audit_head_sha256', '')} after {manifest.get('audit_head_entries', '?')} entries"


def cover_text(manifest: dict[str, Any]) -> str:
    return (f"audit log head {head_text(manifest)}; the case must still reach this head "
            "(memoview case verify --expect-head, or the standalone verifier, Appendix C)")


def manifest_lines(manifest: dict[str, Any], pdf_name: str) -> list[str]:
    """Lines for the manifest appendix's block of anchors."""
    return [
        f"audit log head hash   {manifest.get('audit_head_sha256', '')}",
        f"audit log entries     {manifest.get('audit_head_entries', '?')} (up to and including the head)",
        f"standalone verifier   {verifier_name(pdf_name)}",
        f"verifier SHA-256      {manifest.get('standalone_verifier_sha256', '')}",
    ]


def check_command(case_name: str, manifest: dict[str, Any], pdf_name: str) -> str:
    """Shell lines short enough for the exhibit's 8 pt monospace box: a wrapped line must never split a
    command, so the hashes go on their own lines (a comment, and a POSIX line continuation)."""
    head = manifest.get("audit_head_sha256", "")
    return (f"# expect {manifest.get('standalone_verifier_sha256', '')}\n"
            f"sha256sum {verifier_name(pdf_name)}\n"
            f"python3 {verifier_name(pdf_name)} {case_name} \\\n  --expect-head {head}\n"
            f"memoview case verify {case_name} \\\n  --expect-head {head}")


SELF_ASSERTED_NOTE = ("Times and users in the audit log are recorded by the machine that wrote them "
                      "(self-asserted); the hash chain proves their order and that they were not changed since, "
                      "not that they are true.")
