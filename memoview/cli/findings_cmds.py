"""`memoview findings CASE` and `memoview control generate CASE DOC` (issue 12)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from memoview.core.case import Case


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    f = subparsers.add_parser(
        "findings", help="work-level extraction rates with intervals and the controls' false-positive rates",
        description="For every work (or --document): the fraction of its characters extractable at p_z >= tau "
        "(per character: the maximum p_z of any sweep window whose target covers it), the fraction of windows "
        "with an exact 95%% interval, greedy exact reproduction, and the same procedure's false-positive rate on "
        "the case's negative controls.")
    f.add_argument("case", metavar="CASE")
    f.add_argument("--document", action="append", default=[], metavar="DOC",
                   help="only this document (id, title or SHA-256 prefix); repeatable")
    f.add_argument("--tau", action="append", type=float, default=[], metavar="TAU",
                   help="threshold on p_z (repeatable; default 0.5 0.1 0.01 0.001)")
    f.add_argument("--json", action="store_true", help="machine-readable output")
    f.set_defaults(handler=cmd_findings)

    c = subparsers.add_parser("control", help="generated null controls (shuffled copies of a work)")
    sub = c.add_subparsers(dest="control_command", metavar="ACTION", required=True)
    g = sub.add_parser("generate", help="import a sentence- or word-shuffled copy of DOC as a negative control",
                       description="The copy keeps the work's vocabulary but not its order; it is imported like any "
                       "document, marked as a negative control, and its recipe (kind, seed, source SHA-256) is "
                       "recorded in its notes and the audit log. The same seed gives the same text.")
    g.add_argument("case", metavar="CASE")
    g.add_argument("doc", metavar="DOC", help="document id, title or SHA-256 prefix")
    g.add_argument("--kind", required=True, choices=["sentence-shuffle", "word-shuffle"])
    g.add_argument("--seed", type=int, required=True)
    g.add_argument("--json", action="store_true")
    g.set_defaults(handler=cmd_control_generate)


def cmd_findings(args: argparse.Namespace) -> int:
    from memoview.core.findings.coverage import DEFAULT_TAUS
    from memoview.core.findings.report import case_findings

    with Case.open(args.case) as case:
        docs = [case.resolve_document(d).id for d in args.document] or None
        found = case_findings(case, tuple(args.tau) or DEFAULT_TAUS, documents=docs)
        if args.json:
            print(json.dumps(found.to_json(), indent=2))
            return 0
        print(render_text(found))
    return 0


def render_text(found: Any) -> str:
    from memoview.core.findings.coverage import tau_label
    from memoview.core.findings.report import NO_CONTROLS
    from memoview.core.findings.stats import fmt_pz

    lines: list[str] = []
    for w in found.works:
        d = w.document
        lines.append(f"{'[control] ' if d.is_control else ''}{d.title} (document {d.id}, {len(d.text):,} characters): "
                     f"{w.attempts:,} attempts; best verbatim run {w.best_run_words:,} words")
        for pf in w.prefix:
            lines.append(f"  {len(pf.attempts):,} {pf.procedure.method} attempts (k = {pf.procedure.prefix}, "
                         f"m = {pf.procedure.suffix} tokens):")
            for tau, r in pf.by_tau:
                ctrl = ("(this is a control)" if d.is_control else NO_CONTROLS if pf.controls is None else
                        pf.controls.at(tau).describe())  # type: ignore[union-attr]
                lines.append(f"    {tau_label(tau)}: {r.describe()}; false positives on controls: {ctrl}")
        if not w.sweeps:
            lines.append("  no sweep: no work-level character rate (run `memoview sweep`)")
        for s in w.sweeps:
            lines.append(f"  sweep attempt {s.attempt.id} ({s.procedure.describe()}; {s.attempt.status}): "
                         f"{s.rates.window_count:,} windows, {s.rates.chars_tested:,} characters tested; "
                         f"best p_z {fmt_pz(s.rates.max_log10_pz)}")
            for t in list(s.rates.thresholds) + [s.rates.greedy]:
                lines.append(f"    {t.describe()}")
                lines.append(f"      false positives on controls: {s.control_text(t.tau)}")
            lines.append(f"    low-entropy: {s.low_entropy.describe()}")
        for sm in w.sampled:
            lines.append(f"  sampled attempts {sm.attempts[0]}\u2013{sm.attempts[-1]}: {sm.describe()}")
    if not found.works:
        lines.append("The case has no attempts yet.")
    return "\n".join(lines)


def cmd_control_generate(args: argparse.Namespace) -> int:
    from memoview.core.findings.controls import generate_control

    with Case.open(args.case) as case:
        source = case.resolve_document(args.doc)
        doc = generate_control(case, source, args.kind, args.seed)
        if args.json:
            print(json.dumps({"id": doc.id, "title": doc.title, "raw_sha256": doc.raw_sha256,
                              "text_sha256": doc.text_sha256, "is_control": doc.is_control,
                              "recipe": json.loads(doc.notes.split("\n", 1)[1])}, indent=2))
        else:
            print(f"Imported document {doc.id}: '{doc.title}' (negative control, generated; "
                  f"SHA-256 {doc.raw_sha256[:16]}…)")
    return 0
