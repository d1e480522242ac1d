"""What a served model can do, found out at connect time by asking it (a few tiny requests).

Nothing is assumed from the server's name: each capability is a request
whose answer is checked.

* ``/v1/models`` lists the model id (else: unknown model).
* Server kind and version: ``/version`` (vLLM), ``/props`` (llama.cpp's own
  server), ``/openapi.json`` (llama-cpp-python's title and version), the
  ``server`` header; a system fingerprint where completions return one.
* Prompt log-probs: vLLM's ``prompt_logprobs`` (returned per prompt position)
  or ``echo`` + ``logprobs`` returning a log-prob for every prompt token.
* Token-id prompts (``prompt`` as a list of ids): exact scoring without
  re-tokenization by the server.
* The top-N limit: N is asked for and the answer counted (or the server's
  "greater than max allowed: N" message read).
* Seeds: the same seeded sample twice at temperature 1, and another seed.
* Chat: one chat completion of one token (the server applies its template).
* A tokenize endpoint (``/tokenize``, ``/extras/tokenize``) to check that the
  server's token ids equal the local tokenizer's.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from memoview.core import errors
from memoview.core.remote import evidence
from memoview.core.remote.client import HttpClient
from memoview.core.timeutil import utc_now

PROBE_TEXT = "The quick brown fox jumps over the lazy dog."
# Prompt log-probs are probed on a few tokens: llama-cpp-python's server sorts the whole vocabulary in Python
# for every echoed token (seconds per token with a 262k-token vocabulary).
SHORT_PROBE = "The quick brown fox"
WANTED_TOP = 41  # p_z under top-40 needs the 41 largest values to be exact on llama.cpp's text keys

KIND_VLLM = "vllm"
KIND_LLAMA_CPP_PYTHON = "llama-cpp-python"
KIND_LLAMA_CPP = "llama.cpp"
KIND_GENERIC = "openai-compatible"

SCORING_PROMPT_LOGPROBS = "prompt_logprobs"  # vLLM extension, by token id, with ranks
SCORING_ECHO = "echo"  # completions echo + logprobs (token strings)
SCORING_NONE = "none"


@dataclass(frozen=True)
class ServerCapabilities:
    """What the probes found; stored with the model and shown by 'Test connection'."""

    endpoint: str
    model_id: str
    models_listed: tuple[str, ...] = ()
    server_kind: str = KIND_GENERIC
    server_version: str = ""
    system_fingerprint: str = ""
    completions: bool = False
    chat: bool = False
    scoring: str = SCORING_NONE
    token_id_prompts: bool = False
    max_top_logprobs: Optional[int] = None  # the most top log-probs per step the server returned (None: untested)
    seed_honoured: Optional[bool] = None  # None = could not tell (e.g. greedy-only server)
    tokenize_path: str = ""
    max_context: int = 0
    detected_at: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ServerCapabilities":
        known = set(cls.__dataclass_fields__)
        values = {k: v for k, v in data.items() if k in known}
        for key in ("models_listed", "notes"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)

    def lines(self) -> list[str]:
        """Plain-words summary, one capability per line (GUI dialog, CLI)."""
        yes = {True: "yes", False: "no", None: "could not tell"}
        scoring = {SCORING_PROMPT_LOGPROBS: "yes (vLLM prompt_logprobs, by token id)",
                   SCORING_ECHO: "yes (echo + logprobs; token strings mapped back to ids)",
                   SCORING_NONE: "no — p_z, sweeps and membership cannot run on this server"}[self.scoring]
        top = "not tested" if self.max_top_logprobs is None else str(self.max_top_logprobs)
        out = [
            f"Server: {self.server_kind}{' ' + self.server_version if self.server_version else ''}",
            f"Model '{self.model_id}' listed: {yes[self.model_id in self.models_listed] if self.models_listed else 'the server lists no models'}",
            f"Text completions: {yes[self.completions]}",
            f"Chat completions (server's chat template): {yes[self.chat]}",
            f"Prompt log-probs (teacher-forced scoring): {scoring}",
            f"Top log-probs per token: {top}" + ("" if self.max_top_logprobs is None or self.max_top_logprobs >= WANTED_TOP
                                                 else " — p_z under top-40 will be reported as a bound"),
            f"Token-id prompts: {yes[self.token_id_prompts]}",
            f"Seed honoured: {yes[self.seed_honoured]}",
        ]
        if self.system_fingerprint:
            out.append(f"System fingerprint: {self.system_fingerprint}")
        out.extend(self.notes)
        return out


def _try(client: HttpClient, method: str, path: str, body: Optional[dict[str, Any]], purpose: str,
         col: evidence.Collector) -> tuple[Optional[dict[str, Any]], Optional[errors.ServerError]]:
    try:
        if method == "GET":
            data, _ = client.get(path, purpose, col)
        else:
            data, _ = client.post(path, body or {}, purpose, col)
        return data, None
    except (errors.ServerUnreachableError, errors.ServerAuthError, errors.ServerTimeoutError):
        raise
    except errors.ServerError as exc:
        return None, exc


def _first_choice(data: Optional[dict[str, Any]]) -> dict[str, Any]:
    if not data:
        return {}
    choices = data.get("choices")
    return choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}


def detect(client: HttpClient, collector: Optional[evidence.Collector] = None,
           tokenizer: Any = None) -> ServerCapabilities:
    """Probe the server (about ten small requests); every request and response lands in ``collector``."""
    col = collector if collector is not None else evidence.Collector()
    ep = client.endpoint
    notes: list[str] = []
    # --- models (unreachable / auth errors end the probe here, with their own message)
    data, err = _try(client, "GET", "models", None, "probe", col)
    listed: tuple[str, ...] = ()
    if data is not None and isinstance(data.get("data"), list):
        listed = tuple(str(m.get("id")) for m in data["data"] if isinstance(m, dict))
        max_len = [m.get("max_model_len") for m in data["data"] if isinstance(m, dict) and m.get("id") == ep.model_id]
    else:
        max_len = []
    if listed and ep.model_id not in listed:
        raise errors.ServerModelNotFoundError(
            f"The server at {ep.base_url} does not list the model '{ep.model_id}' (it lists: {', '.join(listed[:8])}).",
            "Give one of the listed ids with --model.")
    # --- kind and version
    kind, version = KIND_GENERIC, ""
    vdata, _ = _try(client, "GET", "/version", None, "probe", col)
    if vdata and isinstance(vdata.get("version"), str):
        kind, version = KIND_VLLM, vdata["version"]
    else:
        pdata, _ = _try(client, "GET", "/props", None, "probe", col)
        if pdata and ("default_generation_settings" in pdata or "build_info" in pdata):
            kind, version = KIND_LLAMA_CPP, str(pdata.get("build_info", ""))
        else:
            odata, _ = _try(client, "GET", "/openapi.json", None, "probe", col)
            info = (odata or {}).get("info") or {}
            if "llama" in str(info.get("title", "")).lower():
                kind, version = KIND_LLAMA_CPP_PYTHON, str(info.get("version", ""))
    # --- completions and scoring
    base = {"model": ep.model_id, "max_tokens": 1, "temperature": 0.0}
    cdata, cerr = _try(client, "POST", "completions", {**base, "prompt": PROBE_TEXT}, "probe", col)
    completions = cdata is not None
    fingerprint = str((cdata or {}).get("system_fingerprint") or "")
    if cerr is not None:
        notes.append(f"completions: {cerr.message}")
    scoring = SCORING_NONE
    max_top: Optional[int] = None
    if completions:
        pl, _ = _try(client, "POST", "completions", {**base, "prompt": SHORT_PROBE, "prompt_logprobs": 1}, "probe", col)
        if isinstance(_first_choice(pl).get("prompt_logprobs"), list):
            scoring = SCORING_PROMPT_LOGPROBS
        else:
            ed, eerr = _try(client, "POST", "completions",
                            {**base, "prompt": SHORT_PROBE, "echo": True, "logprobs": 1}, "probe", col)
            lp = _first_choice(ed).get("logprobs") or {}
            tokens = lp.get("tokens") if isinstance(lp, dict) else None
            values = lp.get("token_logprobs") if isinstance(lp, dict) else None
            if isinstance(tokens, list) and isinstance(values, list) and len(tokens) >= 3 \
                    and sum(1 for v in values if v is not None) >= len(values) - 2:
                scoring = SCORING_ECHO
            elif eerr is not None:
                notes.append(f"echo + logprobs: {eerr.message}")
            else:
                notes.append("echo + logprobs returned no prompt log-probs (llama.cpp: start with --logits_all true)")
        if scoring != SCORING_NONE:
            max_top = _probe_top(client, base, scoring, col)
    # --- token-id prompts
    token_ids = False
    if completions and tokenizer is not None:
        ids = tokenizer.encode(PROBE_TEXT)[:8]
        td, _ = _try(client, "POST", "completions", {**base, "prompt": ids}, "probe", col)
        token_ids = bool(_first_choice(td))
    # --- seeds
    seed_ok: Optional[bool] = None
    if completions:
        sample = {"model": ep.model_id, "prompt": "Once upon a time", "max_tokens": 12, "temperature": 1.0,
                  "top_p": 1.0}
        a, _ = _try(client, "POST", "completions", {**sample, "seed": 1234}, "probe", col)
        b, _ = _try(client, "POST", "completions", {**sample, "seed": 1234}, "probe", col)
        c, _ = _try(client, "POST", "completions", {**sample, "seed": 98765}, "probe", col)
        ta, tb, tc = (_first_choice(x).get("text") for x in (a, b, c))
        if ta is not None and tb is not None:
            seed_ok = ta == tb and (tc is None or tc != ta or len(ta) == 0)
            if ta == tb == tc:
                seed_ok = None
                notes.append("seed: three samples were identical, so whether the seed is honoured could not be told")
    # --- chat
    chat_data, chat_err = _try(client, "POST", "chat/completions",
                               {"model": ep.model_id, "max_tokens": 1, "temperature": 0.0,
                                "messages": [{"role": "user", "content": "Say OK."}]}, "probe", col)
    chat = bool(_first_choice(chat_data))
    if chat_err is not None:
        notes.append(f"chat: {chat_err.message}")
    # --- tokenize endpoint
    tok_path = ""
    for path, body in (("/tokenize", {"model": ep.model_id, "prompt": "Hello"}),
                       ("/extras/tokenize", {"model": ep.model_id, "input": "Hello"})):
        tdata, _ = _try(client, "POST", path, body, "probe", col)
        if tdata and isinstance(tdata.get("tokens"), list):
            tok_path = path
            break
    return ServerCapabilities(
        endpoint=ep.base_url, model_id=ep.model_id, models_listed=listed, server_kind=kind, server_version=version,
        system_fingerprint=fingerprint, completions=completions, chat=chat, scoring=scoring,
        token_id_prompts=token_ids, max_top_logprobs=max_top, seed_honoured=seed_ok, tokenize_path=tok_path,
        max_context=int(max_len[0]) if max_len and isinstance(max_len[0], int) else 0, detected_at=utc_now(),
        notes=tuple(notes))


_MAX_ALLOWED = re.compile(r"max(?:imum)? allowed[^0-9]*(\d+)", re.IGNORECASE)


def _probe_top(client: HttpClient, base: dict[str, Any], scoring: str, col: evidence.Collector) -> Optional[int]:
    """How many top log-probs per prompt token the server returns when asked for WANTED_TOP."""
    body = {**base, "prompt": SHORT_PROBE}
    if scoring == SCORING_PROMPT_LOGPROBS:
        body["prompt_logprobs"] = WANTED_TOP
    else:
        body.update(echo=True, logprobs=WANTED_TOP)
    data, err = _try(client, "POST", "completions", body, "probe", col)
    if data is None:
        match = _MAX_ALLOWED.search(err.message if err else "")
        return int(match.group(1)) if match else None
    choice = _first_choice(data)
    if scoring == SCORING_PROMPT_LOGPROBS:
        entries = [e for e in choice.get("prompt_logprobs") or [] if isinstance(e, dict)]
        counts = [sum(1 for v in e.values() if isinstance(v, dict) and (v.get("rank") or 0) <= WANTED_TOP)
                  for e in entries]
    else:
        tops = (choice.get("logprobs") or {}).get("top_logprobs") or []
        counts = [len(t) for t in tops if isinstance(t, dict)]
    if not counts:
        return None
    # llama.cpp's dict holds the top N plus the token itself when it is not among them (N + 1 keys): the
    # most common count over positions is N.
    common = max(set(counts), key=counts.count)
    return min(common, WANTED_TOP)


__all__ = ["KIND_GENERIC", "KIND_LLAMA_CPP", "KIND_LLAMA_CPP_PYTHON", "KIND_VLLM", "SCORING_ECHO", "SCORING_NONE",
           "SCORING_PROMPT_LOGPROBS", "ServerCapabilities", "WANTED_TOP", "detect"]
