"""Shared plumbing of the extraction engine: environment record, explicit decoding, batched passes.

Decoding is explicit (DESIGN section 3): every generate call gets a complete
``GenerationConfig`` built from the attempt's recorded parameters, and the
model's shipped generation config is neutralised first, because
transformers fills unset fields of a passed config from the model's own.
"""

from __future__ import annotations

import hashlib
import math
import os
import platform
import sys
from functools import partial
from typing import Any, Optional, Sequence

from memoview.core import errors
from memoview.core.jobs import CancelToken
from memoview.core.models.base import LoadedModel

BOS_PREPEND = "prepend-bos"
BOS_NONE = "none"
DECODINGS = ("greedy", "sample", "beam")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def environment(lm: Optional[LoadedModel] = None) -> dict[str, Any]:
    """Where an attempt ran: enough to explain a difference on another machine."""
    import torch
    import transformers

    from memoview import __version__

    env: dict[str, Any] = {
        "memoview": __version__,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "device": "cpu",
        "dtype": "",
    }
    if lm is not None:
        try:
            param = next(lm.model.parameters())
            env["device"] = str(param.device)
            env["dtype"] = str(param.dtype).replace("torch.", "")
        except StopIteration:  # pragma: no cover
            pass
    return env


def bos_policy(lm: LoadedModel) -> str:
    return BOS_PREPEND if lm.adds_bos and lm.bos_token_id is not None else BOS_NONE


def bos_ids(lm: LoadedModel, policy: str) -> list[int]:
    return [int(lm.bos_token_id)] if policy == BOS_PREPEND and lm.bos_token_id is not None else []


def neutralise_generation_config(lm: LoadedModel) -> None:
    """Replace the shipped generation config so that nothing hidden (penalties, top-k) leaks in."""
    from transformers import GenerationConfig

    model = lm.model
    current = getattr(model, "generation_config", None)
    if getattr(current, "_memoview_neutral", False):
        return
    neutral = GenerationConfig(
        bos_token_id=lm.bos_token_id, eos_token_id=lm.eos_token_id,
        pad_token_id=_pad_id(lm),
    )
    neutral._memoview_neutral = True  # type: ignore[attr-defined]
    model.generation_config = neutral


def _pad_id(lm: LoadedModel) -> int:
    pad = getattr(lm.tokenizer, "pad_token_id", None)
    if pad is None:
        pad = lm.eos_token_id
    return int(pad) if pad is not None else 0


def generation_config(lm: LoadedModel, params: dict[str, Any]) -> Any:
    """A complete GenerationConfig from recorded params: nothing taken from the model's defaults."""
    from transformers import GenerationConfig

    decoding = params["decoding"]
    sample = decoding == "sample"
    return GenerationConfig(
        max_new_tokens=int(params["max_new_tokens"]),
        min_new_tokens=0,
        do_sample=sample,
        temperature=float(params["temperature"]) if sample else 1.0,
        top_k=int(params["top_k"]) if sample and params.get("top_k") else 0,
        top_p=float(params["top_p"]) if sample and params.get("top_p") is not None else 1.0,
        num_beams=int(params["num_beams"]) if decoding == "beam" else 1,
        num_return_sequences=1,
        repetition_penalty=float(params.get("repetition_penalty", 1.0)),
        no_repeat_ngram_size=0,
        length_penalty=1.0,
        early_stopping=False,
        bos_token_id=lm.bos_token_id,
        eos_token_id=lm.eos_token_id,
        pad_token_id=_pad_id(lm),
        use_cache=True,
    )


