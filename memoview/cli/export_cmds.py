"""`memoview export CASE (--attempt ID ... | --document DOC ... | --all) -o FILE.pdf` and
`memoview exports CASE [--json]` (the production log of every export)."""

from __future__ import annotations

import argparse

from memoview.cli.argtypes import bounded_int
from memoview.cli.progress import run_with_progress
from memoview.core.case import Case


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("export", help="write an annotated PDF exhibit (every attempt counted, hashes, Bates)")
    p.add_argument("case", help="the .memoview case file")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--attempt", nargs="+", type=bounded_int, metavar="ID", help="attempts to show in full")
    which.add_argument("--document", nargs="+", metavar="DOC", help="works (id, exact title or SHA-256 prefix)")
    which.add_argument("--all", action="store_true", help="every work with attempts in the case")
    p.add_argument("-o", "--output", required=True, metavar="FILE.pdf")
    p.add_argument("--show", choices=("best", "all"), default="best",
                   help="per work, show in full the best attempt per method (default) or all finished attempts")
    p.add_argument("--label", default="Exhibit", help="exhibit label (default: Exhibit)")
    p.add_argument("--number", default="", help="exhibit number or letter, e.g. 12 or J")
    p.add_argument("--bates-prefix", default="", metavar="P")
    p.add_argument("--bates-start", type=bounded_int, default=1, metavar="S")
    p.add_argument("--bates-digits", type=bounded_int, default=6, metavar="D")
    p.add_argument("--legend", default="none",
                   help="none | confidential | aeo (Highly Confidential - Attorneys' Eyes Only) | custom text")
    p.add_argument("--caption", default="", help="case caption printed on the cover")
    p.add_argument("--expert", default="", help="name of the expert who prepared the exhibit")
    p.add_argument("--selection-rule", default="", help="the rule used to choose the attempts shown (stated on the pages)")
    p.add_argument("--creation-date", default=None, metavar="ISO",
                   help="fixed creation date (e.g. 2025-01-31) for byte-identical output; default: now")
    p.add_argument("--map-quantity", choices=("pz", "greedy", "score"), default="pz",
                   help="what the memorization maps show: max p_z on a log scale (default), greedy exact length, "
                        "or memorization score")
    p.add_argument("--no-manifest", action="store_true", help="do not write FILE.pdf.manifest.json beside the PDF")
    p.add_argument("--skip-model-check", action="store_true",
                   help="do not re-hash the model files before exporting (the audit log records that they were "
                        "not checked)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(handler=cmd_export)

    log = subparsers.add_parser("exports", help="list every exhibit exported from a case (file, SHA-256, Bates range, date)")
    log.add_argument("case", help="the .memoview case file")
    log.add_argument("--json", action="store_true", help="machine-readable output")
    log.add_argument("--no-previews", action="store_true", help="leave out preview exports logged by versions before previews went unlogged")
    log.set_defaults(handler=cmd_exports)


def cmd_export(args: argparse.Namespace) -> int:
    from memoview.core.exhibits.export import ExportOptions, export_exhibit

    options = ExportOptions(
        attempt_ids=tuple(args.attempt or ()), document_refs=tuple(args.document or ()), include_all=bool(args.all),
        show=args.show, label=args.label, number=args.number, bates_prefix=args.bates_prefix,
        bates_start=args.bates_start, bates_digits=args.bates_digits, legend=args.legend, caption=args.caption,
        expert=args.expert, selection_rule=args.selection_rule, creation_date=args.creation_date,
        write_manifest=not args.no_manifest, map_quantity=args.map_quantity,
    )
    with Case.open(args.case) as case:
        result = run_with_progress(export_exhibit(case, options, args.output, verify_models=not args.skip_model_check),
                                   quiet=args.quiet)
    if result.cancelled or result.path is None:
        print("export cancelled; no file written")
        return 1
    print(f"wrote {result.path} ({result.pages} pages, Bates {result.bates_first}\u2013{result.bates_last})")
    print(f"sha256 {result.pdf_sha256}")
    print(f"manifest sha256 {result.manifest_sha256}" + (f" ({result.manifest_path})" if result.manifest_path else ""))
    print(f"creation date {result.creation_date}; run id {result.run_id}")
    for model_id, status in sorted(result.model_files.items()):
        print(f"model {model_id} files: {status}")
    from memoview.core.exhibits.anchor import verifier_name, verifier_sha256

    print(f"standalone verifier {result.path.with_name(verifier_name(result.path.name))} (sha256 {verifier_sha256()})")
    if not result.recorded:
        print("note: the case is read-only; this export was not written to its audit log")
    return 0


def cmd_exports(args: argparse.Namespace) -> int:
    from memoview.core.exhibits.exports_log import exports_log, to_json, to_text

    with Case.open(args.case) as case:
        records = exports_log(case, include_previews=not args.no_previews)
        print(to_json(records) if args.json else to_text(records, case.path.name))
    return 0
