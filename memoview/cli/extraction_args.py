"""The options the model-running commands share, and their defaults.

``--engine/--device/--dtype/--threads`` (every command that runs a model, also ``engine``), the case and
model arguments, where a passage starts, the BOS policy and the decoding settings. Every default is the
request dataclass's own (``catalogue.request_defaults``), written once there.
"""

from __future__ import annotations

import argparse
from typing import Any

from memoview.cli.argtypes import bounded_int, finite_float
from memoview.core import errors
from memoview.core.extraction import catalogue
from memoview.core.extraction.attempts import PrefixRequest
from memoview.core.extraction.membership import MembershipRequest
from memoview.core.extraction.prompts import PromptRequest
from memoview.core.extraction.sweep import SweepRequest
from memoview.core.records import PromptClass

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
    """The ``EngineSettings`` the engine options (and a served model's ``--endpoint`` ...) ask for."""
    from memoview.core.engines.base import EngineSettings

    if getattr(args, "threads", None) is not None and args.threads < 1:
        raise errors.ValidationError(f"--threads must be at least 1 (got {args.threads}).")
    from memoview.cli.server_cmds import served_options

    engine, options = served_options(args)
    return EngineSettings(engine=engine, device=getattr(args, "device", "auto"),
                          dtype=getattr(args, "dtype", "auto") or "auto", threads=getattr(args, "threads", None),
                          options=options)


def model_args(p: argparse.ArgumentParser) -> None:
    """The case, ``--model``, how to run it, and the output switches of a command that runs a model."""
    p.add_argument("case")
    p.add_argument("--model", required=True, help="a model registered in the case (id, name) or a model path")
    engine_args(p)
    p.add_argument("--allow-pickle", action="store_true", help="allow pickle weights (can run code)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def passage_args(p: argparse.ArgumentParser) -> None:
    """The document and where in it the target starts, the prefix/suffix lengths and the p_z scheme."""
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
    bos_arg(p)


def bos_arg(p: argparse.ArgumentParser) -> None:
    """``--bos-policy``: its choices and help are the core's (``extraction/bos.py``)."""
    from memoview.core.extraction import bos

    p.add_argument("--bos-policy", default=bos.OUTSIDE, choices=list(bos.CHOICES), help=bos.CLI_HELP)


def decoding_args(p: argparse.ArgumentParser, defaults: dict[str, Any]) -> None:
    """How outputs are decoded and how many; ``defaults`` are the request type's (``PREFIX`` or ``PROMPT``)."""
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
