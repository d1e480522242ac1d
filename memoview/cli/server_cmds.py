"""``memoview server ...``: served models (OpenAI-compatible HTTP: vLLM, llama.cpp's server, deployed APIs).

* ``server test --endpoint URL --model ID`` probes a server and prints what it can do.
* ``server add CASE --endpoint URL --model ID [--tokenizer PATH]`` registers it as a model of the case
  (the probe's requests and responses are stored in the case too).
* ``server exchanges CASE ATTEMPT [--out DIR]`` lists the stored requests and responses of an attempt,
  with their SHA-256, and writes the bodies out byte for byte for inspection.

The API key is read from ``--api-key-env`` (default MEMOVIEW_API_KEY) or the
OS keyring at the moment of each request; it is never printed or stored.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.remote import evidence
from memoview.core.remote.endpoint import DEFAULT_KEY_ENV, Endpoint


def add_server_args(p: argparse.ArgumentParser, *, required: bool = True, with_model: bool = True) -> None:
    """The served-model options, shared with every command that runs a model (``--engine openai``;
    there ``--model`` names the served model id)."""
    p.add_argument("--endpoint", action="append", required=required, metavar="URL",
                   help="OpenAI-compatible base URL, e.g. http://gpu-node:8000/v1; repeat for replicas of one model")
    if with_model:
        p.add_argument("--model", required=required, metavar="MODEL_ID",
                       help="the model id the server serves (as listed under /v1/models)")
    p.add_argument("--tokenizer", metavar="PATH",
                   help="the served model's tokenizer (HF folder or its GGUF); needed for scoring and sweeps")
    p.add_argument("--api-key-env", default=DEFAULT_KEY_ENV, metavar="VAR",
                   help=f"environment variable holding the API key (default {DEFAULT_KEY_ENV}; never stored)")
    p.add_argument("--concurrency", type=int, default=4, help="requests in flight per endpoint (default 4)")
    p.add_argument("--api-retries", type=int, default=4, help="retries on 429/5xx/connection failures (default 4)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for one answer (default 300)")


def endpoints_from_args(args: argparse.Namespace, model_id: str | None = None) -> list[Endpoint]:
    mid = model_id or getattr(args, "model", None)
    if not mid:
        raise errors.ValidationError("A served model needs its model id.", "Give --model MODEL_ID.")
    return [Endpoint(base_url=url, model_id=mid, api_key_env=args.api_key_env, concurrency=args.concurrency,
                     read_timeout_s=args.timeout, max_retries=args.api_retries) for url in args.endpoint]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sv = subparsers.add_parser("server", help="served models: test a server, add it to a case, show exchanges")
    sub = sv.add_subparsers(dest="server_command", metavar="SUBCOMMAND", required=True)

    test = sub.add_parser("test", help="probe an OpenAI-compatible server and print its capabilities")
    add_server_args(test)
    test.add_argument("--json", action="store_true")
    test.set_defaults(handler=cmd_test)

    add = sub.add_parser("add", help="register a served model in a case (probe stored as evidence)")
    add.add_argument("case")
    add_server_args(add)
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=cmd_add)

    ex = sub.add_parser("exchanges", help="the stored requests and responses of an attempt, with SHA-256")
    ex.add_argument("case")
    ex.add_argument("attempt", type=int)
    ex.add_argument("--out", help="write each body to this folder (NNN-request.json / NNN-response.json)")
    ex.add_argument("--json", action="store_true")
    ex.set_defaults(handler=cmd_exchanges)


def connect_from_args(args: argparse.Namespace, collector: evidence.Collector) -> Any:
    from memoview.core.engines.openai import connect

    return connect(endpoints_from_args(args), args.tokenizer, collector)


def cmd_test(args: argparse.Namespace) -> int:
    col = evidence.Collector()
    engine = connect_from_args(args, col)
    try:
        caps = engine.server_caps
        if args.json:
            print(json.dumps({"capabilities": caps.to_json(), "engine_capabilities": engine.capabilities.to_json(),
                              "probe_requests": len(col)}, indent=2))
        else:
            print(f"{engine.endpoints[0].label}")
            for line in caps.lines():
                print(f"  {line}")
            print(f"  ({len(col)} probe requests; nothing was stored — 'memoview server add' stores them in a case)")
    finally:
        engine.close()
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    col = evidence.Collector()
    with Case.open(args.case) as case:
        engine = connect_from_args(args, col)
        try:
            info = case.add_model(engine.info)
            case.record_server_exchanges(info.id, col.drain(), "capability probe when the served model was added")
            payload = {"model_id": info.id, "name": info.name, "fingerprint": info.fingerprint,
                       "path": info.path, "capabilities": engine.server_caps.to_json()}
            if args.json:
                print(json.dumps(payload, indent=2))
            else:
                print(f"model {info.id}: {info.name}")
                print(f"  identity: {info.fingerprint[:16]}… (endpoint and model id; no weights — deployed system)")
                for line in engine.server_caps.lines():
                    print(f"  {line}")
        finally:
            engine.close()
    return 0


def exchange_rows_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": r["id"], "seq": r["seq"], "endpoint": r["endpoint"], "served_model": r["served_model"],
             "method": r["method"], "path": r["path"], "purpose": r["purpose"], "status": r["status"],
             "error": r["error"], "try": r["try_index"], "started_at": r["started_at"],
             "finished_at": r["finished_at"], "request_sha256": r["request_sha256"],
             "response_sha256": r["response_sha256"], "request_bytes": len(r["request_body"] or b""),
             "response_bytes": len(r["response_body"] or b"")} for r in rows]


def cmd_exchanges(args: argparse.Namespace) -> int:
    with Case.open(args.case) as case:
        case.attempt(args.attempt)  # NotFoundError with the usual message
        rows = case.server_exchanges(args.attempt)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for r in rows:
            (out / f"{r['seq']:04d}-{r['id']}-request.json").write_bytes(r["request_body"] or b"")
            (out / f"{r['seq']:04d}-{r['id']}-response.json").write_bytes(r["response_body"] or b"")
    if args.json:
        print(json.dumps(exchange_rows_json(rows), indent=2))
        return 0
    if not rows:
        print(f"attempt {args.attempt} has no stored server exchanges (it did not run on a served model)")
        return 0
    for r in exchange_rows_json(rows):
        print(f"#{r['seq']} {r['method']} {r['endpoint']} {r['path']} -> {r['status'] or r['error']} "
              f"({r['purpose']}, try {r['try']}) {r['started_at']}")
        print(f"    request  {r['request_sha256']}  {r['request_bytes']:,} bytes")
        print(f"    response {r['response_sha256']}  {r['response_bytes']:,} bytes")
    if args.out:
        print(f"bodies written to {args.out} (check with: sha256sum {args.out}/*)")
    return 0


# ------------------------------------------------------------------ --engine openai on the model commands
def served_options(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """(engine name, engine options) from ``--engine``/``--endpoint``/... (an endpoint implies --engine openai)."""
    engine = getattr(args, "engine", "auto") or "auto"
    urls = getattr(args, "endpoint", None) or []
    if not urls:
        if engine in ("openai", "vllm", "server"):
            raise errors.ValidationError("--engine openai needs the server's address.",
                                         "Give --endpoint http://HOST:PORT/v1 (repeat it for replicas).")
        return engine, {}
    if engine not in ("auto", "openai", "vllm", "server"):
        raise errors.ValidationError(f"--endpoint is for served models, not the {engine} engine.",
                                     "Use --engine openai with --endpoint, or leave --endpoint out.")
    options: dict[str, Any] = {"endpoints": list(urls), "api_key_env": args.api_key_env,
                               "concurrency": args.concurrency, "read_timeout_s": args.timeout,
                               "max_retries": args.api_retries}
    if getattr(args, "tokenizer", None):
        options["tokenizer"] = args.tokenizer
    return "openai", options


def served_ref(case: Case, ref: str, settings: Any) -> str:
    """``--model`` under ``--engine openai``: a registered served model (id or name) or the served model id."""
    if settings is None or getattr(settings, "engine", "") != "openai":
        return ref
    if case.resolve_model(ref) is not None:
        return ref
    from memoview.core.engines.openai import served_path

    urls = settings.options.get("endpoints") or []
    return served_path(Endpoint(base_url=urls[0], model_id=ref)) if urls else ref


def run_served_campaign(case: Case, engine: Any, protocol: Any, data: dict[str, Any],
                        args: argparse.Namespace) -> dict[str, Any]:
    from memoview.cli.progress import run_with_progress
    from memoview.core.remote.campaign import run_campaign_concurrent

    workers = max(1, int(getattr(args, "concurrency", 4) or 4)) * max(1, len(engine.endpoints))
    return dict(run_with_progress(run_campaign_concurrent(case, engine, protocol, data, workers=workers),
                                  quiet=args.quiet or args.json))
