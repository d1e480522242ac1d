"""The llama.cpp engine (llama-cpp-python): GGUF in its own quantization, memory-mapped, no dequantization.

Why it exists: the numbers a deployed quantized model produces are the
numbers in question, and a 7B GGUF opens in seconds and a few GB where
transformers would need 28 GB of float32.

How it scores: llama.cpp's low-level batch API (``llama_batch`` with a
per-token logits flag, ``llama_decode``, ``llama_get_logits_ith``).
Several windows go into one batch as separate sequences, and logits are
requested **only for the target positions** (never ``logits_all``). The
per-step facts are then computed from those logits by the same rules as
the transformers engine (:mod:`memoview.core.engines.npscore`).

Generation: greedy and seeded sampling (temperature, top-k with ties kept,
top-p) by memoview's own sampler on llama.cpp's logits, so every setting is
explicit and recorded. There is no beam search: the capability says so.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional, Sequence

from memoview.core import errors
from memoview.core.engines.base import (Capabilities, CapabilityError, EngineIdentity, EngineSettings, Generation,
                                        GenerationParams, ScoringScheme)
from memoview.core.extraction.probability import TargetScores
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.core.records import ModelInfo

NAME = "llama.cpp"
LOGITS_BUDGET_BYTES = 192 * 1024 * 1024  # float32 logits requested per decode
SEQ_CAPACITY = 16  # sequences (windows) per context
KV_UNIFIED = False  # see _context: a unified KV buffer corrupts multi-sequence decodes
_BACKEND_READY = False


def unavailable_reason() -> Optional[str]:
    if importlib.util.find_spec("llama_cpp") is None:
        return ("the Python package 'llama-cpp-python' is not installed (pip install 'memoview[llama]'; "
                "it compiles llama.cpp and needs a C++ compiler)")
    return None


def declared_capabilities() -> Capabilities:
    """What the engine can do before a model is opened (the wizard greys out methods with this)."""
    return Capabilities(beam_search=False, notes=("no beam search in memoview's llama.cpp engine",))


def library_version() -> str:
    try:
        from importlib import metadata

        return metadata.version("llama_cpp_python")
    except Exception:  # pragma: no cover
        import llama_cpp

        return str(getattr(llama_cpp, "__version__", "?"))


def _lib() -> Any:
    global _BACKEND_READY
    try:
        import llama_cpp
    except (ImportError, OSError) as exc:  # a missing or broken build (shared library not loadable)
        raise CapabilityError(f"The llama.cpp engine cannot be loaded: {exc}.",
                              "Reinstall it (tools/install.sh, or pip install 'memoview[llama]' with a C++ "
                              "compiler present), or use --engine transformers.") from exc
    if not _BACKEND_READY:
        llama_cpp.llama_backend_init()
        _silence(llama_cpp)
        _BACKEND_READY = True
    return llama_cpp


_LOG_CALLBACK: Any = None


def _silence(llama_cpp: Any) -> None:
    """llama.cpp logs every load to stderr; memoview reports progress itself (errors still raise)."""
    global _LOG_CALLBACK
    try:
        def _quiet(level: int, text: bytes, user_data: Any) -> None:  # pragma: no cover - C callback
            return None

        _LOG_CALLBACK = llama_cpp.llama_log_callback(_quiet)  # the ctypes callback; kept alive in a global
        llama_cpp.llama_log_set(_LOG_CALLBACK, ctypes.c_void_p(0))
    except (AttributeError, TypeError):  # pragma: no cover - other bindings
        pass


def open_engine(path: str, settings: EngineSettings, *, allow_pickle: bool = False,
                cancel: Optional[CancelToken] = None) -> Job[Optional["LlamaCppEngine"]]:
    """Inspect and fingerprint the GGUF file, check memory, then map it with llama.cpp."""
    from memoview.core.engines import memory
    from memoview.core.models.inspect import inspect_model

    if not str(path).lower().endswith(".gguf") and not Path(path).is_file():
        raise CapabilityError(f"The llama.cpp engine opens GGUF files; {Path(path).name} is not one.",
                              "Use --engine transformers for a Hugging Face model folder.")
    dtype = (settings.dtype or "auto").lower()
    if dtype not in ("auto", ""):
        raise CapabilityError(f"The llama.cpp engine runs the GGUF file's own quantization; --dtype {dtype} "
                              "does not apply.", "Leave --dtype out, or use --engine transformers.")
    device = (settings.device or "auto").lower()
    info = yield from inspect_model(path, allow_pickle=allow_pickle, cancel=cancel, engine=NAME)
    if info is None or (cancel is not None and cancel.cancelled):
        return None
    if info.format != "gguf":
        raise CapabilityError(f"The llama.cpp engine opens GGUF files; {Path(path).name} is a {info.format} model.",
                              "Use --engine transformers.")
    memory.check(info, memory.weight_file_bytes(info), NAME, "cpu" if device in ("auto", "cpu") else device, "")
    yield Progress(0, None, f"Mapping {Path(path).name} with llama.cpp")
    engine = LlamaCppEngine(info, device=device, threads=settings.threads)
    yield Progress(1, 1, f"Opened {Path(path).name} with llama.cpp in {engine.open_seconds:.2f} s")
    return engine


class LlamaCppEngine:
    """A GGUF model under llama.cpp behind the engine protocol (see engines/base.py)."""

    name = NAME

    def __init__(self, info: ModelInfo, *, device: str = "auto", threads: Optional[int] = None) -> None:
        start = time.perf_counter()
        L = _lib()
        self._L = L
        mp = L.llama_model_default_params()
        gpu = device not in ("auto", "cpu")
        if gpu and not L.llama_supports_gpu_offload():
            raise CapabilityError(f"This llama.cpp build cannot use the device '{device}' (it was built for the CPU).",
                                  "Use --device cpu, or reinstall llama-cpp-python with CMAKE_ARGS=-DGGML_CUDA=on.")
        mp.n_gpu_layers = -1 if gpu else 0
        # Extra buffer types (AMX tiles, repacked weights) are off unless asked for: on this project's
        # reference machines (a sandboxed Xeon that reports AMX) they stop the process with an illegal
        # instruction. Recorded in the identity's build flags either way.
        if hasattr(mp, "use_extra_bufts") and os.environ.get("MEMOVIEW_LLAMA_EXTRA_BUFTS", "") != "1":
            mp.use_extra_bufts = False
        if hasattr(mp, "load_mode"):
            mp.load_mode = L.LLAMA_LOAD_MODE_MMAP
        elif hasattr(mp, "use_mmap"):  # pragma: no cover - older bindings
            mp.use_mmap = True
        model = L.llama_model_load_from_file(str(info.path).encode("utf-8"), mp)
        if not model:
            raise errors.InvalidGGUFError(f"llama.cpp could not load {Path(info.path).name}.",
                                          "Check the file's SHA-256 against the publisher's, or try "
                                          "--engine transformers.")
        self._model = model
        self._vocab = L.llama_model_get_vocab(model)
        self.n_vocab = int(L.llama_vocab_n_tokens(self._vocab))
        self.threads = int(threads or max(1, min(os.cpu_count() or 1, 4)))
        self.device = "cpu" if not gpu else "gpu (llama.cpp offload)"
        self._ctx: Any = None
        self._ctx_shape = (0, 0)
        self._template = self._meta("tokenizer.chat_template")
        self.info = replace(
            info, dtype=info.quantization or "gguf", device=self.device,
            library_versions={**info.library_versions, "llama_cpp_python": library_version()},
            adds_bos=bool(L.llama_vocab_get_add_bos(self._vocab)),
            has_chat_template=bool(self._template),
            notes=tuple(n for n in info.notes if "dequantized" not in n)
            + ("run by llama.cpp in the file's own quantization (memory-mapped, not dequantized)",),
        )
        self.capabilities = Capabilities(
            scoring=True, full_vocab_logits=True, generation=True, sampling=True, seeded_sampling=True,
            beam_search=False, deterministic=True, token_offsets=True, chat_template=bool(self._template),
            max_context=int(L.llama_model_n_ctx_train(model)),
            notes=("no beam search in memoview's llama.cpp engine",),
        )
        self.identity = EngineIdentity(
            engine=NAME, library="llama-cpp-python", library_version=library_version(), device=self.device,
            dtype=info.quantization or "gguf", threads=self.threads, build=self._build_flags(),
            extra={"llama_cpp": library_version(),
                   "context": {"kv_unified": KV_UNIFIED, "kv_cache": "f16", "flash_attn": "auto"}},
        )
        self.open_seconds = time.perf_counter() - start

    # ------------------------------------------------------------------ facts
    def _meta(self, key: str) -> str:
        buf = ctypes.create_string_buffer(1 << 16)
        n = self._L.llama_model_meta_val_str(self._model, key.encode(), buf, len(buf))
        if n < 0:
            return ""
        if n >= len(buf):
            buf = ctypes.create_string_buffer(n + 1)
            self._L.llama_model_meta_val_str(self._model, key.encode(), buf, len(buf))
        return buf.value.decode("utf-8", "replace")

    def _build_flags(self) -> dict[str, str]:
        try:
            text = self._L.llama_print_system_info().decode("utf-8", "replace")
        except Exception:  # pragma: no cover
            return {}
        flags: dict[str, str] = {}
        for part in text.replace("|", "\n").splitlines():
            if "=" in part:
                k, v = part.split("=", 1)
                key = k.strip().split(":")[-1].strip()
                if key:
                    flags[key] = v.strip()
        flags["gpu_offload"] = str(bool(self._L.llama_supports_gpu_offload()))
        flags["extra_buffer_types"] = "on" if os.environ.get("MEMOVIEW_LLAMA_EXTRA_BUFTS", "") == "1" else "off"
        return flags

    @property
    def bos_token_id(self) -> Optional[int]:
        t = int(self._L.llama_vocab_bos(self._vocab))
        return None if t < 0 else t

    @property
    def eos_token_id(self) -> Optional[int]:
        t = int(self._L.llama_vocab_eos(self._vocab))
        return None if t < 0 else t

    @property
    def adds_bos(self) -> bool:
        return self.info.adds_bos

    # ------------------------------------------------------------------ tokenizer
    def _tokenize(self, data: bytes) -> list[int]:
        n_max = len(data) + 16
        buf = (self._L.llama_token * n_max)()
        n = self._L.llama_tokenize(self._vocab, data, len(data), buf, n_max, False, True)
        if n < 0:
            n_max = -n
            buf = (self._L.llama_token * n_max)()
            n = self._L.llama_tokenize(self._vocab, data, len(data), buf, n_max, False, True)
        return [int(buf[i]) for i in range(n)]

    def _piece(self, token: int, special: bool = True) -> bytes:
        buf = ctypes.create_string_buffer(64)
        n = self._L.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, special)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = self._L.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, special)
        return buf.raw[:n]

    def encode(self, text: str) -> list[int]:
        """Tokens of the text (special-token strings in it are parsed, as transformers does); no BOS added."""
        return self._tokenize(text.encode("utf-8"))

    def encode_with_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Token ids and character ranges, recovered from each token's bytes (llama.cpp gives no offsets).

        The pieces must spell the text's bytes exactly (allowing one leading
        space a SentencePiece vocabulary adds); otherwise offsets would be
        guesses, and the engine refuses (CapabilityError) instead.
        """
        from memoview.core.engines.byte_offsets import char_offsets

        ids = self._tokenize(text.encode("utf-8"))
        offsets = char_offsets(text, [self._piece(t) for t in ids])
        if offsets is None:
            raise CapabilityError("llama.cpp's tokens of this text do not spell it back byte for byte, so "
                                  "their character offsets cannot be recovered.",
                                  "Use --engine transformers for this document.")
        return ids, offsets

    def decode(self, ids: Sequence[int]) -> str:
        return b"".join(self._piece(int(t)) for t in ids).decode("utf-8", "replace")

    def render_chat(self, messages: Sequence[dict[str, str]]) -> str:
        if not self._template:
            raise CapabilityError("This model has no chat template.", "Use a plain prompt instead of chat messages.")
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        bos = self.decode([self.bos_token_id]) if self.bos_token_id is not None else ""
        eos = self.decode([self.eos_token_id]) if self.eos_token_id is not None else ""
        return str(Jinja2ChatFormatter(self._template, eos, bos)(messages=list(messages)).prompt)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ contexts and batches
    def _context(self, n_seq: int, per_seq: int) -> Any:
        """A context with room for ``n_seq`` sequences of ``per_seq`` tokens (re-created only when too small)."""
        L = self._L
        have_seq, have_len = self._ctx_shape
        if self._ctx is not None and have_seq >= n_seq and have_len >= per_seq:
            L.llama_memory_clear(L.llama_get_memory(self._ctx), True)
            return self._ctx
        if self._ctx is not None:
            L.llama_free(self._ctx)
            self._ctx = None
        n_seq, per_seq = max(n_seq, have_seq), max(per_seq, have_len, 128)
        per_seq = ((per_seq + 63) // 64) * 64
        cp = L.llama_context_default_params()
        cp.n_ctx = n_seq * per_seq
        cp.n_batch = n_seq * per_seq
        cp.n_ubatch = min(512, n_seq * per_seq)
        cp.n_seq_max = n_seq
        cp.n_threads = cp.n_threads_batch = self.threads
        if hasattr(cp, "kv_unified"):
            # One KV stream per sequence. With a unified KV buffer, llama.cpp (0.3.36's build) gives every
            # sequence after the first in a multi-sequence decode different logits from the same window
            # decoded alone (up to 4.8 nat in log p on the demo model; it flipped 2 of 20 sweep windows), a known
            # llama.cpp bug (ggml-org/llama.cpp#24962). Split streams are bit-identical to single decodes.
            cp.kv_unified = KV_UNIFIED
        # llama.cpp's own defaults otherwise (float16 KV cache, automatic flash attention): the numerics a
        # deployment of this file uses. (A float32 cache and flash attention off were measured on the demo
        # model: neither moves the per-token log-probs closer to transformers' float32; README, Engines.)
        if hasattr(cp, "no_perf"):
            cp.no_perf = True
        ctx = L.llama_init_from_model(self._model, cp)
        if not ctx:
            raise errors.ModelError("llama.cpp could not create a context for this model.",
                                    "Close other programs (memory), or use a shorter window.")
        self._ctx, self._ctx_shape = ctx, (n_seq, per_seq)
        return ctx

    def _decode(self, rows: Sequence[tuple[Sequence[int], int, int]]) -> dict[tuple[int, int], Any]:
        """Decode sequences; ``rows``: (tokens, seq_id, first position whose logits are wanted).

        Returns {(seq_id, position): float32 logits} for positions >= the first wanted.
        """
        import numpy as np

        L = self._L
        total = sum(len(t) for t, _, _ in rows)
        ctx = self._context(max(s for _, s, _ in rows) + 1, max(len(t) for t, _, _ in rows))
        batch = L.llama_batch_init(total, 0, 1)
        try:
            wanted: list[tuple[int, int, int]] = []
            i = 0
            for tokens, seq, first in rows:
                for pos, tok in enumerate(tokens):
                    batch.token[i] = int(tok)
                    batch.pos[i] = pos
                    batch.n_seq_id[i] = 1
                    batch.seq_id[i][0] = seq
                    want = pos >= first
                    batch.logits[i] = 1 if want else 0
                    if want:
                        wanted.append((seq, pos, i))
                    i += 1
            batch.n_tokens = total
            rc = L.llama_decode(ctx, batch)
            if rc != 0:
                raise errors.ModelError(f"llama.cpp failed to evaluate the batch (llama_decode returned {rc}).",
                                        "Try a smaller batch size, or --engine transformers.")
            out: dict[tuple[int, int], Any] = {}
            for seq, pos, idx in wanted:
                ptr = L.llama_get_logits_ith(ctx, idx)
                out[(seq, pos)] = np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).copy()
            return out
        finally:
            L.llama_batch_free(batch)

    # ------------------------------------------------------------------ scoring
    def score(self, contexts: Sequence[Sequence[int]], targets: Sequence[Sequence[int]],
              scheme: ScoringScheme) -> list[TargetScores]:
        """Teacher-forced scores; logits only at the target positions, several windows per decode."""
        import numpy as np

        from memoview.core.engines.npscore import score_block

        if any(not c for c in contexts):
            raise errors.ValidationError("A continuation needs at least one token of context (BOS or prompt).")
        if any(not t for t in targets):
            raise errors.ValidationError("A target needs at least one token.")
        m_max = max(len(t) for t in targets)
        per_decode = max(1, min(SEQ_CAPACITY, LOGITS_BUDGET_BYTES // max(1, m_max * self.n_vocab * 4)))
        out: list[TargetScores] = []
        for lo in range(0, len(contexts), per_decode):
            rows = []
            for j, (c, t) in enumerate(zip(contexts[lo:lo + per_decode], targets[lo:lo + per_decode])):
                rows.append((list(c) + list(t[:-1]), j, len(c) - 1))
            logits = self._decode(rows)
            chunk = list(zip(contexts[lo:lo + per_decode], targets[lo:lo + per_decode]))
            blocks = [np.stack([logits[(j, len(c) - 1 + s)] for s in range(len(t))]) for j, (c, t) in enumerate(chunk)]
            scored = _score_with_torch(blocks, [t for _, t in chunk], scheme)
            if scored is None:  # no torch here: the same rules in numpy
                scored = [score_block(b, t, scheme.temperature, scheme.top_k, with_ranks=scheme.with_ranks,
                                      moments=scheme.moments) for b, (_, t) in zip(blocks, chunk)]
            out.extend(scored)
        return out

    # ------------------------------------------------------------------ generation
    def generate(self, contexts: Sequence[Sequence[int]], params: GenerationParams,
                 cancel: Optional[CancelToken] = None) -> list[Generation]:
        """Greedy or seeded sampling, one token at a time on llama.cpp's logits; no beam search."""
        import numpy as np

        from memoview.core.engines.npscore import log_softmax_at, sample_token

        if params.decoding == "beam":
            self.capabilities.require_decoding("beam", NAME)
        if params.decoding not in ("greedy", "sample"):
            raise CapabilityError(f"Unknown decoding '{params.decoding}'.", "Use greedy or sample.")
        if params.repetition_penalty not in (None, 1.0):
            raise CapabilityError("The llama.cpp engine applies no repetition penalty.", "Leave it at 1.0.")
        eos = self.eos_token_id
        results: list[Generation] = []
        for ctx_tokens in contexts:
            rng = np.random.default_rng(params.seed if params.seed is not None else 0)
            L = self._L
            ctx = self._context(1, len(ctx_tokens) + params.max_new_tokens + 1)
            new: list[int] = []
            lps: list[float] = []
            reason = "length"
            logits = self._decode_one(ctx, list(ctx_tokens), 0)
            pos = len(ctx_tokens)
            for _ in range(params.max_new_tokens):
                if cancel is not None and cancel.cancelled:
                    reason = "cancelled"
                    break
                if params.decoding == "greedy":
                    tok = int(np.argmax(logits))
                else:
                    tok = sample_token(logits, float(params.temperature or 1.0), params.top_k, params.top_p, rng)
                lps.append(log_softmax_at(logits, tok))
                new.append(tok)
                if eos is not None and (tok == eos or L.llama_vocab_is_eog(self._vocab, tok)):
                    reason = "eos"
                    break
                if len(new) == params.max_new_tokens:
                    break
                logits = self._decode_one(ctx, [tok], pos)
                pos += 1
            results.append(Generation(tuple(new), tuple(lps), reason))
        return results

    def _decode_one(self, ctx: Any, tokens: list[int], start: int) -> Any:
        """Append ``tokens`` at position ``start`` of sequence 0; logits of the last one."""
        import numpy as np

        L = self._L
        batch = L.llama_batch_init(len(tokens), 0, 1)
        try:
            for i, tok in enumerate(tokens):
                batch.token[i] = int(tok)
                batch.pos[i] = start + i
                batch.n_seq_id[i] = 1
                batch.seq_id[i][0] = 0
                batch.logits[i] = 1 if i == len(tokens) - 1 else 0
            batch.n_tokens = len(tokens)
            rc = L.llama_decode(ctx, batch)
            if rc != 0:
                raise errors.ModelError(f"llama.cpp failed to evaluate the prompt (llama_decode returned {rc}).")
            ptr = L.llama_get_logits_ith(ctx, len(tokens) - 1)
            return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).copy()
        finally:
            L.llama_batch_free(batch)

    def close(self) -> None:
        if self._ctx is not None:
            self._L.llama_free(self._ctx)
            self._ctx = None
        if self._model is not None:
            self._L.llama_model_free(self._model)
            self._model = None

    def __del__(self) -> None:  # pragma: no cover - best effort at exit
        try:
            self.close()
        except Exception:
            pass


def _score_with_torch(blocks: list[Any], targets: Sequence[Sequence[int]],
                      scheme: ScoringScheme) -> Optional[list[TargetScores]]:
    """The transformers engine's own scoring code on llama.cpp's logits (same rules, same float32 math);
    None when torch is not installed."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a core dependency of memoview
        return None
    import numpy as np

    from memoview.core.engines.transformers_engine import _with_moments
    from memoview.core.extraction.probability import score_targets

    m = max(len(t) for t in targets)
    logits = np.zeros((len(blocks), m, blocks[0].shape[-1]), dtype=np.float32)
    tgt = torch.zeros((len(blocks), m), dtype=torch.long)
    tmask = torch.zeros((len(blocks), m), dtype=torch.long)
    for i, (b, t) in enumerate(zip(blocks, targets)):
        logits[i, :len(t)] = b
        tgt[i, :len(t)] = torch.tensor(list(t), dtype=torch.long)
        tmask[i, :len(t)] = 1
    x = torch.from_numpy(logits)
    scores = score_targets(x, tgt, tmask, scheme.temperature, scheme.top_k, with_ranks=scheme.with_ranks)
    return _with_moments(scores, x, tmask) if scheme.moments else scores


__all__ = ["LlamaCppEngine", "NAME", "library_version", "open_engine", "unavailable_reason"]
