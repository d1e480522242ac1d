"""The OpenAI-compatible server engine: vLLM, SGLang, llama.cpp's server, TGI, deployed APIs.

memoview drives the serving engine an expert already runs (vLLM with tensor
parallelism across GPUs, llama.cpp's server, a hosted API) instead of
re-implementing it. The model is then a *deployed system*: it has no weight
fingerprint and is identified by endpoint, model id, server-reported version
and date; every record and exhibit says so (:data:`DEPLOYED_STATEMENT`).

* Scoring (p_z, greedy exact length, sweeps) uses prompt log-probs: vLLM's
  ``prompt_logprobs`` with token-id prompts where the server has them, else
  completions with ``echo`` + ``logprobs`` (llama.cpp's server started with
  ``--logits_all true``). Echoed tokens come back as strings: they are
  checked against the local tokenizer's pieces (and against the server's
  own tokenize endpoint where there is one), so a score is never attributed
  to tokens the server did not score. With fewer top log-probs than the
  scheme's top-k the result is a labelled upper bound (remote/logprobs.py).
* Generation: completions for prefix continuation and free prompts; chat
  prompts through chat completions (the server applies its own template).
* Every request and response is stored verbatim with its SHA-256
  (remote/evidence.py, storage/exchanges.py); the API key never is.
* Several endpoints (replicas of one model) share the work: each batch of
  windows or contexts is spread over them, each endpoint capped at its own
  concurrency.

Why this module is over 500 lines: it is one engine, most of it the
:class:`OpenAIEngine` class implementing the engine protocol over HTTP,
plus the few functions that open one; its parts with a life of their own
(the HTTP client, log-prob parsing, the tokenizer check, capabilities,
evidence) already live in :mod:`memoview.core.remote`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional, Sequence

from memoview.core import errors
from memoview.core.engines.base import (CapabilityError, Capabilities, EngineIdentity, EngineSettings, Generation,
                                        GenerationParams, ScoringScheme)
from memoview.core.extraction.probability import TargetScores
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.core.records import ModelInfo
from memoview.core.remote import capabilities as caps_mod
from memoview.core.remote import evidence, logprobs
from memoview.core.remote.capabilities import ServerCapabilities
from memoview.core.remote.client import HttpClient
from memoview.core.remote.endpoint import Endpoint
from memoview.core.remote.tokenizer import LocalTokenizer

NAME = "openai"
DEPLOYED_STATEMENT = ("deployed system, identified by endpoint, model id and date; "
                      "weights not available to the examiner")
TOKENIZER_NOTE = "tokenizer: "
KEY_NOTE = "API key read from the environment variable "  # the variable's name only; never the key
CAPS_NOTE = "capabilities when added: "
CAPS_SEPARATOR = " | "


def unavailable_reason() -> Optional[str]:
    try:
        import httpx  # noqa: F401
    except ImportError:
        return "the OpenAI-compatible server engine needs the httpx package (pip install httpx)"
    return None


def declared_capabilities() -> Capabilities:
    """Before connecting: what any OpenAI-compatible server can at best do (the probe at connect time decides).

    Top-N log-probs only (no full vocabulary, so no membership signals), no beam search, not deterministic
    (a deployed system may change), chat through the server's own template.
    """
    return Capabilities(scoring=True, full_vocab_logits=False, top_logprobs=None, generation=True, sampling=True,
                        seeded_sampling=False, beam_search=False, deterministic=False, token_offsets=True,
                        chat_template=True, notes=(DEPLOYED_STATEMENT, "what the server can do is tested when "
                                                   "connecting (Test connection)"))


# ------------------------------------------------------------------------------------------ identity
def served_path(endpoint: Endpoint) -> str:
    """What the case stores as the model's path: the base URL and the model id."""
    return f"{endpoint.base_url}#{endpoint.model_id}"


def parse_served_path(path: str) -> tuple[str, str]:
    if "#" not in path:
        raise errors.ValidationError(f"'{path}' does not name a served model (expected URL#MODEL_ID).")
    url, model_id = path.rsplit("#", 1)
    return url, model_id


