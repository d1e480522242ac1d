"""`memoview crosscheck` and `memoview engines`: engines as seen from the command line."""

from __future__ import annotations

import argparse
import json
import sys

from memoview.cli.progress import run_with_progress
from memoview.core import errors
from memoview.core.case import Case
from memoview.core.records import Method


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from memoview.cli.extraction_args import engine_args

    cc = subparsers.add_parser("crosscheck", help="re-score a finished sweep or prefix/p_z attempt with another "
                                                  "engine and record where the two agree")
    cc.add_argument("case")
    cc.add_argument("--attempt", type=int, required=True, help="the attempt to re-score")
    engine_args(cc)
    cc.add_argument("--recorded", action="store_true",
                    help="run nothing: print the checks of this attempt already recorded in the case")
    cc.add_argument("--allow-pickle", action="store_true")
    cc.add_argument("--quiet", "-q", action="store_true")
    cc.add_argument("--json", action="store_true")
    cc.set_defaults(handler=cmd_crosscheck)

    en = subparsers.add_parser("engines", help="list the engines and whether each can run here")
    en.add_argument("--json", action="store_true")
    en.set_defaults(handler=cmd_engines)


def cmd_crosscheck(args: argparse.Namespace) -> int:
    from memoview.cli.extraction_args import engine_settings
    from memoview.core.crosscheck import run_crosscheck

    if args.recorded:
        return _print_recorded(args)
    settings = engine_settings(args)
    if settings.engine == "auto":
        raise errors.ValidationError("Name the engine to compare with.",
                                     "Give --engine transformers or --engine llama.cpp.")
    with Case.open(args.case) as case:
        check = run_with_progress(run_crosscheck(case, args.attempt, settings, allow_pickle=args.allow_pickle),
                                  quiet=args.quiet or args.json)
        if check is None:
            print("cancelled", file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps(check.to_json(), indent=2))
            return 0
        print(check.summary())
        if check.method == Method.SWEEP:
            print(f"{'window':>6} {'start_chr':>9} {'greedy':>13} {'log10_pz':>21}")
            for r in check.rows:
                flag = "" if r["greedy_agree"] and r["pz_agree"] else "  <- differs"
                print(f"{r['index']:>6} {r['start_char']:>9} {r['greedy_then']:>6} {r['greedy_now']:>6} "
                      f"{_f(r['log10_pz_then']):>10} {_f(r['log10_pz_now']):>10}{flag}")
        print("recorded in the case's audit trail (crosscheck.record) and as an annotation of the attempt")
    return 0


def _print_recorded(args: argparse.Namespace) -> int:
    """The checks of one attempt already in the case (what the GUI's result tab shows), oldest first."""
    from memoview.core.crosscheck import crosschecks, disagreements, plain_summary

    with Case.open(args.case, read_only=True) as case:
        case.attempt(args.attempt)  # a clear error for an unknown id
        checks = crosschecks(case, args.attempt)
    if args.json:
        print(json.dumps(checks, indent=2))
        return 0
    if not checks:
        print(f"attempt {args.attempt} has no recorded cross-engine check")
        return 0
    for c in checks:
        print(f"audit entry {c['audit_seq']} ({c['at'][:16].replace('T', ' ')} UTC): {plain_summary(c)}")
        for r in disagreements(c):
            where = f"window {r['index']} (chars {r['start_char']}–{r.get('end_char', '?')})" \
                if "index" in r else "target"
            print(f"  {where}: greedy {r['greedy_then']} -> {r['greedy_now']}, log10 p_z "
                  f"{_pz(r['log10_pz_then'])} -> {_pz(r['log10_pz_now'])}")
    return 0


def _pz(x: object) -> str:
    return "impossible (p_z = 0)" if x is None else _f(x)


def _f(x: object) -> str:
    return "—" if x is None else f"{float(x):.3f}"  # type: ignore[arg-type]


def cmd_engines(args: argparse.Namespace) -> int:
    from memoview.core.engines import available_engines

    engines = available_engines()
    if args.json:
        print(json.dumps({k: {"available": v is None, "reason": v} for k, v in engines.items()}, indent=2))
        return 0
    for name, reason in engines.items():
        print(f"{name:<14} {'available' if reason is None else 'not available: ' + reason}")
    return 0
