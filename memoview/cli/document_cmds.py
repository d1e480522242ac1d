"""`memoview import`, `memoview documents`, `memoview document show|control`.

Wherever a document is named, its id, exact title or a SHA-256 prefix (of
the raw bytes or of the text) is accepted (``Case.resolve_document``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from memoview.cli.argtypes import bounded_int, finite_float
from memoview.core.case import Case
from memoview.core.documents.load import DEFAULT_MAX_BYTES, MIB
from memoview.core.errors import ValidationError
from memoview.core.records import Document

if TYPE_CHECKING:
    from memoview.core.documents.importer import ImportOutcome

# Exit codes of `memoview import`.
EXIT_ALL_IMPORTED = 0
EXIT_NONE_IMPORTED = 2
EXIT_SOME_FAILED = 3


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    imp = subparsers.add_parser(
        "import", help="import source documents (txt, md, html, pdf, docx, epub) into a case",
        description="Import each FILE into CASE. Each new document's id is printed; each failure is "
        f"printed to stderr with the reason. Exit status: {EXIT_ALL_IMPORTED} if every file was imported, "
        f"{EXIT_SOME_FAILED} if some failed (the good ones are kept), {EXIT_NONE_IMPORTED} if none was imported.",
    )
    imp.add_argument("case", metavar="CASE")
    imp.add_argument("files", metavar="FILE", nargs="+")
    imp.add_argument("--title", default="", help="title (only with a single FILE; default: the file's own or its name)")
    imp.add_argument("--author", default="")
    imp.add_argument("--source", default="", help="where the document came from (default: its path)")
    imp.add_argument("--date-obtained", default="", help="when it was obtained (default: today, UTC)")
    imp.add_argument("--notes", default="")
    imp.add_argument("--control", action="store_true",
                     help="mark the documents as negative controls (texts the model cannot have seen)")
    imp.add_argument("--max-mb", type=finite_float, default=DEFAULT_MAX_BYTES / MIB,
                     help=f"refuse files larger than this many MB (default {DEFAULT_MAX_BYTES // MIB})")
    imp.add_argument("--quiet", action="store_true", help="no progress output")
    imp.set_defaults(handler=cmd_import)

    docs = subparsers.add_parser("documents", help="list the documents of a case")
    docs.add_argument("case", metavar="CASE")
    docs.add_argument("--json", action="store_true", help="machine-readable output")
    docs.set_defaults(handler=cmd_documents)

    doc = subparsers.add_parser("document", help="show a document or mark it as a negative control")
    sub = doc.add_subparsers(dest="document_command", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="provenance, hashes, extractor and first lines of a document")
    show.add_argument("case", metavar="CASE")
    show.add_argument("doc", metavar="DOC", help="document id, title or SHA-256 prefix")
    show.add_argument("--lines", type=bounded_int, default=5, help="how many first lines to print (default 5)")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)
    control = sub.add_parser("control", help="mark (--on) or unmark (--off) a document as a negative control")
    control.add_argument("case", metavar="CASE")
    control.add_argument("doc", metavar="DOC", help="document id, title or SHA-256 prefix")
    onoff = control.add_mutually_exclusive_group(required=True)
    onoff.add_argument("--on", dest="is_control", action="store_true")
    onoff.add_argument("--off", dest="is_control", action="store_false")
    control.set_defaults(handler=cmd_control)


def cmd_import(args: argparse.Namespace) -> int:
    from memoview.cli.progress import run_with_progress
    from memoview.core.documents.importer import import_files

    if not 0 < args.max_mb <= 1024 * 1024:
        raise ValidationError(f"--max-mb must be a positive number of MB up to 1048576 (got {args.max_mb:g}).")
    with Case.open(args.case) as case:
        job = import_files(
            case, args.files, is_control=args.control, title=args.title, author=args.author,
            source=args.source, date_obtained=args.date_obtained, notes=args.notes,
            max_bytes=int(args.max_mb * MIB), on_outcome=_print_outcome,
        )
        report = run_with_progress(job, quiet=args.quiet or not sys.stderr.isatty())
    if report.stopped:
        committed = ", ".join(str(d.id) for d in report.imported) or "none"
        print(f"stopped: {report.stopped}", file=sys.stderr)
        print(f"committed before the stop: document(s) {committed}; not attempted: "
              f"{len(report.not_attempted)} file(s)", file=sys.stderr)
    if report.ok:
        return EXIT_ALL_IMPORTED
    failed = len(report.failed)
    print(f"{failed} of {len(report.outcomes)} file(s) not imported.", file=sys.stderr)
    return EXIT_SOME_FAILED if report.imported else EXIT_NONE_IMPORTED


def _print_outcome(outcome: "ImportOutcome") -> None:
    """One file's result, printed and flushed as soon as it is committed (a killed import has
    printed every document it committed, and no other)."""
    if outcome.document is not None:
        d = outcome.document
        control = "  [negative control]" if d.is_control else ""
        print(f'imported {d.id}  "{d.title}"  sha256 {d.raw_sha256[:12]}  ({len(d.text):,} chars, '
              f"{d.extractor} {d.extractor_version}){control}", flush=True)
        for warning in outcome.warnings:
            print(f"warning: {outcome.path}: {warning}", file=sys.stderr, flush=True)
    else:
        print(f"failed   {outcome.path}: {outcome.error}", file=sys.stderr)
        if outcome.hint:
            print(f"         hint: {outcome.hint}", file=sys.stderr)
        sys.stderr.flush()


def _summary(d: Document) -> dict[str, object]:
    return {
        "id": d.id, "title": d.title, "author": d.author, "source": d.source,
        "date_obtained": d.date_obtained, "notes": d.notes, "filename": d.filename,
        "media_type": d.media_type, "byte_size": d.byte_size, "characters": len(d.text),
        "raw_sha256": d.raw_sha256, "text_sha256": d.text_sha256, "extractor": d.extractor,
        "extractor_version": d.extractor_version, "encoding": d.encoding, "is_control": d.is_control,
        "imported_at": d.imported_at,
    }


def cmd_documents(args: argparse.Namespace) -> int:
    with Case.open(args.case) as case:
        documents = case.documents()
    if args.json:
        print(json.dumps([_summary(d) for d in documents], indent=2))
        return 0
    if not documents:
        print("no documents (add some with 'memoview import CASE FILE...')")
        return 0
    for d in documents:
        control = "  [negative control]" if d.is_control else ""
        print(f"{d.id:>4}  {d.title}  ({len(d.text):,} chars, {d.media_type}, sha256 {d.raw_sha256[:12]}){control}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with Case.open(args.case) as case:
        d = case.resolve_document(args.doc)
    if args.json:
        data = _summary(d)
        data["first_lines"] = _first_lines(d.text, args.lines)
        print(json.dumps(data, indent=2))
        return 0
    rows = [
        ("id", str(d.id)),
        ("title", d.title),
        ("author", d.author or "-"),
        ("source", d.source or "-"),
        ("obtained", d.date_obtained or "-"),
        ("notes", d.notes or "-"),
        ("file", f"{d.filename}  ({d.media_type}, {d.byte_size:,} bytes)"),
        ("encoding", d.encoding or "-"),
        ("extractor", f"{d.extractor} {d.extractor_version}"),
        ("raw sha256", d.raw_sha256),
        ("text sha256", d.text_sha256),
        ("text", f"{len(d.text):,} characters"),
        ("control", "yes (negative control)" if d.is_control else "no"),
        ("imported", f"{d.imported_at} (self-asserted clock)"),
    ]
    for label, value in rows:
        print(f"{label:<12} {value}")
    lines = _first_lines(d.text, args.lines)
    if lines:
        print("\nfirst lines")
        for line in lines:
            print(f"  {line}")
    return 0


def _first_lines(text: str, count: int, width: int = 100) -> list[str]:
    lines = [line for line in text.split("\n") if line.strip()][: max(count, 0)]
    return [line if len(line) <= width else line[: width - 1] + "…" for line in lines]


def cmd_control(args: argparse.Namespace) -> int:
    with Case.open(args.case) as case:
        d = case.resolve_document(args.doc)
        if d.is_control == args.is_control:
            state = "already" if d.is_control else "already not"
            print(f'document {d.id} "{d.title}" is {state} a negative control; nothing changed')
            return 0
        case.set_control(d.id, args.is_control)
    state = "now a negative control" if args.is_control else "no longer a negative control"
    print(f'document {d.id} "{d.title}" is {state}')
    return 0
