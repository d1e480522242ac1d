"""The transformers engine: the reference (float32 on CPU), also CUDA (device_map) / MPS and bfloat16/float16.

Everything that calls the torch model lives here: teacher-forced scoring
(one batched forward pass, the LM head applied only to the target
positions), explicit generation (the shipped generation config is
neutralised; every decoding parameter is passed), and the tokenizer. Torch
and transformers are imported lazily, inside the calls.
"""

from __future__ import annotations

import importlib.util
from typing import Any, Optional, Sequence

from memoview.core import errors
from memoview.core.engines.base import (Capabilities, CapabilityError, EngineIdentity, EngineSettings, Generation,
                                        GenerationParams, ScoringScheme)
from memoview.core.extraction.probability import TargetScores
from memoview.core.jobs import CancelToken, Job
from memoview.core.models.base import LoadedModel
from memoview.core.records import ModelInfo

NAME = "transformers"
LOGITS_BUDGET_BYTES = 192 * 1024 * 1024  # float32 logits kept at once; large vocabularies get smaller batches
BODY_BATCH = 32  # rows run through the transformer body at once (its activations are small)


def unavailable_reason() -> Optional[str]:
    for module in ("torch", "transformers"):
        if importlib.util.find_spec(module) is None:
            return f"the Python package '{module}' is not installed"
    return None


def declared_capabilities() -> Capabilities:
    """What the engine can do before a model is opened (the wizard greys out methods with this)."""
    return Capabilities(beam_search=True)


def resolve_settings(settings: EngineSettings) -> tuple[str, str]:
    """(device, dtype) for ``auto``: the CPU in float32, the reference numerics."""
    device = (settings.device or "auto").lower()
    dtype = (settings.dtype or "auto").lower()
    if device == "auto":
        device = "cpu"
    if dtype == "auto":
        dtype = "float32"
    if device not in ("cpu", "cuda", "mps") and not device.startswith("cuda:"):
        raise CapabilityError(f"Unknown device '{settings.device}'.", "Use cpu, cuda, cuda:N or mps.")
    if dtype not in ("float32", "bfloat16", "float16"):
        raise CapabilityError(f"The transformers engine cannot compute in '{settings.dtype}'.",
                              "Use float32 (the reference), bfloat16 or float16.")
    return device, dtype


def _check_device(device: str) -> None:
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise CapabilityError("No CUDA GPU is available to this torch build.",
                              "Use --device cpu, or run on a machine with an NVIDIA GPU and a CUDA build of torch.")
    if device == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise CapabilityError("Apple's MPS device is not available here.", "Use --device cpu.")


def open_engine(path: str, settings: EngineSettings, *, allow_pickle: bool = False,
                cancel: Optional[CancelToken] = None) -> Job[Optional["TransformersEngine"]]:
    """Open ``path`` (HF folder or GGUF, dequantized through the verified cache) with these settings."""
    from memoview.core.models.load import open_model

    device, dtype = resolve_settings(settings)
    _check_device(device)
    if settings.threads:
        import torch

        torch.set_num_threads(int(settings.threads))
    lm = yield from open_model(path, allow_pickle=allow_pickle, cancel=cancel, dtype=dtype, device=device)
    if lm is None:
        return None
    return TransformersEngine(lm)


def from_loaded(lm: LoadedModel) -> "TransformersEngine":
    """The engine around an already opened LoadedModel (one wrapper per model, cached on it)."""
    engine = getattr(lm, "_memoview_engine", None)
    if engine is None:
        engine = TransformersEngine(lm)
        lm._memoview_engine = engine  # type: ignore[attr-defined]
    return engine


