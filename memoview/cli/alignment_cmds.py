"""`memoview align CASE --attempt ID` and `memoview attribute CASE --text FILE`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from memoview.cli.argtypes import bounded_int, finite_float
from memoview.core.alignment.types import Alignment, AlignOptions
from memoview.core.case import Case
from memoview.core.errors import DocumentError, ValidationError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    al = subparsers.add_parser(
        "align",
        help="align an attempt's output with its document: spans and metrics",
        description="Align an attempt's output with its document. Prefix attempts are compared with their "
        "target passage only (the prompt was supplied to the model and is never counted); free prompts "
        "with the whole document. Source offsets are whole-document characters.",
    )
    al.add_argument("case")
    al.add_argument("--attempt", type=bounded_int, required=True, metavar="ID")
    al.add_argument("--json", action="store_true", help="machine-readable output")
    al.add_argument("--save", action="store_true", help="store the alignment in the case (audited)")
    al.add_argument("--min-words", type=bounded_int, default=AlignOptions().min_verbatim_words,
                    help="shortest verbatim run reported, in words (default %(default)s)")
    al.add_argument("--near", type=finite_float, default=AlignOptions().near_threshold,
                    help="near-exact threshold, normalized edit distance (default %(default)s)")
    al.set_defaults(handler=cmd_align)

    at = subparsers.add_parser(
        "attribute",
        help="which documents of the case contain a text's spans, ranked",
    )
    at.add_argument("case")
    at.add_argument("--text", required=True, metavar="FILE", help="UTF-8 text file (e.g. a model output)")
    at.add_argument("--top", type=bounded_int, default=10, help="number of documents to report (default %(default)s)")
    at.add_argument("--json", action="store_true", help="machine-readable output")
    at.set_defaults(handler=cmd_attribute)


def _excerpt(text: str, start: int, end: int, width: int = 60) -> str:
    s = " ".join(text[start:end].split())
    return s if len(s) <= width else s[: width - 21] + " … " + s[-18:]


def _print_alignment(al: Alignment, source: str, output: str) -> None:
    m = al.metrics
    if not al.spans:
        print("no matching spans (at the options below)")
    else:
        print(f"{'id':>3}  {'kind':<8} {'words':>6} {'chars':>6} {'edits':>5}  {'source chars':<17} {'output chars':<15}  text")
        for s in al.spans:
            print(f"{s.match_id:>3}  {s.kind:<8} {s.words:>6} {s.chars:>6} {s.edit_distance:>5}  "
                  f"{f'{s.source_start}-{s.source_end}':<17} {f'{s.output_start}-{s.output_end}':<15}  "
                  f"{_excerpt(output, s.output_start, s.output_end)}")
    print()
    lcs_note = "" if m.longest_common_substring_exact else " (lower bound: source too long for the exact search)"
    rows: list[tuple[str, str]] = [
        ("longest verbatim run", f"{m.longest_verbatim_words} words, {m.longest_verbatim_chars} characters"
         + (f", {m.longest_verbatim_tokens} tokens" if m.longest_verbatim_tokens is not None else "")),
        ("longest common substring", f"{m.longest_common_substring_chars} normalized characters (contiguous){lcs_note}"),
        ("longest common subsequence", f"{m.longest_common_subsequence_words} words (not necessarily contiguous)"),
        ("coverage of the source", f"{m.source_coverage_fraction:.1%} of {m.source_words} words "
         f"(verbatim only {m.source_verbatim_coverage_fraction:.1%})"),
        ("coverage of the output", f"{m.output_coverage_fraction:.1%} of {m.output_words} words "
         f"(verbatim only {m.output_verbatim_coverage_fraction:.1%})"),
        ("edit similarity", f"{m.edit_similarity_words_fraction:.3f} (1 - word-level Levenshtein / longer length)"),
        ("ROUGE-L F", f"{m.rouge_l_f_fraction:.3f} (words)" + ("  [>= flag threshold]" if m.rouge_l_flag else "")),
        ("exact suffix match", "yes: the output begins with the whole compared source" if m.exact_suffix_match else "no"),
        ("memorization score", f"{m.memorization_score_fraction:.3f} (fraction of word positions equal, Biderman et al.)"),
        ("spans", f"{m.verbatim_span_count} verbatim, {m.near_span_count} near-exact"),
        ("excluded (prompt)", f"{m.excluded_source_words} source words, {m.excluded_output_words} output words"),
    ]
    for k, v in rows:
        print(f"{k:<27} {v}")
    o = al.options
    print(f"{'options':<27} min verbatim run {o.min_verbatim_words} words; near-exact <= {o.near_threshold:.0%} "
          f"normalized edit distance; normalization: {o.normalization.describe()}")


def cmd_align(args: argparse.Namespace) -> int:
    from memoview.core.alignment.attempts import align_attempt, compared_region

    options = AlignOptions(min_verbatim_words=args.min_words, near_threshold=args.near)
    with Case.open(args.case) as case:
        attempt = case.attempt(args.attempt)
        if not attempt.output_text:
            raise ValidationError(
                f"attempt {attempt.id} has no output text (status: {attempt.status})",
                "only finished attempts with an output can be aligned",
            )
        al = align_attempt(case, attempt, options)
        doc = case.document(attempt.spec.document_id) if attempt.spec.document_id is not None else None
        saved = None
        if args.save:
            saved = case.save_alignment(attempt.id, attempt.spec.document_id, options.to_json(), al.to_json())
    region = compared_region(attempt, doc) if doc is not None else (0, 0)
    if args.json:
        data: dict[str, Any] = {
            "attempt_id": attempt.id,
            "document_id": attempt.spec.document_id,
            "compared_source_chars": list(region),
            "alignment": al.to_json(),
        }
        if saved is not None:
            data["saved_alignment_id"] = saved
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    title = doc.title if doc is not None else "?"
    print(f"attempt {attempt.id} ({attempt.spec.method}, {attempt.spec.prompt_class}) vs document "
          f"{attempt.spec.document_id} '{title}', characters {region[0]}-{region[1]}")
    _print_alignment(al, doc.text if doc is not None else "", attempt.output_text)
    if saved is not None:
        print(f"saved as alignment {saved}")
    return 0


def cmd_attribute(args: argparse.Namespace) -> int:
    from memoview.core.alignment.attribution import attribute

    path = Path(args.text)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DocumentError(f"no such text file: {path}", "give the path of a UTF-8 text file") from None
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})",
                            "save the text as UTF-8 first") from None
    except OSError as exc:
        raise DocumentError(f"cannot read {path}: {exc.strerror}", "check the path and permissions") from None
    with Case.open(args.case) as case:
        results = attribute(case, text, top=args.top)
    if args.json:
        print(json.dumps({"text_file": str(path), "results": [r.to_json() for r in results]},
                         indent=2, ensure_ascii=False))
        return 0
    if not results:
        print("no document of the case shares an 8-word sequence with this text")
        return 0
    print(f"{'rank':>4}  {'doc':>5}  {'matched words':>13}  {'spans':>5}  {'longest run':>11}  title")
    for rank, r in enumerate(results, start=1):
        m = r.alignment.metrics if r.alignment else None
        longest = f"{m.longest_verbatim_words} words" if m else "?"
        ctl = "  [negative control]" if r.is_control else ""
        print(f"{rank:>4}  {r.document_id:>5}  {r.matched_words:>13}  {len(r.spans):>5}  {longest:>11}  {r.title}{ctl}")
        for sp in sorted(r.spans, key=lambda x: -x.words)[:3]:
            print(f"{'':>13}{sp.kind} #{sp.match_id}: {sp.words} words, document chars {sp.source_start}-"
                  f"{sp.source_end}, text chars {sp.output_start}-{sp.output_end}: "
                  f"\"{_excerpt(text, sp.output_start, sp.output_end, 50)}\"")
    print("\nmatched words: words of the text inside spans aligned with that document "
          "(up to 3 longest spans shown; --json lists all)")
    return 0