def cancel_criteria(cancel: Optional[CancelToken]) -> Any:
    """A StoppingCriteria that ends generation within one step of a cancel."""
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _Cancel(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            import torch

            flag = cancel is not None and cancel.cancelled
            return torch.full((input_ids.shape[0],), flag, dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([_Cancel()])


def generate(lm: LoadedModel, prompts: Sequence[Sequence[int]], params: dict[str, Any],
             cancel: Optional[CancelToken] = None, seed: Optional[int] = None) -> list[list[int]]:
    """New token ids per prompt (left padding, attention mask), EOS kept, padding dropped."""
    import torch

    neutralise_generation_config(lm)
    pad = _pad_id(lm)
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for i, p in enumerate(prompts):
        if p:
            ids[i, width - len(p):] = torch.tensor(list(p), dtype=torch.long)
            mask[i, width - len(p):] = 1
    if seed is not None:
        torch.manual_seed(int(seed))
    with torch.no_grad():
        out = lm.model.generate(
            input_ids=ids, attention_mask=mask, generation_config=generation_config(lm, params),
            stopping_criteria=cancel_criteria(cancel),
        )
    results = []
    eos = lm.eos_token_id
    for row in out[:, width:].tolist():
        new: list[int] = []
        for t in row:
            new.append(int(t))
            if eos is not None and t == eos:
                break
        results.append(new)
    return results


def forward_logits(lm: LoadedModel, sequences: Sequence[Sequence[int]]) -> Any:
    """Logits [B, L, V] (float32) for right-padded sequences with an attention mask."""
    import torch

    pad = _pad_id(lm)
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, s in enumerate(sequences):
        ids[i, : len(s)] = torch.tensor(list(s), dtype=torch.long)
        mask[i, : len(s)] = 1
    with torch.no_grad():
        return lm.model(input_ids=ids, attention_mask=mask).logits.float()


LOGITS_BUDGET_BYTES = 192 * 1024 * 1024  # float32 logits kept at once; large vocabularies get smaller batches


def score_continuations(lm: LoadedModel, contexts: Sequence[Sequence[int]], targets: Sequence[Sequence[int]],
                        temperature: float = 1.0, top_k: Optional[int] = None, *, with_ranks: bool = True) -> list[Any]:
    """Teacher-forced scores of each target after its context.

    Sequences are left-padded (with explicit position ids) so that every row's
    target steps are its last positions: the model then computes logits only
    for those (``logits_to_keep``), which matters with 250k-token vocabularies.
    """
    from memoview.core.extraction.probability import score_targets

    if any(not c for c in contexts):
        raise errors.ValidationError("A continuation needs at least one token of context (BOS or prompt).")
    if any(not t for t in targets):
        raise errors.ValidationError("A target needs at least one token.")
    vocab = int(getattr(getattr(lm.model, "config", None), "vocab_size", 0) or 50_000)
    m_max = max(len(t) for t in targets)
    per_row = max(1, m_max * vocab * 4)
    step = max(1, LOGITS_BUDGET_BYTES // per_row)
    out: list[Any] = []
    for lo in range(0, len(contexts), step):
        out.extend(_score_batch(lm, contexts[lo:lo + step], targets[lo:lo + step], temperature, top_k,
                                partial(score_targets, with_ranks=with_ranks)))
    return out


def _score_batch(lm: LoadedModel, contexts: Sequence[Sequence[int]], targets: Sequence[Sequence[int]],
                 temperature: float, top_k: Optional[int], score_targets: Any) -> list[Any]:
    import torch

    seqs = [list(c) + list(t[:-1]) for c, t in zip(contexts, targets)]
    pad = _pad_id(lm)
    width = max(len(s) for s in seqs)
    m = max(len(t) for t in targets)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, width - len(s):] = torch.tensor(s, dtype=torch.long)
        mask[i, width - len(s):] = 1
    positions = (mask.cumsum(-1) - 1).clamp_min(0)
    with torch.no_grad():
        try:
            logits = lm.model(input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=m).logits
        except TypeError:  # an architecture without logits_to_keep
            logits = lm.model(input_ids=ids, attention_mask=mask, position_ids=positions).logits[:, -m:]
    logits = logits.float()
    tgt = torch.zeros((len(seqs), m), dtype=torch.long)
    tmask = torch.zeros((len(seqs), m), dtype=torch.long)
    for i, t in enumerate(targets):
        tgt[i, :len(t)] = torch.tensor(list(t), dtype=torch.long)
        tmask[i, :len(t)] = 1
    if all(len(t) == m for t in targets):  # a sweep's windows: the kept logits are already the target steps
        return score_targets(logits[:, -m:], tgt, tmask, temperature, top_k)
    # Targets of different lengths end at the right edge: move each to the left of its row.
    step_logits = torch.zeros((len(seqs), m, logits.shape[-1]), dtype=torch.float32)
    for i, t in enumerate(targets):
        step_logits[i, :len(t)] = logits[i, m - len(t):]
    return score_targets(step_logits, tgt, tmask, temperature, top_k)


def check_model_context(lm: LoadedModel, length: int, what: str) -> None:
    limit = int(getattr(lm.info, "context_length", 0) or 0)
    if limit and length > limit:
        raise errors.ValidationError(
            f"{what} needs {length} tokens but the model's context is {limit} tokens.",
            "Use a shorter prefix and suffix.",
        )


def validate_decoding(params: dict[str, Any]) -> None:
    """Refuse parameter sets that cannot work, naming the parameter."""
    for name, value in params.items():  # before anything is run or recorded (a NaN has no JSON form)
        if isinstance(value, float) and not math.isfinite(value):
            raise errors.ValidationError(f"The decoding parameter {name} must be a finite number (got {value}).",
                                         "Give a number such as 1.0; NaN and infinity are refused.")
    decoding = params.get("decoding", "greedy")
    if decoding not in DECODINGS:
        raise errors.ValidationError(f"Unknown decoding '{decoding}'.", f"Use one of: {', '.join(DECODINGS)}.")
    if int(params.get("max_new_tokens", 1)) < 1:
        raise errors.ValidationError("The number of new tokens must be at least 1.", "Give --suffix 1 or more.")
    if decoding == "sample":
        temp = params.get("temperature")
        if temp is None or float(temp) <= 0:
            raise errors.ValidationError(
                f"Sampling needs a temperature above 0 (got {temp}).",
                "Use --decoding greedy for temperature 0, or a temperature such as 1.0.",
            )
        top_k = params.get("top_k")
        if top_k is not None and int(top_k) < 1:
            raise errors.ValidationError(f"top-k must be at least 1 (got {top_k}).", "Leave it out for no top-k.")
        top_p = params.get("top_p")
        if top_p is not None and not 0 < float(top_p) <= 1:
            raise errors.ValidationError(f"top-p must be in (0, 1] (got {top_p}).")
    if decoding == "beam" and int(params.get("num_beams", 0)) < 2:
        raise errors.ValidationError("Beam search needs at least 2 beams.", "Give --num-beams 2 or more.")
    if int(params.get("n_samples", 1)) < 1:
        raise errors.ValidationError("The number of samples must be at least 1.")


def validate_scheme(temperature: float, top_k: Optional[int]) -> None:
    if temperature is not None and not math.isfinite(float(temperature)):
        raise errors.ValidationError(f"The p_z temperature must be a finite number (got {temperature}).",
                                     "Use temperature 1.0; NaN and infinity are refused.")
    if temperature is None or float(temperature) <= 0:
        raise errors.ValidationError(
            f"p_z needs a temperature above 0 (got {temperature}).",
            "Greedy exact match is reported separately (greedy_exact); use temperature 1.0 for p_z.",
        )
    if top_k is not None and int(top_k) < 1:
        raise errors.ValidationError(f"top-k must be at least 1 (got {top_k}).", "Leave it out for the full vocabulary.")
