"""`memoview sweep|extract|pz|prompt|membership|run|attempts|attempt show|attempt reproduce`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Optional

from memoview.cli.argtypes import bounded_int, finite_float
from memoview.cli.progress import run_with_progress
from memoview.core import errors
from memoview.core.case import Case
from memoview.core.extraction import catalogue
from memoview.core.extraction.attempts import PrefixRequest
from memoview.core.extraction.membership import MembershipRequest
from memoview.core.extraction.prompts import PromptRequest
from memoview.core.extraction.sweep import SweepRequest
from memoview.core.limits import check_attempt_count
from memoview.core.records import Attempt, AttemptStatus, Method, PromptClass

# Every default below is the request dataclass's own (written once there).
PREFIX = catalogue.request_defaults(PrefixRequest)
PROMPT = catalogue.request_defaults(PromptRequest)
SWEEP = catalogue.request_defaults(SweepRequest)
MEMBERSHIP = catalogue.request_defaults(MembershipRequest)
PROMPT_CLASSES = [c.value for c in PromptClass]
DECODINGS = ["greedy", "sample", "beam"]
# Samples drawn when sampling and --n is not given (the free prompt's default, also for sampled prefix attempts).
SAMPLED_N = int(PROMPT["n_samples"])


def engine_args(p: argparse.ArgumentParser, *, engine: bool = True, dtype: bool = True) -> None:
    """``--engine/--device/--dtype/--threads``: how the model is run (every command that runs a model)."""
    if engine:
        p.add_argument("--engine", default="auto",
                       help="transformers, llama.cpp, openai (a served model: --endpoint URL --model MODEL_ID), "
                            "or auto (default: llama.cpp for a .gguf file when installed, else transformers)")
        from memoview.cli.server_cmds import add_server_args

        add_server_args(p, required=False, with_model=False)
    p.add_argument("--device", default="auto", help="transformers: cpu (default), cuda, cuda:N or mps")
    if dtype:
        p.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16", "float16"],
                       help="transformers: float32 (default, the reference), bfloat16 or float16 (for GPUs and "
                            "memory; slow on a CPU)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: the engine's choice, at most 4)")


def engine_settings(args: argparse.Namespace) -> Any:
    from memoview.core.engines.base import EngineSettings

    if getattr(args, "threads", None) is not None and args.threads < 1:
        raise errors.ValidationError(f"--threads must be at least 1 (got {args.threads}).")
    from memoview.cli.server_cmds import served_options

    engine, options = served_options(args)
    return EngineSettings(engine=engine, device=getattr(args, "device", "auto"),
                          dtype=getattr(args, "dtype", "auto") or "auto", threads=getattr(args, "threads", None),
                          options=options)


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("case")
    p.add_argument("--model", required=True, help="a model registered in the case (id, name) or a model path")
    engine_args(p)
    p.add_argument("--allow-pickle", action="store_true", help="allow pickle weights (can run code)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _passage_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--document", required=True, help="document id, title or SHA-256 prefix")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--token-start", type=bounded_int, help="token index where the target (true continuation) starts")
    where.add_argument("--char-start", type=bounded_int, help="character index where the target starts")
    where.add_argument("--select", help="text in the document where the target starts")
    p.add_argument("--prefix", type=bounded_int, default=PREFIX["prefix"],
                   help=f"prefix tokens supplied to the model (default {PREFIX['prefix']})")
    p.add_argument("--suffix", type=bounded_int, default=PREFIX["suffix"], help=f"target tokens (default {PREFIX['suffix']})")
    p.add_argument("--pz-top-k", type=bounded_int, default=PREFIX["pz_top_k"],
                   help=f"top-k of the p_z scheme (default {PREFIX['pz_top_k']}; 0 rejected)")
    p.add_argument("--pz-temperature", type=finite_float, default=PREFIX["pz_temperature"],
                   help=f"temperature of the p_z scheme (default {PREFIX['pz_temperature']})")
    p.add_argument("--prompt-class", default=PREFIX["prompt_class"], choices=PROMPT_CLASSES)
    _bos_arg(p)


def _bos_arg(p: argparse.ArgumentParser) -> None:
    from memoview.core.extraction import bos

    p.add_argument("--bos-policy", default=bos.OUTSIDE, choices=list(bos.CHOICES), help=bos.CLI_HELP)


def _decoding_args(p: argparse.ArgumentParser, defaults: dict[str, Any]) -> None:
    p.add_argument("--decoding", default=defaults["decoding"], choices=DECODINGS)
    p.add_argument("--temperature", type=finite_float, default=defaults["temperature"])
    p.add_argument("--top-k", type=bounded_int, default=defaults["top_k"])
    p.add_argument("--top-p", type=finite_float, default=defaults["top_p"])
    p.add_argument("--num-beams", type=bounded_int, default=defaults["num_beams"])
    p.add_argument("--n", type=bounded_int, default=None,
                   help=f"number of samples (sampling only; default {SAMPLED_N})")
    p.add_argument("--seed", type=bounded_int, default=defaults["seed"],
                   help="seed of the first sample; sample i uses seed + i")
    p.add_argument("--confirm-large", action="store_true",
                   help="allow more than 500 attempts in one command (refused otherwise: it may run for hours)")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sw = subparsers.add_parser("sweep", help=catalogue.get(Method.SWEEP).cli_help)
    _model_args(sw)
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
    _bos_arg(sw)
    sw.set_defaults(handler=cmd_sweep)

    ex = subparsers.add_parser("extract", help=catalogue.get(Method.PREFIX).cli_help)
    _model_args(ex)
    _passage_args(ex)
    _decoding_args(ex, PREFIX)
    ex.set_defaults(handler=cmd_extract, method=Method.PREFIX.value)

    pz = subparsers.add_parser("pz", help=catalogue.get(Method.PZ).cli_help)
    _model_args(pz)
    _passage_args(pz)
    pz.set_defaults(handler=cmd_extract, method=Method.PZ.value, decoding="greedy", temperature=PREFIX["temperature"],
                    top_k=None, top_p=None, num_beams=PREFIX["num_beams"], n=None, seed=PREFIX["seed"])

    pr = subparsers.add_parser("prompt", help=catalogue.get(Method.PROMPT).cli_help)
    _model_args(pr)
    src = pr.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="the prompt text")
    src.add_argument("--chat-json", help="a JSON file with a list of {role, content} messages")
    pr.add_argument("--document", help="the document the outputs are to be compared with")
    pr.add_argument("--max-new-tokens", type=bounded_int, default=PROMPT["max_new_tokens"])
    pr.add_argument("--prompt-class", default=PROMPT["prompt_class"], choices=PROMPT_CLASSES)
    _decoding_args(pr, PROMPT)
    pr.set_defaults(handler=cmd_prompt)

    mb = subparsers.add_parser("membership", help=catalogue.get(Method.MEMBERSHIP).cli_help.replace("%", "%%"))
    _model_args(mb)
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


def _threads(engine: Any = None, threads: Optional[int] = None) -> None:
    """At most 4 torch threads unless --threads says otherwise (other engines set their own)."""
    if engine is not None and getattr(engine, "name", "transformers") != "transformers":
        return
    import torch

    torch.set_num_threads(int(threads) if threads else max(1, min(torch.get_num_threads(), 4)))


def _fmt(x: Optional[float], digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


# ---------------------------------------------------------------- commands
def cmd_sweep(args: argparse.Namespace) -> int:
    from memoview.core.extraction.sweep import run_sweep, sweep_json

    with Case.open(args.case) as case:
        doc = case.resolve_document(args.document)
        req = SweepRequest(prefix=args.prefix, suffix=args.suffix, stride=args.stride, stride_unit=args.stride_unit,
                           pz_top_k=args.top_k, pz_temperature=args.temperature, generate=args.generate,
                           generate_best=args.generate_best, batch_size=args.batch_size, bos=args.bos_policy)
        req.validate()
        lm = open_case_model(case, args.model, args.allow_pickle, args.quiet, engine_settings(args))
        _threads(lm, args.threads)
        attempt, windows = run_with_progress(run_sweep(case, lm, doc, req), quiet=args.quiet or args.json)
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
    from memoview.core.extraction.attempts import run_prefix

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
        _threads(lm, args.threads)
        attempts = run_with_progress(run_prefix(case, lm, doc, req, method=args.method),
                                     quiet=args.quiet or args.json)
        if args.json:
            print(json.dumps([attempt_json(a) for a in attempts], indent=2))
            return 0
        for a in attempts:
            _print_attempt(a)
    return 0


def cmd_prompt(args: argparse.Namespace) -> int:
    from memoview.core.extraction.prompts import run_prompt

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
        _threads(lm, args.threads)
        attempts = run_with_progress(run_prompt(case, lm, req, document=doc), quiet=args.quiet or args.json)
        if args.json:
            print(json.dumps([attempt_json(a) for a in attempts], indent=2))
            return 0
        if attempts:
            print(f"prompt built with {attempts[0].metrics.get('prompt_construction')}")
        for a in attempts:
            _print_attempt(a)
    return 0


def cmd_membership(args: argparse.Namespace) -> int:
    from memoview.core.extraction.membership import run_membership

    with Case.open(args.case) as case:
        doc = case.resolve_document(args.document)
        lm = open_case_model(case, args.model, args.allow_pickle, args.quiet, engine_settings(args))
        _threads(lm, args.threads)
        a = run_with_progress(run_membership(case, lm, doc, k_percent=args.k_percent), quiet=args.quiet or args.json)
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
        _threads(lm, args.threads)
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


def attempt_json(a: Attempt) -> dict[str, Any]:
    from dataclasses import asdict

    data = asdict(a)
    for key, value in list(data.items()):
        if isinstance(value, tuple):
            data[key] = list(value)
    return data


def _print_attempt(a: Attempt) -> None:
    from memoview.core.extraction.pz_label import pz_text

    m = a.metrics
    print(f"attempt {a.id}  {a.spec.method}  {a.status}  seed {a.spec.seed}  decoding {a.spec.params.get('decoding')}")
    if "greedy_exact" in m:
        print(f"  greedy exact {m['greedy_exact']}/{m.get('suffix_tokens')} tokens   "
              f"memorization score {_fmt(m.get('memorization_score'))}   "
              f"p_z {pz_text(m)}"
              f"   n@p=0.99: {m.get('n_samples_p99') or '—'}")
    if a.status == AttemptStatus.REFUSED:
        print(f"  refusal detected: '{m.get('refusal_phrase')}'")
    if a.error:
        print(f"  error: {a.error}")
    if a.output_text:
        print("  output: " + a.output_text[:300].replace("\n", " ") + ("…" if len(a.output_text) > 300 else ""))


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
    return _fmt(m.get("log10_pz", m.get("max_log10_pz")))


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
        _threads(lm, args.threads)
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
                parts.append(f"the same greedy exact length and log10 p_z {_fmt(details['pz']['rerun']['log10_pz'], 4)}"
                             f" (within {details['tolerance_log10']:g})")
            print(f"attempt {a.id} reproduced: " + "; ".join(parts))
        else:
            if details["first_difference"] == "p_z":
                pz = details["pz"]
                print(f"attempt {a.id} NOT reproduced: p_z differs (recorded greedy {pz['recorded']['greedy_exact']}, "
                      f"log10 p_z {_fmt(pz['recorded']['log10_pz'], 4)}; re-run greedy {pz['rerun']['greedy_exact']}, "
                      f"log10 p_z {_fmt(pz['rerun']['log10_pz'], 4)}; tolerance {details['tolerance_log10']:g})",
                      file=sys.stderr)
            else:
                where = "window" if a.spec.method == Method.SWEEP else "token"
                print(f"attempt {a.id} NOT reproduced: first difference at {where} {details['first_difference']}",
                      file=sys.stderr)
    return 0 if same else 1
