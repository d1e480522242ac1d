"""`memoview case new|info|verify`."""

from __future__ import annotations

import argparse
import json

from memoview.core.case import Case


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    case = subparsers.add_parser("case", help="create, describe or verify a case file")
    sub = case.add_subparsers(dest="case_command", metavar="ACTION", required=True)

    new = sub.add_parser("new", help="create an empty case file")
    new.add_argument("path")
    new.set_defaults(handler=cmd_new)

    info = sub.add_parser("info", help="describe a case: documents, models, attempts")
    info.add_argument("path")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.set_defaults(handler=cmd_info)

    verify = sub.add_parser("verify", help="re-check the audit hash chain, documents and attempt records")
    verify.add_argument("path")
    verify.add_argument("--json", action="store_true")
    verify.add_argument("--models", action="store_true",
                        help="also re-read every byte of each registered model's files and compare the fingerprint")
    verify.add_argument("--rerun", action="store_true",
                        help="also re-run every finished greedy and beam attempt (comparing output token ids) and "
                             "re-score every finished sweep (comparing each window)")
    verify.add_argument("--include-sampled", action="store_true",
                        help="with --rerun: re-run sampled attempts from their seeds too (same software only)")
    verify.add_argument("--allow-pickle", action="store_true", help="with --rerun: allow pickle weights")
    verify.add_argument("--device", default=None,
                        help="with --rerun: where to re-run (default: the recorded device if present, else cpu); "
                             "the engine and dtype are always the recorded ones")
    verify.add_argument("--expect-head", metavar="HASH",
                        help="fail unless the audit chain passes through this head hash (as printed in an exhibit "
                             "or by an earlier verify): catches a truncated, rebuilt or restored-from-backup case")
    verify.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    verify.set_defaults(handler=cmd_verify)


def cmd_new(args: argparse.Namespace) -> int:
    path = args.path if str(args.path).endswith(".memoview") else str(args.path)
    with Case.create(path) as case:
        print(f"created {case.path} (case {case.meta()['case_uuid']})")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    with Case.open(args.path) as case:
        info = case.info()
        documents = case.documents()
        models = case.models()
        if args.json:
            info["documents"] = [
                {"id": d.id, "title": d.title, "raw_sha256": d.raw_sha256, "text_sha256": d.text_sha256,
                 "characters": len(d.text), "is_control": d.is_control, "extractor": d.extractor}
                for d in documents
            ]
            info["models"] = [
                {"id": m.id, "name": m.name, "format": m.format, "architecture": m.architecture,
                 "parameter_count": m.parameter_count, "fingerprint": m.fingerprint}
                for m in models
            ]
            print(json.dumps(info, indent=2))
            return 0
        meta = info["meta"]
        head = info["audit_head"]
        print(f"case      {info['path']}" + ("  (read-only)" if info["read_only"] else ""))
        print(f"uuid      {meta.get('case_uuid', '?')}  (format {meta.get('schema_version')}, created {meta.get('created_at', '?')})")
        counts = info["counts"]
        print(f"contents  {counts['documents']} documents, {counts['models']} models, "
              f"{counts['attempts']} attempts, {counts['audit_log']} audit entries")
        print(f"head      {head['hash']}  (audit chain head after {head['entries']} entries)")
        print("          recorded times and users are self-asserted by the machine that wrote them")
        if documents:
            print("\ndocuments")
            for d in documents:
                control = "  [negative control]" if d.is_control else ""
                print(f"  {d.id:>4}  {d.title}  ({len(d.text):,} chars, sha256 {d.raw_sha256[:12]}){control}")
        if models:
            print("\nmodels")
            for m in models:
                print(f"  {m.id:>4}  {m.name}  {m.format} {m.architecture}, "
                      f"{m.parameter_count:,} parameters, fingerprint {m.fingerprint[:16]}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from memoview.cli.progress import run_with_progress
    from memoview.core.verification import verify_fully

    with Case.open(args.path) as case:
        full = run_with_progress(verify_fully(case, models=args.models, rerun=args.rerun,
                                              include_sampled=args.include_sampled, allow_pickle=args.allow_pickle,
                                              device=args.device, expect_head=args.expect_head),
                                 quiet=args.quiet or args.json or not (args.models or args.rerun))
        recorded_as = None if case.read_only else case.head().entries
    report = full.case
    if args.json:
        print(json.dumps({
            "ok": full.ok,
            "audit_entries": report.audit_entries,
            "documents_checked": report.documents_checked,
            "attempts_checked": report.attempts_checked,
            "models_checked": full.models_checked,
            "reruns": full.reruns,
            "problems": [{"kind": p.kind, "subject": p.subject, "reason": p.reason} for p in report.problems],
            "head": report.head_hash, "entries": report.audit_entries, "rows_checked": report.rows_checked,
            "anchored": report.anchored, "read_only": report.read_only, "expect_head": report.expect_head,
            "expect_head_entry": report.expect_head_seq, "entries_after_expected_head": report.after_expected,
            "warnings": report.warnings, "recorded_in_audit_log": not report.read_only,
        }, indent=2))
    else:
        print(f"audit log  {report.audit_entries} entries, head {report.head_hash}")
        print(f"rows       {report.rows_checked} evidence rows checked against their audit entries")
        print(f"documents  {report.documents_checked} checked")
        print(f"attempts   {report.attempts_checked} checked")
        if full.models_checked is not None:
            print(f"models     {full.models_checked} re-read byte for byte")
        if full.reruns is not None:
            same = sum(1 for r in full.reruns if r["same"])
            print(f"re-runs    {same} of {len(full.reruns)} greedy/beam/p_z attempts and sweeps gave the recorded results")
        if report.expect_head_seq is not None:
            print(f"anchor     the expected head is entry {report.expect_head_seq} of {report.audit_entries}; "
                  f"{len(report.after_expected)} entries were appended after it")
            for line in report.after_expected[:50]:
                print(f"  after:   {line}")
        for warning in report.warnings:
            print(f"note: {warning}")
        if recorded_as is not None:
            print(f"recorded   this verification is audit entry {recorded_as} (after the head above)")
        if full.ok:
            checked = "the hash chain, every evidence row's audit binding, document hashes and attempt records"
            if full.models_checked is not None:
                checked += ", model files"
            if full.reruns is not None:
                checked += ", re-runs"
            print(f"intact: {checked} all check out")
        elif report.problems:
            print(f"BROKEN: first problem: {report.problems[0]}")
            for problem in report.problems[1:]:
                print(f"  also: {problem}")
        else:
            print("verification was cancelled before it finished")
    return 0 if full.ok else 3
