"""Export an annotated PDF exhibit from a case: options, the job, the audit entry.

The export never changes the evidence; it only appends an ``exhibit.export``
audit entry holding the PDF's SHA-256, so anyone can later tell whether a
PDF in front of them is the one memoview wrote. A fixed creation date makes
the output byte-identical for the same case and options; when none is
given, the export time (to the second) is used and written into the
reproduction command printed in the exhibit, so re-running that command
reproduces the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from memoview.core.case import Case
from memoview.core.errors import ExportError, ValidationError
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.core.records import ModelInfo
from memoview.core.storage.audit import canonical_json

LEGENDS = {
    "none": "",
    "confidential": "CONFIDENTIAL",
    "aeo": "HIGHLY CONFIDENTIAL \u2013 ATTORNEYS' EYES ONLY",
}


def resolve_legend(value: str) -> str:
    """'none' | 'confidential' | 'aeo' (also the full wording, any case) | any custom text."""
    key = (value or "none").strip()
    low = key.lower()
    if low in LEGENDS:
        return LEGENDS[low]
    if low in ("highly confidential \u2013 attorneys' eyes only", "highly confidential - attorneys' eyes only"):
        return LEGENDS["aeo"]
    return key


@dataclass(frozen=True)
class ExportOptions:
    """Everything that decides what an exhibit contains and says.

    Exactly one of ``attempt_ids``, ``document_refs``, ``include_all``
    selects the content. ``show``: per work, show in full the 'best'
    attempt (longest verbatim run, plus the latest sweep) or 'all'
    finished attempts (explicit ``attempt_ids`` are always shown).
    """

    attempt_ids: tuple[int, ...] = ()
    document_refs: tuple[str, ...] = ()
    include_all: bool = False
    show: str = "best"
    label: str = "Exhibit"
    number: str = ""
    bates_prefix: str = ""
    bates_start: int = 1
    bates_digits: int = 6
    legend: str = "none"  # none | confidential | aeo | custom text
    caption: str = ""
    expert: str = ""
    selection_rule: str = ""
    creation_date: Optional[str] = None  # ISO 8601 (date or date-time, UTC assumed)
    write_manifest: bool = True
    map_quantity: str = "pz"  # what the memorization maps show: pz | greedy | score (issue 12)

    def validate(self) -> None:
        from memoview.core.findings.quantity import MAP_KINDS

        if self.map_quantity not in MAP_KINDS:
            raise ValidationError(f"Unknown map quantity '{self.map_quantity}'.", f"Use one of: {', '.join(MAP_KINDS)}.")
        if self.bates_digits < 1 or self.bates_digits > 12:
            raise ValidationError(f"Bates digits must be between 1 and 12 (got {self.bates_digits}).",
                                  "Use --bates-digits 6, for example.")
        if self.bates_start < 0:
            raise ValidationError(f"The Bates start must be 0 or more (got {self.bates_start}).")
        if any(ch in self.bates_prefix for ch in "\n\r\t"):
            raise ValidationError("The Bates prefix may not contain line breaks or tabs.")
        if len(resolve_legend(self.legend)) > 150:
            raise ValidationError(
                f"The confidentiality legend is {len(resolve_legend(self.legend))} characters; at most 150 fit the page band.",
                "Shorten the legend; put longer wording in the caption.")
        parse_creation_date(self.creation_date)


@dataclass(frozen=True)
class ExportResult:
    path: Optional[Path]
    pdf_sha256: str = ""
    pages: int = 0
    bates_first: str = ""
    bates_last: str = ""
    manifest_sha256: str = ""
    manifest_path: Optional[Path] = None
    run_id: str = ""
    creation_date: str = ""
    cancelled: bool = False
    # model id -> "match" | "not available on this machine" | "not checked" (empty for previews)
    model_files: dict[str, str] = field(default_factory=dict)
    recorded: bool = True  # False: the case is read-only, so the export is not in its audit log


def parse_creation_date(value: Optional[str]) -> Optional[time.struct_time]:
    if value is None or not str(value).strip():
        return None
    text = str(value).strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(f"The creation date '{value}' is not an ISO 8601 date.",
                              "Use e.g. 2025-01-31 or 2025-01-31T09:00:00Z.") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).timetuple()


def command_line(case: Case, options: ExportOptions, output: Path) -> str:
    """The exact CLI command that re-creates this exhibit."""
    parts = ["memoview", "export", case.path.name]
    if options.attempt_ids:
        parts += ["--attempt", *[str(i) for i in options.attempt_ids]]
    elif options.document_refs:
        parts += ["--document", *options.document_refs]
    else:
        parts.append("--all")
    parts += ["-o", output.name]
    if options.show != "best":
        parts += ["--show", options.show]
    for flag, value, default in (("--label", options.label, "Exhibit"), ("--number", options.number, ""),
                                 ("--bates-prefix", options.bates_prefix, ""), ("--bates-start", str(options.bates_start), "1"),
                                 ("--bates-digits", str(options.bates_digits), "6"), ("--legend", options.legend, "none"),
                                 ("--caption", options.caption, ""), ("--expert", options.expert, ""),
                                 ("--selection-rule", options.selection_rule, ""),
                                 ("--map-quantity", options.map_quantity, "pz")):
        if value != default:
            parts += [flag, value]
    parts += ["--creation-date", options.creation_date or ""]
    return " ".join(shlex.quote(p) for p in parts)


@dataclass(frozen=True)
class _RenderOptions:
    """What the renderer needs beyond the user's options (derived, not chosen)."""

    label: str
    number: str
    caption: str
    expert: str
    run_id: str
    creation_text: str
    command_line: str
    output_name: str
    pdf_title: str