def served_fingerprint(endpoint: Endpoint) -> str:
    """Identity of a deployed system without weights: SHA-256 of its endpoint and model id."""
    body = json.dumps({"kind": "served model", "endpoint": endpoint.base_url, "model_id": endpoint.model_id},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def served_model_info(endpoint: Endpoint, caps: ServerCapabilities, tokenizer: Optional[LocalTokenizer]) -> ModelInfo:
    from urllib.parse import urlsplit

    notes = [DEPLOYED_STATEMENT,
             f"server: {caps.server_kind} {caps.server_version}".strip(),
             f"capabilities detected {caps.detected_at}"]
    if tokenizer is not None:
        notes.append(f"{TOKENIZER_NOTE}{tokenizer.path} (SHA-256 {tokenizer.sha256})")
    notes.append(f"{KEY_NOTE}{endpoint.api_key_env} (or the OS keyring); the key is never stored")
    notes.append(CAPS_NOTE + CAPS_SEPARATOR.join(caps.lines()))  # shown by the engine dialog without a new probe
    return ModelInfo(
        path=served_path(endpoint), format="openai", architecture="served model", parameter_count=0,
        fingerprint=served_fingerprint(endpoint), files=(), dtype="unknown (served)", device="remote",
        quantization="unknown (served)", context_length=caps.max_context,
        bos_token=None, eos_token=None, adds_bos=bool(tokenizer.adds_bos) if tokenizer else False,
        has_chat_template=caps.chat,
        library_versions={"server": f"{caps.server_kind} {caps.server_version}".strip()},
        name=f"{endpoint.model_id} @ {urlsplit(endpoint.base_url).netloc}", notes=tuple(notes))


def key_env_from_info(info: ModelInfo) -> Optional[str]:
    for note in info.notes:
        if note.startswith(KEY_NOTE):
            return note[len(KEY_NOTE):].split(" ", 1)[0]
    return None


def capabilities_from_info(info: ModelInfo) -> list[str]:
    """The capability lines the probe found when the served model was added ([] for older records)."""
    for note in info.notes:
        if note.startswith(CAPS_NOTE):
            return note[len(CAPS_NOTE):].split(CAPS_SEPARATOR)
    return []


def tokenizer_from_info(info: ModelInfo) -> Optional[str]:
    for note in info.notes:
        if note.startswith(TOKENIZER_NOTE):
            return note[len(TOKENIZER_NOTE):].rsplit(" (SHA-256", 1)[0]
    return None


@dataclass(frozen=True)
class ChatReply:
    """One chat completion choice: the text the system returned and why it stopped."""

    text: str
    finish_reason: str
    seed: Optional[int]
    endpoint: str


# ------------------------------------------------------------------------------------------ the engine
class OpenAIEngine:
    """A served model reached over HTTP (one or several replicas of it)."""

    name = NAME

    def __init__(self, endpoints: Sequence[Endpoint], server_caps: ServerCapabilities,
                 tokenizer: Optional[LocalTokenizer], clients: Optional[Sequence[HttpClient]] = None,
                 identity_endpoint: Optional[Endpoint] = None) -> None:
        if not endpoints:
            raise errors.ValidationError("A served model needs at least one endpoint.")
        self.endpoints = list(endpoints)
        self.server_caps = server_caps
        self.tokenizer = tokenizer
        self.clients = list(clients) if clients is not None else [HttpClient(e) for e in self.endpoints]
        self._rr = itertools.count()
        # The model's identity is the endpoint it was registered with; replicas given later only share the work.
        self.info = served_model_info(identity_endpoint or self.endpoints[0], server_caps, tokenizer)
        self.capabilities = self._capabilities()
        self.identity = self._identity()

    # ---- declared facts
    def _capabilities(self) -> Capabilities:
        c = self.server_caps
        can_score = c.scoring != caps_mod.SCORING_NONE and self.tokenizer is not None
        notes = [DEPLOYED_STATEMENT]
        self._score_refusal = ""
        if c.scoring == caps_mod.SCORING_NONE:
            self._score_refusal = "the server returns no prompt log-probs: p_z, sweeps and membership cannot run"
        elif self.tokenizer is None:
            self._score_refusal = "no local tokenizer given: scoring needs the model's tokenizer (--tokenizer PATH)"
        if self._score_refusal:
            notes.append(self._score_refusal)
        if c.server_kind != caps_mod.KIND_VLLM:
            notes.append("generated token ids are the local tokenizer's re-tokenization of the text the server "
                         "returned (the server returns text, not ids)")
        if c.max_top_logprobs is not None and c.max_top_logprobs < caps_mod.WANTED_TOP:
            notes.append(f"the server returns at most {c.max_top_logprobs} top log-probs per token: p_z under a "
                         f"larger top-k is reported as an upper bound")
        return Capabilities(
            scoring=can_score, full_vocab_logits=False, top_logprobs=c.max_top_logprobs,
            generation=c.completions or c.chat, sampling=c.completions or c.chat,
            seeded_sampling=bool(c.seed_honoured), beam_search=False, deterministic=False,
            token_offsets=self.tokenizer is not None, chat_template=c.chat, max_context=c.max_context,
            notes=tuple(notes))

    def _identity(self) -> EngineIdentity:
        import httpx

        c = self.server_caps
        extra: dict[str, Any] = {
            "endpoints": [e.base_url for e in self.endpoints], "model_id": self.endpoints[0].model_id,
            "server_kind": c.server_kind, "server_version": c.server_version,
            "system_fingerprint": c.system_fingerprint, "capabilities_detected_at": c.detected_at,
            "scoring": c.scoring, "top_logprobs": c.max_top_logprobs, "seed_honoured": c.seed_honoured,
            "key_source": self.clients[0].key_source.kind, "statement": DEPLOYED_STATEMENT,
        }
        if self.tokenizer is not None:
            extra.update(tokenizer=self.tokenizer.path, tokenizer_sha256=self.tokenizer.sha256)
        return EngineIdentity(engine=NAME, library="httpx", library_version=httpx.__version__, device="remote",
                              dtype="unknown (served)", threads=0,
                              build={"server": f"{c.server_kind} {c.server_version}".strip()}, extra=extra)

    # ---- tokenizer facts
    def _tok(self) -> LocalTokenizer:
        if self.tokenizer is None:
            raise CapabilityError(
                "This needs the served model's tokenizer, and none was given.",
                "Give --tokenizer PATH (the model's Hugging Face folder or the GGUF file the server runs).")
        return self.tokenizer

    @property
    def bos_token_id(self) -> Optional[int]:
        return self.tokenizer.bos_token_id if self.tokenizer else None

    @property
    def eos_token_id(self) -> Optional[int]:
        return self.tokenizer.eos_token_id if self.tokenizer else None

    @property
    def adds_bos(self) -> bool:
        return bool(self.tokenizer and self.tokenizer.adds_bos)

    def encode(self, text: str) -> list[int]:
        return self._tok().encode(text)

    def encode_with_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        return self._tok().encode_with_offsets(text)

    def decode(self, ids: Sequence[int]) -> str:
        return self._tok().decode(ids)

    def render_chat(self, messages: Sequence[dict[str, str]]) -> str:
        raise CapabilityError("A served model applies its chat template on the server.",
                              "Chat prompts go to the server's chat completions (memoview does this itself).")

    # ---- fan-out over replicas
    def _pick(self) -> HttpClient:
        return self.clients[next(self._rr) % len(self.clients)]

    def _map(self, fn: Any, items: Sequence[Any]) -> list[Any]:
        """``fn(client, item, collector)`` for every item, spread over the endpoints, results in order."""
        col = evidence.active()
        assigned = [(self._pick(), item) for item in items]
        if len(items) <= 1:
            return [fn(c, it, col) for c, it in assigned]
        workers = max(1, min(len(items), sum(e.concurrency for e in self.endpoints)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="memoview-http") as pool:
            futures = [pool.submit(fn, c, it, col) for c, it in assigned]
            return [f.result() for f in futures]

    # ---- scoring
    def _requested_top(self, scheme: ScoringScheme) -> int:
        cap = self.server_caps.max_top_logprobs
        want = 1 if scheme.top_k is None else int(scheme.top_k) + 1
        if cap is not None:
            want = min(want, cap)
        return max(1, want)

    def score(self, contexts: Sequence[Sequence[int]], targets: Sequence[Sequence[int]],
              scheme: ScoringScheme) -> list[TargetScores]:
        if not self.capabilities.scoring:
            raise CapabilityError(f"The server at {self.endpoints[0].base_url} cannot score a given continuation: "
                                  f"{self._score_refusal or 'no prompt log-probs'}.",
                                  "Use vLLM (prompt_logprobs) or llama.cpp's server with --logits_all true.")
        if any(not c for c in contexts) or any(not t for t in targets):
            raise errors.ValidationError("Scoring needs a non-empty context and target.")
        n_top = self._requested_top(scheme)
        pairs = list(zip(contexts, targets))
        return self._map(lambda client, pair, col: self._score_one(client, pair[0], pair[1], scheme, n_top, col),
                         pairs)

    def _score_one(self, client: HttpClient, context: Sequence[int], target: Sequence[int],
                   scheme: ScoringScheme, n_top: int, col: Optional[evidence.Collector]) -> TargetScores:
        ep = client.endpoint
        ids = [int(i) for i in list(context) + list(target)]
        base = {"model": ep.model_id, "max_tokens": 1, "temperature": 0.0}
        if self.server_caps.scoring == caps_mod.SCORING_PROMPT_LOGPROBS and self.server_caps.token_id_prompts:
            body = {**base, "prompt": ids, "prompt_logprobs": n_top, "add_special_tokens": False}
            data, _ = client.post("completions", body, "score", col)
            returned = logprobs._choice(data).get("prompt_token_ids")
            if isinstance(returned, list) and [int(x) for x in returned] != ids:
                raise errors.TokenizationMismatchError(
                    f"The server at {ep.base_url} scored other token ids than memoview sent.",
                    "The request and response are stored in the case; check the server's tokenizer settings.")
            steps = logprobs.steps_from_prompt_logprobs(data, ids, len(context), len(target), n_top)
        else:
            steps = self._score_echo(client, list(context), list(target), n_top, base, col)
        return logprobs.scores_from_steps(steps, scheme.temperature, scheme.top_k, with_ranks=scheme.with_ranks)

    def _score_echo(self, client: HttpClient, context: list[int], target: list[int], n_top: int,
                    base: dict[str, Any], col: Optional[evidence.Collector]) -> list[logprobs.StepFacts]:
        tok = self._tok()
        ep = client.endpoint
        bos = tok.bos_token_id
        body_ids = context[1:] + target if (bos is not None and context and context[0] == bos) else context + target
        if len(body_ids) == len(context) + len(target) and self.server_caps.server_kind == caps_mod.KIND_LLAMA_CPP_PYTHON:
            # llama-cpp-python pairs each echoed token with the logits before it only when BOS leads the prompt.
            raise CapabilityError("Echo scoring on llama-cpp-python's server needs a BOS token in front of the context.",
                                  "Use a model whose tokenizer adds BOS, or vLLM.")
        text = tok.decode(body_ids)
        body = {**base, "prompt": text, "echo": True, "logprobs": n_top}
        data, _ = client.post("completions", body, "score", col)
        tokens, _, _ = logprobs.echo_tokens(data)
        pieces = tok.pieces(body_ids)
        offset = _align_echo(tokens, pieces)
        if offset is None:
            raise errors.TokenizationMismatchError(
                f"The server at {ep.base_url} tokenized a window differently from the local tokenizer "
                f"({len(tokens)} tokens echoed for {len(body_ids)} sent; first difference near "
                f"'{_first_difference(tokens, pieces)}').",
                "Give the tokenizer of the served model (--tokenizer); the exchange is stored in the case.")
        if self.server_caps.tokenize_path:
            self._check_server_ids(client, text, body_ids, col)
        first_target = offset + len(body_ids) - len(target)
        return logprobs.steps_from_echo(data, first_target, len(target), n_top)

    def _check_server_ids(self, client: HttpClient, text: str, body_ids: list[int],
                          col: Optional[evidence.Collector]) -> None:
        ep = client.endpoint
        path = self.server_caps.tokenize_path
        body = {"model": ep.model_id, "input": text} if path == "/extras/tokenize" else \
            {"model": ep.model_id, "prompt": text, "add_special_tokens": False}
        data, _ = client.post(path, body, "tokenize", col)
        server_ids = [int(x) for x in data.get("tokens") or []]
        bos = self.bos_token_id
        if server_ids and bos is not None and server_ids[0] == bos and (not body_ids or body_ids[0] != bos):
            server_ids = server_ids[1:]
        if server_ids != body_ids:
            raise errors.TokenizationMismatchError(
                f"The server at {ep.base_url} tokenizes a window into other ids than the local tokenizer "
                f"({len(server_ids)} vs {len(body_ids)} tokens).",
                "Give the tokenizer of the served model (--tokenizer); the exchange is stored in the case.")

    # ---- generation
    def _sampling_body(self, params: GenerationParams, seed: Optional[int]) -> dict[str, Any]:
        """Every decoding parameter explicit; server-specific names only for servers that take them."""
        kind = self.server_caps.server_kind
        sample = params.decoding == "sample"
        if params.decoding == "beam":
            raise CapabilityError("Served models are run without beam search here.", "Use greedy or sampled decoding.")
        body: dict[str, Any] = {"max_tokens": int(params.max_new_tokens),
                                "temperature": float(params.temperature or 1.0) if sample else 0.0,
                                "top_p": float(params.top_p) if sample and params.top_p is not None else 1.0,
                                "n": 1, "frequency_penalty": 0.0, "presence_penalty": 0.0}
        if seed is not None:
            body["seed"] = int(seed)
        top_k = int(params.top_k) if sample and params.top_k else 0
        if kind in (caps_mod.KIND_LLAMA_CPP_PYTHON, caps_mod.KIND_LLAMA_CPP):
            body.update(top_k=top_k, min_p=0.0, repeat_penalty=float(params.repetition_penalty))
        elif kind == caps_mod.KIND_VLLM:
            body.update(top_k=top_k, min_p=0.0, repetition_penalty=float(params.repetition_penalty),
                        return_token_ids=True)
        elif top_k:
            raise CapabilityError("This server has no top-k parameter in the OpenAI API.",
                                  "Sample without top-k (top-p and temperature only).")
        return body

    def generate(self, contexts: Sequence[Sequence[int]], params: GenerationParams,
                 cancel: Optional[CancelToken] = None) -> list[Generation]:
        if not self.server_caps.completions:
            raise CapabilityError(f"The server at {self.endpoints[0].base_url} has no text completions.",
                                  "Use chat prompts with this server.")
        sampling = self._sampling_body(params, params.seed)

        def one(client: HttpClient, context: Sequence[int], col: Optional[evidence.Collector]) -> Generation:
            if cancel is not None and cancel.cancelled:
                return Generation((), (), "cancelled")
            body: dict[str, Any] = {"model": client.endpoint.model_id, **sampling}
            if self.server_caps.token_id_prompts:
                body["prompt"] = [int(i) for i in context]
            else:
                bos = self.bos_token_id
                ids = list(context)[1:] if bos is not None and context and context[0] == bos else list(context)
                body["prompt"] = self._tok().decode(ids)
            data, _ = client.post("completions", body, "generate", col)
            choice = logprobs._choice(data)
            text = str(choice.get("text") or "")
            token_ids = choice.get("token_ids")
            ids_out = tuple(int(x) for x in token_ids) if isinstance(token_ids, list) else tuple(self.encode(text))
            reason = "eos" if choice.get("finish_reason") == "stop" else "length"
            return Generation(ids_out, (), reason)

        return self._map(one, list(contexts))

    def generate_text(self, prompt: str, params: GenerationParams) -> tuple[str, str]:
        """One text completion of a prompt given as text (free prompts: no local tokenizer needed)."""
        if not self.server_caps.completions:
            raise CapabilityError(f"The server at {self.endpoints[0].base_url} has no text completions.",
                                  "Use a chat prompt with this server.")
        client = self._pick()
        body = {"model": client.endpoint.model_id, "prompt": prompt, **self._sampling_body(params, params.seed)}
        body.pop("return_token_ids", None)
        data, _ = client.post("completions", body, "generate", evidence.active())
        choice = logprobs._choice(data)
        return str(choice.get("text") or ""), str(choice.get("finish_reason"))

    def chat(self, messages: Sequence[dict[str, str]], params: GenerationParams, n: int,
             seeds: Sequence[Optional[int]]) -> list[ChatReply]:
        """``n`` chat completions (one request each, so each has its own seed and stored exchange)."""
        if not self.server_caps.chat:
            raise CapabilityError(f"The server at {self.endpoints[0].base_url} has no chat completions.",
                                  "Use a free prompt (completions) with this server.")

        def one(client: HttpClient, seed: Optional[int], col: Optional[evidence.Collector]) -> ChatReply:
            body = {"model": client.endpoint.model_id, "messages": [dict(m) for m in messages],
                    **self._sampling_body(params, seed)}
            body.pop("return_token_ids", None)
            data, _ = client.post("chat/completions", body, "chat", col)
            choice = logprobs._choice(data)
            message = choice.get("message") or {}
            return ChatReply(text=str(message.get("content") or ""), finish_reason=str(choice.get("finish_reason")),
                             seed=seed, endpoint=client.endpoint.base_url)

        return self._map(one, list(seeds)[:n])

    def close(self) -> None:
        for c in self.clients:
            c.close()


# ------------------------------------------------------------------------------------------ opening
def _align_echo(tokens: list[str], pieces: list[str]) -> Optional[int]:
    """Where the sent tokens start in the echoed list (0, or 1 when the server echoes a BOS), or None."""
    for offset in (0, 1):
        if len(tokens) < offset + len(pieces):
            continue
        if all(p == t or "\ufffd" in p or t == "" for p, t in zip(pieces, tokens[offset:offset + len(pieces)])):
            return offset
    return None


def _first_difference(tokens: list[str], pieces: list[str]) -> str:
    for p, t in zip(pieces, tokens):
        if p != t and "\ufffd" not in p and t != "":
            return f"{t!r} vs {p!r}"
    return "length"


def connect(endpoints: Sequence[Endpoint], tokenizer: Optional[str | Path] = None,
            collector: Optional[evidence.Collector] = None,
            identity_endpoint: Optional[Endpoint] = None) -> OpenAIEngine:
    """Probe the first endpoint (capabilities) and check every other one lists the same model."""
    tok = LocalTokenizer.load(tokenizer) if tokenizer else None
    clients = [HttpClient(e) for e in endpoints]
    col = collector if collector is not None else evidence.Collector()
    try:
        caps = caps_mod.detect(clients[0], col, tok)
        for client in clients[1:]:
            data, _ = client.get("models", "probe", col)
            listed = [str(m.get("id")) for m in data.get("data") or [] if isinstance(m, dict)]
            if listed and client.endpoint.model_id not in listed:
                raise errors.ServerModelNotFoundError(
                    f"The replica at {client.endpoint.base_url} does not serve '{client.endpoint.model_id}'.",
                    "Give replicas that serve the same model id.")
    except BaseException:
        for c in clients:
            c.close()
        raise
    return OpenAIEngine(endpoints, caps, tok, clients, identity_endpoint)


def endpoints_from_settings(path: str, settings: EngineSettings) -> list[Endpoint]:
    """Endpoints from ``--endpoint``/``--model`` options or from a registered served model's path."""
    opts = dict(settings.options)
    urls = list(opts.get("endpoints") or ([opts["endpoint"]] if opts.get("endpoint") else []))
    model_id = opts.get("model_id")
    if path and "#" in str(path):
        url, stored_id = parse_served_path(str(path))
        model_id = model_id or stored_id
        if not urls:
            urls = [url]
    if not urls:
        raise errors.ValidationError("The openai engine needs an endpoint.", "Give --endpoint http://HOST:PORT/v1.")
    if not model_id:
        raise errors.ValidationError("The openai engine needs a model id.", "Give --model MODEL_ID.")
    extra = {k: opts[k] for k in ("api_key_env", "read_timeout_s", "max_retries", "concurrency") if k in opts}
    return [Endpoint(base_url=u, model_id=str(model_id), **extra) for u in urls]


def open_engine(path: str, settings: EngineSettings, *, allow_pickle: bool = False,
                cancel: Optional[CancelToken] = None) -> Job[Optional[OpenAIEngine]]:
    """Registry entry point: connect (probing capabilities) and return the engine."""
    endpoints = endpoints_from_settings(path, settings)
    tokenizer = settings.options.get("tokenizer")
    identity: Optional[Endpoint] = None
    if path and "#" in str(path):
        url, model_id = parse_served_path(str(path))
        identity = Endpoint(base_url=url, model_id=model_id, api_key_env=endpoints[0].api_key_env)
    yield Progress(0, None, f"Connecting to {endpoints[0].label}")
    engine = connect(endpoints, tokenizer, identity_endpoint=identity)
    if cancel is not None and cancel.cancelled:
        engine.close()
        return None
    yield Progress(1, 1, f"Connected to {endpoints[0].label}")
    return engine


def with_info(engine: OpenAIEngine, info: ModelInfo) -> OpenAIEngine:
    """Keep the registered record's id and name (the case's view of the model)."""
    engine.info = replace(engine.info, id=info.id, name=info.name or engine.info.name)
    return engine


__all__ = ["capabilities_from_info", "ChatReply", "DEPLOYED_STATEMENT", "declared_capabilities", "NAME", "OpenAIEngine", "connect", "endpoints_from_settings",
           "open_engine", "parse_served_path", "served_fingerprint", "served_model_info", "served_path",
           "key_env_from_info", "tokenizer_from_info", "unavailable_reason"]
