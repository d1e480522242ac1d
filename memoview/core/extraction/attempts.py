"""Prefix continuation and p_z attempts: one recorded Attempt per sample, committed as it finishes.

Prefix tokens are the prompt: they are supplied to the model and never
counted as reproduced. Only the generated tokens are compared with the
target (the document's true continuation).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.extraction import bos as bos_policy
from memoview.core.extraction import common
from memoview.core.extraction.passage import locate_passage, tokenize_document
from memoview.core.extraction.probability import pz_metrics
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.core.engines.base import Engine
from memoview.core.models.base import LoadedModel
from memoview.core.records import Attempt, AttemptSpec, AttemptStatus, Document, Method, ModelInfo, PromptClass
from memoview.core.timeutil import utc_now


@dataclass(frozen=True)
class PrefixRequest:
    """What the user asked for; ``params()`` is what gets recorded."""

    prefix: int = 50
    suffix: int = 50
    token_start: Optional[int] = None
    char_start: Optional[int] = None
    select: Optional[str] = None
    decoding: str = "greedy"
    temperature: float = 1.0
    top_k: Optional[int] = None
    top_p: Optional[float] = None
    num_beams: int = 4
    n_samples: int = 1
    seed: int = 0
    pz_temperature: float = 1.0
    pz_top_k: Optional[int] = 40
    prompt_class: str = PromptClass.PREFIX.value
    # Where BOS goes: before the k prefix tokens (default) or counted among them (Cooper et al.); see extraction/bos.py.
    bos: bos_policy.BosChoice = bos_policy.OUTSIDE

    def params(self) -> dict[str, Any]:
        sample = self.decoding == "sample"
        return {
            "decoding": self.decoding,
            "max_new_tokens": self.suffix,
            "temperature": self.temperature if sample else None,
            "top_k": self.top_k if sample else None,
            "top_p": self.top_p if sample else None,
            "num_beams": self.num_beams if self.decoding == "beam" else 1,
            "n_samples": self.n_samples if sample else 1,
            "repetition_penalty": 1.0,
            "pz_temperature": self.pz_temperature,
            "pz_top_k": self.pz_top_k,
            **bos_policy.params_entry(self.bos),
        }

    def validate(self) -> None:
        if self.suffix < 1:
            raise errors.ValidationError(f"The suffix must be at least 1 token (got {self.suffix}).",
                                         "Give --suffix 1 or more.")
        if self.prefix < 1:
            raise errors.ValidationError(f"The prefix must be at least 1 token (got {self.prefix}).",
                                         "Give --prefix 1 or more.")
        bos_policy.validate_choice(self.bos)
        common.validate_decoding(self.params())
        common.validate_scheme(self.pz_temperature, self.pz_top_k)
        if self.prompt_class not in {p.value for p in PromptClass}:
            raise errors.ValidationError(f"Unknown prompt class '{self.prompt_class}'.")


def ensure_model(case: Case, lm: Engine | LoadedModel) -> ModelInfo:
    """The case's record of the loaded model (registered if new); refuses a different model under the same id."""
    info = case.add_model(lm.info)
    if info.fingerprint != lm.info.fingerprint:  # pragma: no cover - add_model keys on the fingerprint
        raise errors.ValidationError("The loaded model does not match the case's model record.")
    return info


def _match_len(a: list[int], b: list[int]) -> int:
    n = 0
    while n < len(a) and n < len(b) and a[n] == b[n]:
        n += 1
    return n


def produced_scores(lm: Engine | LoadedModel, prompt: list[int], output: list[int]) -> tuple[tuple[float, ...], tuple[int, ...]]:
    """Log-prob (T=1, full vocabulary) and rank of each produced token, by one teacher-forced pass."""
    if not output:
        return (), ()
    scores = common.score_continuations(lm, [prompt], [output])[0]
    return scores.logprobs, scores.ranks