class _Cancelled(Exception):
    pass


PREVIEW_MARK = "PREVIEW \u2013 NOT AN EXHIBIT \u2013 NOT FOR FILING"


def export_exhibit(case: Case, options: ExportOptions, output_path: str | os.PathLike[str],
                   cancel: Optional[CancelToken] = None, *, preview: bool = False,
                   verify_models: bool = True) -> Job[ExportResult]:
    """Job: write the exhibit PDF (and its manifest beside it), then log the export.

    ``preview`` (for the GUI's export dialog) writes the same pages marked
    "PREVIEW - NOT FOR FILING" on every page, with no manifest file and no
    audit entry: a preview is not an export.

    Before a real export, the files of every model behind the exhibit's
    attempts are re-hashed (no cache) where they are on this machine: an
    exhibit never states a fingerprint that the files on disk contradict.
    The outcome goes into the audit entry, not onto the pages, so that the
    same case and options give the same bytes on a machine without the model.
    """
    options.validate()
    out = Path(output_path)
    if out.is_dir():
        raise ExportError(f"{out} is a folder.", "Give a file name ending in .pdf.")
    if not out.parent.exists():
        raise ExportError(f"The folder {out.parent} does not exist.", "Create it first or choose another output path.")
    if out.suffix.lower() != ".pdf":
        raise ExportError(f"{out.name} does not end in .pdf.", "Give a file name ending in .pdf.")
    if options.creation_date is None:
        options = replace(options, creation_date=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    creation = parse_creation_date(options.creation_date)

    def check() -> None:
        if cancel is not None and cancel.cancelled:
            raise _Cancelled()

    from memoview.core.exhibits import data as exhibit_data

    yield Progress(0, 4, "gathering attempts and alignments")
    collected = exhibit_data.collect(
        case, attempt_ids=tuple(options.attempt_ids), document_refs=tuple(options.document_refs),
        include_all=options.include_all, show=options.show, selection_rule=options.selection_rule,
    )
    collected.map_quantity = options.map_quantity
    if cancel is not None and cancel.cancelled:
        return ExportResult(None, cancelled=True)
    model_files: dict[str, str] = {}
    if not preview:
        for model in collected.models:
            status = yield from _check_model_files(model, verify_models, cancel)
            if status is None:
                return ExportResult(None, cancelled=True)
            model_files[str(model.id)] = status
    yield Progress(1, 4, "laying out pages")
    opts_json = canonical_json({k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(options).items()})
    run_id = hashlib.sha256((collected.manifest_sha256 + opts_json).encode("utf-8")).hexdigest()[:10]
    number = options.number.strip()
    render_opts = _RenderOptions(
        label=options.label, number=number, caption=options.caption, expert=options.expert, run_id=run_id,
        creation_text=time.strftime("%Y-%m-%d %H:%M:%S UTC", creation) if creation else "?",
        command_line=command_line(case, options, out), output_name=out.name,
        pdf_title=f"{options.label} {number}".strip() + " \u2013 memorization test results",
    )
    from memoview.core.exhibits.render import PageBand, build_pdf

    band = PageBand(exhibit_label=f"Ex. {number}" if number else (options.label or "Exhibit"),
                    legend=(PREVIEW_MARK + ("  \u00b7  " + resolve_legend(options.legend) if resolve_legend(options.legend) else ""))
                    if preview else resolve_legend(options.legend), bates_prefix=options.bates_prefix,
                    bates_start=options.bates_start, bates_digits=options.bates_digits, run_id=run_id,
                    manifest_sha256=collected.manifest_sha256)
    tmp = out.with_name(f".{out.name}.partial")
    try:
        bates = build_pdf(collected, render_opts, case, tmp, band, creation, lambda _msg: check())
        check()
    except _Cancelled:
        tmp.unlink(missing_ok=True)
        return ExportResult(None, cancelled=True)
    except OSError as exc:  # a full disk or a vanished folder while writing the PDF
        tmp.unlink(missing_ok=True)
        raise ExportError(f"Writing the exhibit {out} failed: {exc.strerror or exc}. Nothing was written and the "
                          "case is unchanged.", "Free disk space or choose another folder, and export again.") from exc
    except Exception:
        tmp.unlink(missing_ok=True)
        raise
    yield Progress(3, 4, "writing")
    too_long = [b for b in bates if len(b) > len(options.bates_prefix) + options.bates_digits]
    if too_long:
        tmp.unlink(missing_ok=True)
        raise ExportError(
            f"The exhibit has {len(bates)} pages; Bates number {too_long[0]} needs more than {options.bates_digits} digits.",
            "Increase --bates-digits or lower --bates-start.")
    os.replace(tmp, out)
    pdf_sha = hashlib.sha256(out.read_bytes()).hexdigest()
    manifest_path: Optional[Path] = None
    if not preview:
        manifest_path = _write_beside(out, collected.manifest if options.write_manifest else None)
    if not preview and not case.read_only:  # a read-only case is exported but cannot record it
        case.audit("exhibit.export", out.name, {
            "pdf_sha256": pdf_sha, "pages": len(bates), "bates_first": bates[0] if bates else "",
            "bates_last": bates[-1] if bates else "", "manifest_sha256": collected.manifest_sha256, "run_id": run_id,
            "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(options).items()},
            "model_files": model_files,
        })
    yield Progress(4, 4, "done")
    return ExportResult(out, pdf_sha, len(bates), bates[0] if bates else "", bates[-1] if bates else "",
                        collected.manifest_sha256, manifest_path, run_id, options.creation_date or "",
                        model_files=model_files, recorded=not case.read_only)


def _write_beside(out: Path, manifest: Optional[dict[str, Any]]) -> Optional[Path]:
    """The manifest and the standalone verifier beside the PDF; a failure names what was written."""
    from memoview.core.exhibits.anchor import write_verifier

    manifest_path = out.with_name(out.name + ".manifest.json") if manifest is not None else None
    try:
        if manifest_path is not None:
            manifest_path.write_bytes(canonical_json(manifest).encode("utf-8"))
        write_verifier(out)
    except OSError as exc:
        raise ExportError(
            f"The exhibit {out} was written in full, but the files beside it could not be ({exc.strerror or exc}); "
            "the export was not recorded in the case's audit log.",
            "Free disk space and export again (the PDF will be identical).") from exc
    return manifest_path


def _check_model_files(model: ModelInfo, verify: bool, cancel: Optional[CancelToken]) -> Job[Optional[str]]:
    """'match', 'not available on this machine' or 'not checked'; a mismatch stops the export.
    ``None`` when cancelled."""
    from memoview.core.models.fingerprint import reverify

    if not verify:
        return "not checked"
    if not Path(model.path).exists():
        return "not available on this machine"
    result = yield from reverify(model, cancel=cancel)
    if result is None:
        return None
    if not result.ok:
        raise ExportError(
            f"Model {model.id} ('{model.name}') no longer matches the fingerprint recorded with its attempts: "
            f"{'; '.join(result.problems)}.",
            "Restore the model files the attempts ran on, or register the changed files as a new model and run the "
            "attempts again. (--skip-model-check exports without this check; the audit log then says so.)",
        )
    return "match"