class TransformersEngine:
    """A transformers causal LM behind the engine protocol (see engines/base.py)."""

    name = NAME

    def __init__(self, lm: LoadedModel) -> None:
        self.lm = lm
        self.info: ModelInfo = lm.info
        self.report = lm.report
        self._split_state: Optional[bool] = None  # body/head split verified against the model's own forward
        lm._memoview_engine = self  # type: ignore[attr-defined]
        self.capabilities = Capabilities(
            scoring=True, full_vocab_logits=True, generation=True, sampling=True, seeded_sampling=True,
            beam_search=True, deterministic=True, token_offsets=True,
            chat_template=bool(getattr(lm.tokenizer, "chat_template", None)),
            max_context=int(lm.info.context_length or 0),
        )
        self.identity = self._identity()

    # ------------------------------------------------------------------ identity
    def _identity(self) -> EngineIdentity:
        import torch
        import transformers

        try:
            param = next(self.lm.model.parameters())
            device, dtype = str(param.device), str(param.dtype).replace("torch.", "")
        except StopIteration:  # pragma: no cover
            device, dtype = "cpu", ""
        devices = sorted({str(p.device) for p in self.lm.model.parameters()})
        if len(devices) > 1:
            device = ",".join(devices)
        mkldnn: Any = torch.backends.mkldnn  # its is_available() is untyped
        build = {"torch_cuda": str(torch.version.cuda or "none"),
                 "mkldnn": str(bool(mkldnn.is_available()))}
        if device.startswith("cuda"):
            build["gpu"] = torch.cuda.get_device_name(param.device)
        return EngineIdentity(engine=NAME, library="transformers", library_version=transformers.__version__,
                              device=device, dtype=dtype, threads=int(torch.get_num_threads()),
                              build=build, extra={"torch": torch.__version__})

    # ------------------------------------------------------------------ tokenizer
    @property
    def model(self) -> Any:
        return self.lm.model

    @property
    def bos_token_id(self) -> Optional[int]:
        return self.lm.bos_token_id

    @property
    def eos_token_id(self) -> Optional[int]:
        return self.lm.eos_token_id

    @property
    def adds_bos(self) -> bool:
        return self.lm.adds_bos

    def encode(self, text: str) -> list[int]:
        return self.lm.encode(text)

    def encode_with_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        return self.lm.encode_with_offsets(text)

    def decode(self, ids: Sequence[int]) -> str:
        return self.lm.decode(list(ids))

    def render_chat(self, messages: Sequence[dict[str, str]]) -> str:
        if not self.capabilities.chat_template:
            raise CapabilityError("This model has no chat template.", "Use a plain prompt instead of chat messages.")
        return str(self.lm.tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=False))

    def close(self) -> None:
        self.lm.model = None

    # ------------------------------------------------------------------ scoring
    def _pad_id(self) -> int:
        pad = getattr(self.lm.tokenizer, "pad_token_id", None)
        if pad is None:
            pad = self.lm.eos_token_id
        return int(pad) if pad is not None else 0

    def _device(self) -> Any:
        return next(self.lm.model.parameters()).device

    def score(self, contexts: Sequence[Sequence[int]], targets: Sequence[Sequence[int]],
              scheme: ScoringScheme) -> list[TargetScores]:
        """Teacher-forced scores.

        Sequences are left-padded (with explicit position ids) so that every row's
        target steps are its last positions. The transformer body runs once over
        up to ``BODY_BATCH`` rows; the LM head is then applied **only to the target
        positions**, a few rows at a time, so the float32 logits kept at once stay
        under ``LOGITS_BUDGET_BYTES`` (a 262k-token vocabulary makes them the
        largest tensor by far). Where the model cannot be split into body and head
        safely (checked once against the model's own forward), each small batch
        runs the whole forward with ``logits_to_keep``.
        """
        if any(not c for c in contexts):
            raise errors.ValidationError("A continuation needs at least one token of context (BOS or prompt).")
        if any(not t for t in targets):
            raise errors.ValidationError("A target needs at least one token.")
        vocab = int(getattr(getattr(self.lm.model, "config", None), "vocab_size", 0) or 50_000)
        m_max = max(len(t) for t in targets)
        head_rows = max(1, LOGITS_BUDGET_BYTES // max(1, m_max * vocab * 4))
        body_rows = max(head_rows, BODY_BATCH)
        out: list[TargetScores] = []
        for lo in range(0, len(contexts), body_rows):
            out.extend(self._score_batch(contexts[lo:lo + body_rows], targets[lo:lo + body_rows], scheme,
                                         head_rows))
        return out

    def _split(self) -> Optional[tuple[Any, Any]]:
        """(body, head) of the causal LM when the split is known to give the model's own logits."""
        if self._split_state is False:
            return None
        model = self.lm.model
        try:
            body, head = model.get_decoder(), model.get_output_embeddings()
        except (AttributeError, NotImplementedError):
            body = head = None
        if body is None or head is None or body is model:
            self._split_state = False
            return None
        return body, head

    def _head(self, head: Any, hidden: Any) -> Any:
        import torch

        logits = head(hidden)
        cap = getattr(getattr(self.lm.model, "config", None), "final_logit_softcapping", None)
        if cap:
            logits = torch.tanh(logits / cap) * cap
        return logits

    def _full_logits(self, ids: Any, mask: Any, positions: Any, m: int) -> Any:
        try:
            return self.lm.model(input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=m).logits
        except TypeError:  # an architecture without logits_to_keep
            return self.lm.model(input_ids=ids, attention_mask=mask, position_ids=positions).logits[:, -m:]

    def _score_batch(self, contexts: Sequence[Sequence[int]], targets: Sequence[Sequence[int]],
                     scheme: ScoringScheme, head_rows: int) -> list[TargetScores]:
        import torch

        seqs = [list(c) + list(t[:-1]) for c, t in zip(contexts, targets)]
        width = max(len(s) for s in seqs)
        m = max(len(t) for t in targets)
        ids = torch.full((len(seqs), width), self._pad_id(), dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, width - len(s):] = torch.tensor(s, dtype=torch.long)
            mask[i, width - len(s):] = 1
        positions = (mask.cumsum(-1) - 1).clamp_min(0)
        dev = self._device()
        ids, mask, positions = ids.to(dev), mask.to(dev), positions.to(dev)
        out: list[TargetScores] = []
        with torch.no_grad():
            split = self._split()
            hidden = None
            if split is not None:
                hidden = split[0](input_ids=ids, attention_mask=mask, position_ids=positions).last_hidden_state[:, -m:]
            for lo in range(0, len(seqs), head_rows):
                hi = min(len(seqs), lo + head_rows)
                if hidden is not None:
                    logits = self._head(split[1], hidden[lo:hi])  # type: ignore[index]
                    if self._split_state is None:  # once: the split must reproduce the model's own logits
                        full = self._full_logits(ids[lo:hi], mask[lo:hi], positions[lo:hi], m)
                        self._split_state = bool(torch.allclose(logits.float(), full.float(), rtol=1e-4, atol=1e-4))
                        if not self._split_state:
                            logits, hidden = full, None
                else:
                    logits = self._full_logits(ids[lo:hi], mask[lo:hi], positions[lo:hi], m)
                out.extend(self._score_rows(logits.float().cpu(), targets[lo:hi], m, scheme))
        return out

    def _score_rows(self, logits: Any, targets: Sequence[Sequence[int]], m: int,
                    scheme: ScoringScheme) -> list[TargetScores]:
        import torch

        from memoview.core.extraction.probability import score_targets

        tgt = torch.zeros((len(targets), m), dtype=torch.long)
        tmask = torch.zeros((len(targets), m), dtype=torch.long)
        for i, t in enumerate(targets):
            tgt[i, :len(t)] = torch.tensor(list(t), dtype=torch.long)
            tmask[i, :len(t)] = 1
        if not all(len(t) == m for t in targets):
            # Targets of different lengths end at the right edge: move each to the left of its row.
            step_logits = torch.zeros((len(targets), m, logits.shape[-1]), dtype=torch.float32)
            for i, t in enumerate(targets):
                step_logits[i, :len(t)] = logits[i, m - len(t):]
            logits = step_logits
        scores = score_targets(logits[:, -m:], tgt, tmask, scheme.temperature, scheme.top_k,
                               with_ranks=scheme.with_ranks)
        if scheme.moments:
            scores = _with_moments(scores, logits[:, -m:], tmask)
        return scores

    # ------------------------------------------------------------------ generation
    def _generation_config(self, params: GenerationParams) -> Any:
        """A complete GenerationConfig: nothing taken from the model's shipped defaults."""
        from transformers import GenerationConfig as _GenerationConfig

        GenerationConfig: Any = _GenerationConfig  # transformers' constructor is untyped
        sample = params.decoding == "sample"
        return GenerationConfig(
            max_new_tokens=int(params.max_new_tokens), min_new_tokens=0, do_sample=sample,
            temperature=float(params.temperature) if sample and params.temperature else 1.0,
            top_k=int(params.top_k) if sample and params.top_k else 0,
            top_p=float(params.top_p) if sample and params.top_p is not None else 1.0,
            num_beams=int(params.num_beams) if params.decoding == "beam" else 1,
            num_return_sequences=1, repetition_penalty=float(params.repetition_penalty or 1.0),
            no_repeat_ngram_size=0, length_penalty=1.0, early_stopping=False,
            bos_token_id=self.lm.bos_token_id, eos_token_id=self.lm.eos_token_id, pad_token_id=self._pad_id(),
            use_cache=True,
        )

    def _neutralise(self) -> None:
        """Replace the shipped generation config so that nothing hidden (penalties, top-k) leaks in."""
        from transformers import GenerationConfig as _GenerationConfig

        GenerationConfig: Any = _GenerationConfig  # transformers' constructor is untyped
        model = self.lm.model
        if getattr(getattr(model, "generation_config", None), "_memoview_neutral", False):
            return
        neutral = GenerationConfig(bos_token_id=self.lm.bos_token_id, eos_token_id=self.lm.eos_token_id,
                                   pad_token_id=self._pad_id())
        neutral._memoview_neutral = True
        model.generation_config = neutral

    def generate(self, contexts: Sequence[Sequence[int]], params: GenerationParams,
                 cancel: Optional[CancelToken] = None) -> list[Generation]:
        """New token ids per context (left padding, attention mask), EOS kept, padding dropped."""
        import torch

        if params.decoding not in ("greedy", "sample", "beam"):
            raise CapabilityError(f"Unknown decoding '{params.decoding}'.", "Use greedy, sample or beam.")
        self._neutralise()
        pad = self._pad_id()
        width = max(len(p) for p in contexts)
        ids = torch.full((len(contexts), width), pad, dtype=torch.long)
        mask = torch.zeros((len(contexts), width), dtype=torch.long)
        for i, p in enumerate(contexts):
            if p:
                ids[i, width - len(p):] = torch.tensor(list(p), dtype=torch.long)
                mask[i, width - len(p):] = 1
        if params.seed is not None:
            torch.manual_seed(int(params.seed))
        dev = self._device()
        with torch.no_grad():
            out = self.lm.model.generate(
                input_ids=ids.to(dev), attention_mask=mask.to(dev),
                generation_config=self._generation_config(params), stopping_criteria=_cancel_criteria(cancel),
            )
        results: list[Generation] = []
        eos = self.lm.eos_token_id
        cancelled = cancel is not None and cancel.cancelled
        for row in out[:, width:].tolist():
            new: list[int] = []
            reason = "length"
            for t in row:
                new.append(int(t))
                if eos is not None and t == eos:
                    reason = "eos"
                    break
            results.append(Generation(tuple(new), (), "cancelled" if cancelled and reason == "length" else reason))
        return results


def _cancel_criteria(cancel: Optional[CancelToken]) -> Any:
    """A StoppingCriteria that ends generation within one step of a cancel."""
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _Cancel(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            import torch

            flag = cancel is not None and cancel.cancelled
            return torch.full((input_ids.shape[0],), flag, dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([_Cancel()])


def _with_moments(scores: list[TargetScores], logits: Any, tmask: Any) -> list[TargetScores]:
    """Add each step's mean and standard deviation of log p over the vocabulary (Min-K%++, Zhang et al. 2024)."""
    import dataclasses

    import torch

    out = []
    for b, s in enumerate(scores):
        m = int(tmask[b].sum())
        logp = torch.log_softmax(logits[b, :m], dim=-1)
        probs = logp.exp()
        mu = (probs * logp).sum(-1)
        sigma = ((probs * logp.pow(2)).sum(-1) - mu.pow(2)).clamp_min(1e-12).sqrt()
        out.append(dataclasses.replace(s, logprob_mean=tuple(float(x) for x in mu.tolist()),
                                       logprob_std=tuple(float(x) for x in sigma.tolist())))
    return out


def environment_versions() -> dict[str, Any]:
    """Library versions for an environment record, imported only when a transformers engine ran."""
    import torch
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__,
            "threads": torch.get_num_threads()}


__all__ = ["NAME", "TransformersEngine", "from_loaded", "open_engine", "resolve_settings", "unavailable_reason"]
