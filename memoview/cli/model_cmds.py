"""`memoview model info PATH` and `memoview model add CASE PATH`."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

from memoview.cli.progress import run_with_progress
from memoview.core.records import ModelInfo


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    model = subparsers.add_parser("model", help="describe a model or register it in a case")
    sub = model.add_subparsers(dest="model_command", metavar="ACTION", required=True)

    info = sub.add_parser("info", help="format, architecture, size, tokenizer facts and fingerprint of a model")
    info.add_argument("path", help="a Hugging Face model folder or a .gguf file")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.add_argument("--allow-pickle", action="store_true",
                      help="accept pickle weights (*.bin, *.pt, ...); loading a pickle can run code")
    info.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    info.set_defaults(handler=cmd_info)

    add = sub.add_parser("add", help="register a model and its fingerprint in a case")
    add.add_argument("case")
    add.add_argument("path", help="a Hugging Face model folder or a .gguf file")
    add.add_argument("--name", help="a short name for the model in this case")
    add.add_argument("--allow-pickle", action="store_true",
                     help="accept pickle weights (*.bin, *.pt, ...); loading a pickle can run code")
    add.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    add.set_defaults(handler=cmd_add)


def _inspect(args: argparse.Namespace) -> ModelInfo:
    from memoview.core.models.inspect import inspect_model

    info = run_with_progress(inspect_model(args.path, allow_pickle=args.allow_pickle), quiet=args.quiet)
    assert info is not None  # no cancel token here
    return info


def describe(info: ModelInfo) -> str:
    """The human-readable model description (also used by the GUI's model panel)."""
    lines = [
        f"path            {info.path}",
        f"format          {'Hugging Face folder (safetensors)' if info.format == 'hf' else 'GGUF file'}",
        f"architecture    {info.architecture}",
        f"parameters      {info.parameter_count:,}",
        f"context length  {info.context_length:,} tokens" if info.context_length else "context length  unknown",
        f"quantization    {info.quantization or 'none'}",
        f"stored as       {info.stored_dtype or 'unknown'}",
        f"computes in     {info.dtype} on {info.device}",
        f"BOS / EOS       {info.bos_token!r} / {info.eos_token!r}; "
        f"tokenizer {'adds' if info.adds_bos else 'does not add'} BOS",
        f"chat template   {'yes' if info.has_chat_template else 'no'}",
    ]
    if info.shipped_generation_config:
        shown = json.dumps(info.shipped_generation_config, sort_keys=True)
        lines.append(f"shipped generation config (recorded, not applied): {shown}")
    else:
        lines.append("shipped generation config: none")
    for note in info.notes:
        lines.append(f"note            {note}")
    lines.append(f"fingerprint     {info.fingerprint}")
    lines.append("files (SHA-256, bytes, role)")
    for f in info.files:
        lines.append(f"  {f.sha256}  {f.relpath}  ({f.size:,} bytes, {f.role})")
    return "\n".join(lines)


def cmd_info(args: argparse.Namespace) -> int:
    info = _inspect(args)
    if args.json:
        print(json.dumps(info.to_json(), indent=2, sort_keys=True))
    else:
        print(describe(info))
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from memoview.core.case import Case

    with Case.open(args.case) as case:
        info = _inspect(args)
        if args.name:
            info = replace(info, name=args.name)
        existing = case.resolve_model(info.fingerprint)
        stored = case.add_model(info)
    if existing is not None:
        print(f"already registered: model {stored.id} ({stored.name}), fingerprint {stored.fingerprint}")
    else:
        print(f"registered model {stored.id} ({stored.name}), fingerprint {stored.fingerprint}")
    return 0
