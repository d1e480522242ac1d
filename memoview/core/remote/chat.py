"""Free and chat prompts to a served model: what a deployed system said, recorded as evidence.

A chat prompt goes to the server's chat completions, so the server applies
its own chat template (and whatever else the deployed system does: system
prompts, filters) — which is the point of a regurgitation test of a deployed
system. A free prompt goes to text completions. Each sample is one request
with its own seed; whether the server honours seeds was probed at connect
time and is recorded with every sample. Refusals are labelled as for local
models. Every request and response is stored verbatim with the attempt.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Optional

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.engines.base import GenerationParams
from memoview.core.extraction import common
from memoview.core.extraction.attempts import ensure_model
from memoview.core.extraction.prompts import PromptRequest, detect_refusal, sample_spec
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.core.records import Attempt, AttemptStatus, Document, Method
from memoview.core.timeutil import utc_now


def _readable(messages: list[dict[str, str]]) -> str:
    return "\n".join(f"{m['role']}: {m['content']}" for m in messages)


def run_served_prompt(case: Case, engine: object, request: PromptRequest, *, document: Optional[Document] = None,
                      cancel: Optional[CancelToken] = None, protocol_id: Optional[int] = None,
                      campaign_key: Optional[str] = None,
                      skip: Callable[[int], bool] = lambda i: False) -> Job[list[Attempt]]:
    """n samples of a free or chat prompt on a served model, each committed as it finishes."""
    from memoview.core.engines.openai import DEPLOYED_STATEMENT, OpenAIEngine

    assert isinstance(engine, OpenAIEngine)
    request.validate()
    model_info = ensure_model(case, engine)
    chat = request.messages is not None
    caps = engine.server_caps
    if chat and not caps.chat:
        raise errors.ServerFeatureError(f"The server at {caps.endpoint} has no chat completions.",
                                        "Send a free prompt (--text) instead.")
    if not chat and not caps.completions:
        raise errors.ServerFeatureError(f"The server at {caps.endpoint} has no text completions.",
                                        "Send a chat prompt (--chat-json) instead.")
    note = ("chat completions on the server: the server applied its own chat template" if chat
            else "text completions on the server: the prompt text as given")
    params = {**request.params(), "prompt_construction": note, "server_seed_honoured": caps.seed_honoured}
    if chat:
        params["messages"] = request.messages
    method = Method.CHAT.value if chat else Method.PROMPT.value
    env = common.environment(engine)
    n = params["n_samples"]
    prompt_text = _readable(request.messages or []) if chat else str(request.text)
    results: list[Attempt] = []
    for i in common.pending_samples(n, skip, cancel):
        yield Progress(i, n, f"{method} sample {i + 1} of {n} on {caps.endpoint}")
        seed = common.sample_seed(request.seed, i, request.decoding)
        spec = sample_spec(method, request, model_info, document, params, "server", seed)
        started = utc_now()
        gen = GenerationParams.from_params(params, seed=seed)
        try:
            if chat:
                reply = engine.chat(request.messages or [], gen, 1, [seed])[0]
                text, finish = reply.text, reply.finish_reason
            else:
                text_reply = engine.generate_text(str(request.text), gen)
                text, finish = text_reply
        except errors.ServerError as exc:  # recorded as a failed attempt with its exchanges, then raised
            from memoview.core.extraction.served_failure import record_server_failure

            record_server_failure(case, Attempt(
                id=0, spec=spec, status=AttemptStatus.FAILED.value, prompt_text=prompt_text,
                metrics={"prompt_construction": note, "model_identity": DEPLOYED_STATEMENT}, environment=env,
                started_at=started, protocol_id=protocol_id, campaign_key=campaign_key, sample_index=i), exc)
            raise
        out_ids: tuple[int, ...] = tuple(engine.encode(text)) if engine.tokenizer is not None else ()
        refusal = detect_refusal(text)
        status = AttemptStatus.REFUSED.value if refusal else AttemptStatus.DONE.value
        attempt = Attempt(
            id=0, spec=spec, status=status, prompt_text=prompt_text, output_text=text, output_token_ids=out_ids,
            metrics={"refusal_phrase": refusal, "prompt_construction": note, "output_tokens": len(out_ids),
                     "output_token_ids_basis": ("re-tokenized locally from the returned text" if out_ids
                                                else "not available (no local tokenizer)"),
                     "finish_reason": finish, "seed_honoured_by_server": caps.seed_honoured,
                     "model_identity": DEPLOYED_STATEMENT},
            environment=env, started_at=started, finished_at=utc_now(), output_sha256=common.sha256_text(text))
        attempt = replace(attempt, protocol_id=protocol_id, campaign_key=campaign_key, sample_index=i)
        results.append(case.record_attempt(attempt))
    yield Progress(n, n, "done")
    return results


__all__ = ["run_served_prompt"]
