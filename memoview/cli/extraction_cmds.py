"""`memoview sweep|extract|pz|prompt|membership|run`: run extraction methods and campaigns headless.

The options they share are in :mod:`.extraction_args`; the recorded attempts are listed, shown and re-run by
:mod:`.attempt_cmds`, which also prints them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Optional

from memoview.cli.argtypes import bounded_int, finite_float
from memoview.cli.attempt_cmds import attempt_json, print_attempt
from memoview.cli.extraction_args import (MEMBERSHIP, PREFIX, PROMPT, PROMPT_CLASSES, SAMPLED_N, SWEEP, bos_arg,
                                          decoding_args, engine_args, engine_settings, model_args, passage_args)
from memoview.cli.progress import run_with_progress
from memoview.core import errors
from memoview.core.case import Case
from memoview.core.extraction import catalogue
from memoview.core.extraction.attempts import PrefixRequest
from memoview.core.extraction.prompts import PromptRequest
from memoview.core.extraction.sweep import SweepRequest
from memoview.core.limits import check_attempt_count
from memoview.core.records import Method
from memoview.core.session import run_request


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sw = subparsers.add_parser("sweep", help=catalogue.get(Method.SWEEP).cli_help)
    model_args(sw)
    sw.add_argument("--document", required=True, help="document id, title or SHA-256 prefix")
    sw.add_argument("--prefix", type=bounded_int, default=SWEEP["prefix"])
    sw.add_argument("--suffix", type=bounded_int, default=SWEEP["suffix"])
    sw.add_argument("--stride", type=bounded_int, default=SWEEP["stride"])
    sw.add_argument("--stride-unit", default=SWEEP["stride_unit"], choices=["tokens", "chars"])
    sw.add_argument("--top-k", type=bounded_int, default=SWEEP["pz_top_k"],
                    help=f"top-k of the p_z scheme (default {SWEEP['pz_top_k']})")
    sw.add_argument("--temperature", type=finite_float, default=SWEEP["pz_temperature"],
                    help=f"temperature of the p_z scheme (default {SWEEP['pz_temperature']})")
    sw.add_argument("--generate", action="store_true", help="also generate each window's greedy continuation")
    sw.add_argument("--generate-best", type=bounded_int, default=SWEEP["generate_best"], metavar="N",
                    help="without --generate: generate the continuations of the N windows with the longest exact "
                         f"continuations, for the exhibit's side-by-side view (default {SWEEP['generate_best']}; "
                         "0 for none)")
    sw.add_argument("--batch-size", type=bounded_int, default=SWEEP["batch_size"])
    bos_arg(sw)
    sw.set_defaults(handler=cmd_sweep)

    ex = subparsers.add_parser("extract", help=catalogue.get(Method.PREFIX).cli_help)
    model_args(ex)
    passage_args(ex)
    decoding_args(ex, PREFIX)
    ex.set_defaults(handler=cmd_extract, method=Method.PREFIX.value)

    pz = subparsers.add_parser("pz", help=catalogue.get(Method.PZ).cli_help)
    model_args(pz)
    passage_args(pz)
    pz.set_defaults(handler=cmd_extract, method=Method.PZ.value, decoding="greedy", temperature=PREFIX["temperature"],
                    top_k=None, top_p=None, num_beams=PREFIX["num_beams"], n=None, seed=PREFIX["seed"])

    pr = subparsers.add_parser("prompt", help=catalogue.get(Method.PROMPT).cli_help)
    model_args(pr)
    src = pr.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="the prompt text")
    src.add_argument("--chat-json", help="a JSON file with a list of {role, content} messages")
    pr.add_argument("--document", help="the document the outputs are to be compared with")
    pr.add_argument("--max-new-tokens", type=bounded_int, default=PROMPT["max_new_tokens"])
    pr.add_argument("--prompt-class", default=PROMPT["prompt_class"], choices=PROMPT_CLASSES)
    decoding_args(pr, PROMPT)
    pr.set_defaults(handler=cmd_prompt)

    mb = subparsers.add_parser("membership", help=catalogue.get(Method.MEMBERSHIP).cli_help.replace("%", "%%"))
    model_args(mb)
    mb.add_argument("--document", required=True)
    mb.add_argument("--k-percent", type=finite_float, default=MEMBERSHIP["k_percent"])
    mb.set_defaults(handler=cmd_membership)

    run = subparsers.add_parser("run", help="run a campaign protocol (TOML or JSON) headless; resumes")
    run.add_argument("case")
    run.add_argument("protocol")
    run.add_argument("--model", help="overrides the protocol's model")
    engine_args(run)
    run.add_argument("--allow-pickle", action="store_true")
    run.add_argument("--quiet", "-q", action="store_true")
    run.add_argument("--json", action="store_true")
    run.add_argument("--confirm-large", action="store_true",
                     help="allow a protocol with more than 500 attempts still to run")
    run.set_defaults(handler=cmd_run)


# ---------------------------------------------------------------- helpers
def open_case_model(case: Case, ref: str, allow_pickle: bool = False, quiet: bool = False,
                    settings: Any = None) -> Any:
    """A registered model (id, name, path) or a path, which is then registered; returns an opened Engine
    (through core/session.py: one fingerprint check, one message)."""
    from memoview.cli.server_cmds import served_ref
    from memoview.core.session import open_model_ref

    ref = served_ref(case, ref, settings)
    engine = run_with_progress(open_model_ref(case, ref, settings or engine_settings(argparse.Namespace()),
                                              allow_pickle=allow_pickle), quiet=quiet)
    if engine is None:
        raise errors.ModelError("Opening the model was cancelled.")
    if not quiet:
        print(f"engine: {engine.identity.label()}", file=sys.stderr)
    return engine


def set_threads(engine: Any = None, threads: Optional[int] = None) -> None:
    """At most 4 torch threads unless --threads says otherwise (other engines set their own)."""
    if engine is not None and getattr(engine, "name", "transformers") != "transformers":
        return
    import torch

    torch.set_num_threads(int(threads) if threads else max(1, min(torch.get_num_threads(), 4)))


# ---------------------------------------------------------------- commands
def cmd_sweep(args: argparse.Namespace) -> int:
    from memoview.core.extraction.sweep import sweep_json

    with Case.open(args.case) as case:
        doc = case.resolve_document(args.document)
        req = SweepRequest(prefix=args.prefix, suffix=args.suffix, stride=args.stride, stride_unit=args.stride_unit,
                           pz_top_k=args.top_k, pz_temperature=args.temperature, generate=args.generate,
                           generate_best=args.generate_best, batch_size=args.batch_size, bos=args.bos_policy)
        req.validate()
        lm = open_case_model(case, args.model, args.allow_pickle, args.quiet, engine_settings(args))
        set_threads(lm, args.threads)
        [attempt] = run_with_progress(run_request(case, lm, Method.SWEEP, req, document=doc),
                                      quiet=args.quiet or args.json)
        windows = case.sweep_windows(attempt.id)
        if args.json:
            print(json.dumps(sweep_json(case, attempt, windows), indent=2))
            return 0
        m = attempt.metrics
        control = " [negative control]" if doc.is_control else ""
        print(f"sweep attempt {attempt.id}: '{doc.title}'{control}, {m['windows']} windows of "
              f"{args.prefix}+{args.suffix} tokens, stride {args.stride} {args.stride_unit} ({attempt.status})")
        print(f"memorized windows (greedy exact = {args.suffix}): {m['windows_memorized']} "
              f"({m['fraction_memorized'] * 100:.1f}%), longest greedy exact {m['max_greedy_exact']} tokens")
        print(f"{'start_tok':>9} {'start_chr':>9} {'greedy':>6} {'score':>6} {'log10_p':>9} {'log10_pz':>9}")
        from memoview.core.extraction.pz_label import BOUND_NOTE, is_bound, window_pz_text

        for w in windows:
            print(f"{w.start_token:>9} {w.start_char:>9} {w.greedy_exact:>6} {w.memorization_score:>6.2f} "
                  f"{w.log10_p:>9.2f} {window_pz_text(w.log10_pz, w.index, m):>9}")
        if is_bound(m):
            print(f"p_z: {m.get('windows_pz_bounded')} windows show an {BOUND_NOTE}")
        if m.get("windows_not_scored"):
            from memoview.core.exhibits.outcomes import not_scored_text

            print(not_scored_text(m))
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    with Case.open(args.case) as case:
        doc = case.resolve_document(args.document)
        sampled = args.decoding == "sample" and args.method == Method.PREFIX
        n = args.n if args.n is not None else (SAMPLED_N if sampled else int(PREFIX["n_samples"]))
        check_attempt_count(n, confirmed=args.confirm_large, what=f"--n {n}")
        req = PrefixRequest(prefix=args.prefix, suffix=args.suffix, token_start=args.token_start,
                            char_start=args.char_start, select=args.select, decoding=args.decoding,
                            temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                            num_beams=args.num_beams, n_samples=n, seed=args.seed,
                            pz_temperature=args.pz_temperature, pz_top_k=args.pz_top_k,
                            prompt_class=args.prompt_class, bos=args.bos_policy)
        req.validate()
        lm = open_case_model(case, args.model, args.allow_pickle, args.quiet, engine_settings(args))
        set_threads(lm, args.threads)
        attempts = run_with_progress(run_request(case, lm, args.method, req, document=doc),
                                     quiet=args.quiet or args.json)
        if args.json:
            print(json.dumps([attempt_json(a) for a in attempts], indent=2))
            return 0
        for a in attempts:
            print_attempt(a)
    return 0


def cmd_prompt(args: argparse.Namespace) -> int:
    messages = None
    if args.chat_json:
        try:
            messages = json.loads(Path(args.chat_json).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise errors.ValidationError(f"Cannot read the chat messages in {args.chat_json}: {exc}.",
                                         "Give a JSON list of {\"role\": ..., \"content\": ...} objects.") from exc
    with Case.open(args.case) as case:
        doc = case.resolve_document(args.document) if args.document else None
        check_attempt_count(args.n or SAMPLED_N, confirmed=args.confirm_large, what=f"--n {args.n}")
        req = PromptRequest(text=args.text, messages=messages, n_samples=args.n or SAMPLED_N, seed=args.seed,
                            max_new_tokens=args.max_new_tokens, decoding=args.decoding, temperature=args.temperature,
                            top_k=args.top_k, top_p=args.top_p, num_beams=args.num_beams,
                            prompt_class=args.prompt_class)
        req.validate()
        lm = open_case_model(case, args.model, args.allow_pickle, args.quiet, engine_settings(args))
        set_threads(lm, args.threads)
        method = Method.CHAT if messages else Method.PROMPT
        attempts = run_with_progress(run_request(case, lm, method, req, document=doc), quiet=args.quiet or args.json)
        if args.json:
            print(json.dumps([attempt_json(a) for a in attempts], indent=2))
            return 0
        if attempts:
            print(f"prompt built with {attempts[0].metrics.get('prompt_construction')}")
        for a in attempts:
            print_attempt(a)
    return 0


def cmd_membership(args: argparse.Namespace) -> int:
    from memoview.core.extraction.membership import MembershipRequest

    with Case.open(args.case) as case:
        doc = case.resolve_document(args.document)
        lm = open_case_model(case, args.model, args.allow_pickle, args.quiet, engine_settings(args))
        set_threads(lm, args.threads)
        [a] = run_with_progress(run_request(case, lm, Method.MEMBERSHIP, MembershipRequest(k_percent=args.k_percent),
                                            document=doc), quiet=args.quiet or args.json)
        if args.json:
            print(json.dumps(attempt_json(a), indent=2))
            return 0
        m = a.metrics
        print(f"membership signals, attempt {a.id}, '{doc.title}' ({m['tokens']} tokens) — WEAK EVIDENCE")
        print(f"  perplexity {m['perplexity']:.3f}   zlib ratio {m['zlib_ratio']:.4f}   "
              f"Min-{m['min_k_percent']:g}% {m['min_k']:.3f}   Min-K%++ {m['min_k_plus_plus']:.3f}")
        print(f"  {m['caveat']}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from memoview.core.extraction.campaign import pending_attempts, plan, read_protocol, run_campaign, store_protocol

    with Case.open(args.case) as case:
        # Validate every step and the size of the run before the protocol is stored: a protocol
        # that cannot run (a NaN parameter, a typo'd count) leaves nothing in the case.
        _content, _fmt, checked = read_protocol(args.protocol)
        check_attempt_count(sum(s.samples for s in plan(case, checked)), confirmed=args.confirm_large,
                            what=f"The protocol {args.protocol}")
        protocol, data = store_protocol(case, args.protocol)
        planned, pending = pending_attempts(case, protocol, data)  # validates every step before loading the model
        result: dict[str, Any]
        if pending == 0:
            result = {"attempts_run": 0, "attempts_skipped": planned, "attempts_planned": planned,
                      "protocol_id": protocol.id, "protocol_sha256": protocol.sha256}
            if args.json:
                print(json.dumps(result, indent=2))
            else:
                print(f"protocol {protocol.id} ({protocol.sha256[:12]}): all {planned} planned attempts are already "
                      "in the case; nothing to run")
            return 0
        ref = args.model or data.get("model")
        if not ref:
            raise errors.ValidationError("The protocol names no model and no --model was given.",
                                         "Add model = \"...\" to the protocol or pass --model.")
        settings = engine_settings(args)
        if settings.engine == "auto" and data.get("engine"):  # the protocol may name its engine
            from dataclasses import replace

            settings = replace(settings, engine=str(data["engine"]), device=str(data.get("device", settings.device)),
                               dtype=str(data.get("dtype", settings.dtype)))
        lm = open_case_model(case, str(ref), args.allow_pickle, args.quiet, settings)
        set_threads(lm, args.threads)
        if lm.name == "openai":  # a served model: steps run concurrently over its endpoints (remote/campaign.py)
            from memoview.cli.server_cmds import run_served_campaign

            result = run_served_campaign(case, lm, protocol, data, args)
        else:
            result = dict(run_with_progress(run_campaign(case, lm, protocol, data), quiet=args.quiet or args.json))
        result["protocol_id"] = protocol.id
        result["protocol_sha256"] = protocol.sha256
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            print(f"protocol {protocol.id} ({protocol.sha256[:12]}): {result['attempts_run']} attempts run, "
                  f"{result['attempts_skipped']} already in the case, {result['attempts_planned']} planned")
    return 0
