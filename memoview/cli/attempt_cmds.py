"""`memoview attempts|attempt show|attempt reproduce`: the recorded attempts, listed, shown and re-run.

Also how an attempt is printed (one block per attempt) and written as JSON, which the extraction commands
use for the attempts they have just run.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Optional

from memoview.cli.argtypes import bounded_int
from memoview.cli.extraction_args import engine_args
from memoview.cli.progress import run_with_progress
from memoview.core import errors
from memoview.core.case import Case
from memoview.core.records import Attempt, AttemptStatus, Method


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    ls = subparsers.add_parser("attempts", help="list the attempts of a case")
    ls.add_argument("case")
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--document")
    ls.add_argument("--method")
    ls.set_defaults(handler=cmd_attempts)

    at = subparsers.add_parser("attempt", help="show or re-run one attempt")
    sub = at.add_subparsers(dest="attempt_command", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="everything recorded about an attempt")
    show.add_argument("case")
    show.add_argument("id", type=bounded_int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)
    rep = sub.add_parser("reproduce", help="re-run a recorded attempt and compare token ids")
    rep.add_argument("case")
    rep.add_argument("id", type=bounded_int)
    rep.add_argument("--model", help="model path (default: the path the case registered)")
    engine_args(rep, engine=False, dtype=False)
    rep.add_argument("--allow-pickle", action="store_true")
    rep.add_argument("--quiet", "-q", action="store_true")
    rep.add_argument("--json", action="store_true")
    rep.set_defaults(handler=cmd_reproduce)


# ---------------------------------------------------------------- helpers
def fmt(x: Optional[float], digits: int = 2) -> str:
    """A number for the terminal, a dash when there is none."""
    return "—" if x is None else f"{x:.{digits}f}"


def _rehash_for_rerun(info: Any, fingerprint: str, quiet: bool) -> None:
    """Re-read every byte of the model files (no hash cache) before a re-run is trusted.

    The per-user hash cache is keyed by path, size, mtime, ctime and inode;
    root can defeat that key (set the clock back, rewrite, restore), so a
    re-run never relies on it. Loading reads the weights anyway, so this
    costs one more read of the files.
    """
    from dataclasses import replace

    from memoview.core.models.fingerprint import reverify

    result = run_with_progress(reverify(replace(info, fingerprint=fingerprint)), quiet=quiet)
    if result is None:
        raise errors.ModelError("Re-hashing the model files was cancelled.")
    if not result.ok:
        raise errors.ModelError(
            f"The model files at {info.path} do not match the fingerprint the attempt ran on "
            f"({fingerprint[:12]}): {'; '.join(result.problems)}.",
            "Restore the model files the attempt ran on.")


def attempt_json(a: Attempt) -> dict[str, Any]:
    from dataclasses import asdict

    data = asdict(a)
    for key, value in list(data.items()):
        if isinstance(value, tuple):
            data[key] = list(value)
    return data


def print_attempt(a: Attempt) -> None:
    from memoview.core.extraction.pz_label import pz_text

    m = a.metrics
    print(f"attempt {a.id}  {a.spec.method}  {a.status}  seed {a.spec.seed}  decoding {a.spec.params.get('decoding')}")
    if "greedy_exact" in m:
        print(f"  greedy exact {m['greedy_exact']}/{m.get('suffix_tokens')} tokens   "
              f"memorization score {fmt(m.get('memorization_score'))}   "
              f"p_z {pz_text(m)}"
              f"   n@p=0.99: {m.get('n_samples_p99') or '—'}")
    if a.status == AttemptStatus.REFUSED:
        print(f"  refusal detected: '{m.get('refusal_phrase')}'")
    if a.error:
        print(f"  error: {a.error}")
    if a.output_text:
        print("  output: " + a.output_text[:300].replace("\n", " ") + ("…" if len(a.output_text) > 300 else ""))


# ---------------------------------------------------------------- commands
def cmd_attempts(args: argparse.Namespace) -> int:
    with Case.open(args.case) as case:
        doc_id = case.resolve_document(args.document).id if args.document else None
        attempts = case.attempts(document_id=doc_id, method=args.method)
        if args.json:
            print(json.dumps([
                {"id": a.id, "method": a.spec.method, "prompt_class": a.spec.prompt_class, "status": a.status,
                 "document_id": a.spec.document_id, "model_id": a.spec.model_id, "seed": a.spec.seed,
                 "campaign_key": a.campaign_key, "sample_index": a.sample_index,
                 "greedy_exact": a.metrics.get("greedy_exact"), "log10_pz": a.metrics.get("log10_pz"),
                 "finished_at": a.finished_at} for a in attempts], indent=2))
            return 0
        print(f"{'id':>5} {'method':<10} {'class':<11} {'status':<9} {'doc':>4} {'model':>5} {'greedy':>6} "
              f"{'log10_pz':>9}  finished (self-asserted clock)")
        for a in attempts:
            m = a.metrics
            greedy = m.get("greedy_exact", m.get("max_greedy_exact"))
            print(f"{a.id:>5} {a.spec.method:<10} {a.spec.prompt_class:<11} {a.status:<9} "
                  f"{a.spec.document_id if a.spec.document_id is not None else '-':>4} {a.spec.model_id:>5} "
                  f"{greedy if greedy is not None else '-':>6} {_pz_cell(m):>9}"
                  f"  {a.finished_at}")
        print(f"{len(attempts)} attempts (every attempt is kept and disclosable)")
    return 0


def _pz_cell(m: dict[str, Any]) -> str:
    """log10 p_z for a table cell; a bound is shown as one (≤…), never as a value."""
    from memoview.core.extraction.pz_label import is_bound

    if is_bound(m):
        ub = m.get("log10_pz_upper_bound", m.get("max_log10_pz_upper_bound"))
        return "bound" if ub is None else f"≤{float(ub):.2f}"
    return fmt(m.get("log10_pz", m.get("max_log10_pz")))


def cmd_show(args: argparse.Namespace) -> int:
    with Case.open(args.case) as case:
        a = case.attempt(args.id)
        windows = case.sweep_windows(a.id) if a.spec.method == Method.SWEEP else []
        if args.json:
            data = attempt_json(a)
            if windows:
                from dataclasses import asdict

                data["windows"] = [asdict(w) for w in windows]
            print(json.dumps(data, indent=2))
            return 0
        print(f"attempt {a.id}: {a.spec.method} ({a.spec.prompt_class}), status {a.status}")
        print(f"  model {a.spec.model_id} (fingerprint {a.spec.model_fingerprint[:16]}), document {a.spec.document_id}")
        print(f"  started {a.started_at}, finished {a.finished_at} (self-asserted clock), bos policy {a.spec.bos_policy}, seed {a.spec.seed}")
        print(f"  params {json.dumps(a.spec.params, sort_keys=True)}")
        if a.spec.target:
            print(f"  target {json.dumps(a.spec.target, sort_keys=True)}")
        print(f"  metrics {json.dumps(a.metrics, sort_keys=True)}")
        print(f"  environment {json.dumps(a.environment, sort_keys=True)}")
        if a.prompt_text:
            print("  prompt (supplied to the model; not counted):\n    " + a.prompt_text.replace("\n", "\n    "))
        if a.output_text:
            print(f"  output (sha256 {a.output_sha256[:16]}):\n    " + a.output_text.replace("\n", "\n    "))
        if a.target_text:
            print("  target (true continuation):\n    " + a.target_text.replace("\n", "\n    "))
        if windows:
            print(f"  {len(windows)} sweep windows; see --json")
        if a.error:
            print(f"  error: {a.error}")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from memoview.core.extraction.reproduce import reproduce_attempt
    from memoview.cli.extraction_cmds import set_threads
    from memoview.core.session import open_for_attempt

    with Case.open(args.case) as case:
        a = case.attempt(args.id)
        # The recorded engine and dtype, always; only the device and the model's path may be given.
        lm = run_with_progress(open_for_attempt(case, a, device=None if args.device == "auto" else args.device,
                                                allow_pickle=args.allow_pickle, model_path=args.model),
                               quiet=args.quiet)
        if lm is None:
            raise errors.ModelError("Opening the model was cancelled.")
        info = case.model(a.spec.model_id)
        if info.format != "openai":  # a served model has no files to re-read
            from dataclasses import replace

            _rehash_for_rerun(replace(info, path=args.model) if args.model else info, a.spec.model_fingerprint,
                              args.quiet)
        set_threads(lm, args.threads)
        same, details = reproduce_attempt(case, a.id, lm)
        if case.read_only:
            print("note: the case is read-only; this re-run was not written to its audit log", file=sys.stderr)
        else:
            case.audit("attempt.reproduce", f"attempt:{a.id}", {"same": same,
                                                                "first_difference": details["first_difference"]})
        if args.json:
            print(json.dumps(details, indent=2))
        elif same and a.spec.method == Method.SWEEP:
            print(f"attempt {a.id} reproduced: all {details['rerun_windows']} windows score the same "
                  f"({details['compared']})")
        elif same:
            parts = []
            if "rerun_tokens" in details:
                parts.append(f"identical output token ids ({details['rerun_tokens']} tokens)")
            if "pz" in details:
                parts.append(f"the same greedy exact length and log10 p_z {fmt(details['pz']['rerun']['log10_pz'], 4)}"
                             f" (within {details['tolerance_log10']:g})")
            print(f"attempt {a.id} reproduced: " + "; ".join(parts))
        else:
            if details["first_difference"] == "p_z":
                pz = details["pz"]
                print(f"attempt {a.id} NOT reproduced: p_z differs (recorded greedy {pz['recorded']['greedy_exact']}, "
                      f"log10 p_z {fmt(pz['recorded']['log10_pz'], 4)}; re-run greedy {pz['rerun']['greedy_exact']}, "
                      f"log10 p_z {fmt(pz['rerun']['log10_pz'], 4)}; tolerance {details['tolerance_log10']:g})",
                      file=sys.stderr)
            else:
                where = "window" if a.spec.method == Method.SWEEP else "token"
                print(f"attempt {a.id} NOT reproduced: first difference at {where} {details['first_difference']}",
                      file=sys.stderr)
    return 0 if same else 1