def run_prefix(case: Case, lm: Engine | LoadedModel, document: Document, request: PrefixRequest, *,
               method: str = Method.PREFIX.value, cancel: Optional[CancelToken] = None,
               protocol_id: Optional[int] = None, campaign_key: Optional[str] = None,
               skip: Callable[[int], bool] = lambda i: False) -> Job[list[Attempt]]:
    """Run (and commit, one by one) the attempts of a prefix-continuation or p_z request."""
    request.validate()
    lm = common.engine_of(lm)
    lm.capabilities.require_method(method, lm.name)
    if method != Method.PZ.value:
        lm.capabilities.require_decoding(request.decoding, lm.name)
    model_info = ensure_model(case, lm)
    policy = common.bos_policy(lm, request.bos)
    doc = tokenize_document(lm, document)
    passage = locate_passage(doc, bos_policy.work_prefix(request.prefix, policy), request.suffix,
                             token_start=request.token_start, char_start=request.char_start, select=request.select,
                             min_prefix=0 if policy == bos_policy.COUNTED else 1)
    prompt = common.bos_ids(lm, policy) + list(doc.ids[passage.prefix_start_token:passage.start_token])
    target = list(doc.ids[passage.start_token:passage.end_token])
    common.check_model_context(lm, len(prompt) + len(target), "This passage")
    params = request.params()
    if method == Method.PZ.value:
        params = {**params, "decoding": "none", "max_new_tokens": 0, "n_samples": 1}
    env = common.environment(lm)
    results: list[Attempt] = []
    n = params["n_samples"]
    for i in common.pending_samples(n, skip, cancel):
        yield Progress(i, n, f"{method} attempt {i + 1} of {n} on '{document.title}'")
        seed = common.sample_seed(request.seed, i, params["decoding"])
        spec = AttemptSpec(
            method=method, prompt_class=request.prompt_class, model_id=int(model_info.id or 0),
            model_fingerprint=model_info.fingerprint, document_id=document.id, params=params,
            target=passage.target_dict(doc), bos_policy=policy, seed=seed,
        )
        tgt_text = document.text[spec.target["start_char"]:spec.target["end_char"]]
        started = utc_now()
        try:
            attempt = _one(lm, spec, prompt, target, cancel, env, tgt_text)
        except errors.ServerError as exc:  # a served model failed mid-request: recorded with its exchanges
            from memoview.core.extraction.served_failure import record_server_failure

            record_server_failure(case, Attempt(
                id=0, spec=spec, status=AttemptStatus.FAILED.value, prompt_text=lm.decode(prompt[len(
                    common.bos_ids(lm, policy)):]), prompt_token_ids=tuple(prompt), target_text=tgt_text,
                target_token_ids=tuple(target), environment=env, started_at=started, protocol_id=protocol_id,
                campaign_key=campaign_key, sample_index=i), exc)
            raise
        attempt = replace(attempt, protocol_id=protocol_id, campaign_key=campaign_key, sample_index=i)
        results.append(case.record_attempt(attempt))
    yield Progress(n, n, "done")
    return results


def _one(lm: Engine | LoadedModel, spec: AttemptSpec, prompt: list[int], target: list[int],
         cancel: Optional[CancelToken], env: dict[str, Any], target_text: str) -> Attempt:
    # The target text is the document's own characters (not a decode of its tokens), so
    # what is shown as "the source" is exactly what the case stores.
    started = utc_now()
    params = spec.params
    # Everything known before the model runs; the outcome is filled in with dataclasses.replace.
    base = Attempt(
        id=0, spec=spec, status=AttemptStatus.RUNNING.value, prompt_text=lm.decode(prompt[len(common.bos_ids(lm, spec.bos_policy)):]),
        prompt_token_ids=tuple(prompt), target_text=target_text, target_token_ids=tuple(target),
        environment=env, started_at=started,
    )
    try:
        scores = common.score_continuations(lm, [prompt], [target], params["pz_temperature"], params["pz_top_k"])[0]
        metrics = pz_metrics(scores, params["pz_temperature"], params["pz_top_k"], len(target))
        metrics["memorization_score_teacher_forced"] = scores.argmax_matches / len(target)
        out: list[int] = []
        status = AttemptStatus.DONE.value
        if params["decoding"] != "none":
            out = common.generate(lm, [prompt], params, cancel=cancel, seed=spec.seed)[0]
            if cancel is not None and cancel.cancelled:
                status = AttemptStatus.CANCELLED.value
            matches = sum(1 for a, b in zip(out, target) if a == b)
            metrics["exact_match_tokens"] = _match_len(out, target)
            metrics["memorization_score"] = matches / len(target)
            metrics["exact_suffix_match"] = out[: len(target)] == target
        else:
            metrics["memorization_score"] = None
        lps, ranks = produced_scores(lm, prompt, out)
        text = lm.decode(out)
        return replace(base, status=status, output_text=text, output_token_ids=tuple(out),
                       token_logprobs=lps, token_ranks=ranks, target_logprobs=scores.logprobs,
                       target_ranks=scores.ranks, metrics=metrics, finished_at=utc_now(),
                       output_sha256=common.sha256_text(text))
    except errors.MemoviewError:
        raise
    except Exception as exc:  # the model failed: record the failure, it is disclosable too
        return replace(base, status=AttemptStatus.FAILED.value, error=f"{type(exc).__name__}: {exc}",
                       metrics={"traceback": traceback.format_exc(limit=3)}, finished_at=utc_now())
