"""Why llama.cpp and transformers float32 disagree on a demo sweep window: the measurements behind the README
(Engines, "The one remaining difference"). One run; every figure is a distance measured here, in this run.

1. Batching: llama.cpp's logits for windows 2..n of one multi-sequence decode, against each window decoded
   alone, with a unified KV buffer (the old engine setting; llama.cpp#24962) and with one stream per sequence
   (the engine's setting now). The second must be 0.
2. Weights: transformers' dequantized tensors against the ``gguf`` package's dequantization of the file.
3. Numerics (windows scored one at a time): mean |Δ log p(target)| and argmax flips between transformers
   float32 and llama.cpp with its default context, a float32 KV cache, flash attention off; and transformers
   against itself with llama.cpp's 8-bit activation quantization emulated before every matmul (Q8_0 blocks
   of 32 for Q5_0/Q8_0 weights, Q8_K blocks of 256 for Q4_K/Q6_K), which is the size of the arithmetic noise.

Usage: python bench/llamacpp_numerics.py [--windows 0,1,2,3,4,5,6,7] [--threads 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TEXT = ROOT / "memoview/resources/demo/declaration_of_independence.txt"
HF_TO_GGUF = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
              "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
              "mlp.down_proj": "ffn_down"}


def _lsm(x: Any) -> Any:
    import numpy as np

    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def _q8_0(x: Any) -> Any:
    """ggml's quantize_row_q8_0 and back: blocks of 32, scale amax/127 stored as float16."""
    import torch

    b = x.reshape(-1, 32)
    d = b.abs().amax(-1, keepdim=True) / 127.0
    q = torch.round(b * torch.where(d > 0, 1.0 / d, torch.zeros_like(d)))
    return (q * d.half().float()).reshape(x.shape)


def _q8_k(x: Any) -> Any:
    """ggml's quantize_row_q8_K and back: blocks of 256, iscale = -127 / (the largest-magnitude value)."""
    import torch

    b = x.reshape(-1, 256)
    mx = torch.gather(b, -1, b.abs().argmax(-1, keepdim=True))
    iscale = torch.where(mx != 0, -127.0 / mx, torch.zeros_like(mx))
    q = torch.clamp(torch.round(iscale * b), max=127)
    return (q * torch.where(iscale != 0, 1.0 / iscale, torch.zeros_like(iscale))).reshape(x.shape)


ACTIVATION_QUANT: dict[str, Callable[[Any], Any]] = {"Q4_0": _q8_0, "Q5_0": _q8_0, "Q8_0": _q8_0,
                                                     "Q4_K": _q8_k, "Q5_K": _q8_k, "Q6_K": _q8_k}


def main() -> int:
    import gguf
    import numpy as np
    import torch
    from gguf.quants import dequantize

    from memoview.core.engines.base import EngineSettings
    from memoview.core.extraction import common
    from memoview.core.extraction.passage import sweep_passages, tokenize_document
    from memoview.core.jobs import run_job
    from memoview.core.models.demo import demo_model_path
    from memoview.core.records import Document
    from memoview.core.session import open_engine

    ap = argparse.ArgumentParser()
    ap.add_argument("--windows", default="0,1,2,3,4,5,6,7")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    windows = [int(w) for w in args.windows.split(",")]
    path = str(demo_model_path())
    print(f"bench/llamacpp_numerics.py  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  windows {windows}")
    tf = run_job(open_engine(path, EngineSettings(engine="transformers", dtype="float32", threads=args.threads)))
    ll = run_job(open_engine(path, EngineSettings(engine="llama.cpp", threads=args.threads)))
    L = ll._L
    text = TEXT.read_text(encoding="utf-8")
    doc = Document(id=1, title="D", author="", source="", date_obtained="", notes="", filename="",
                   media_type="text/plain", byte_size=len(text), raw_sha256="", text_sha256="", text=text,
                   extractor="", extractor_version="", encoding="utf-8", is_control=False, imported_at="")
    td, tl = tokenize_document(tf, doc), tokenize_document(ll, doc)
    bos = common.bos_ids(tf, common.bos_policy(tf))
    print(f"tokens: transformers {len(td.ids)}, llama.cpp {len(tl.ids)}, identical {list(td.ids) == list(tl.ids)}; "
          f"BOS {bos} / {common.bos_ids(ll, common.bos_policy(ll))}")
    ps = sweep_passages(td, 50, 50, 50)
    ctx = {i: bos + list(td.ids[ps[i].prefix_start_token:ps[i].start_token]) for i in windows}
    tgt = {i: list(td.ids[ps[i].start_token:ps[i].end_token]) for i in windows}

    def llama(idx: list[int], **overrides: Any) -> list[Any]:
        cp = L.llama_context_default_params()
        cp.n_ctx = cp.n_batch = 128 * len(idx)
        cp.n_ubatch = min(512, cp.n_ctx)
        cp.n_seq_max = len(idx)
        cp.n_threads = cp.n_threads_batch = args.threads
        cp.kv_unified, cp.no_perf = False, True
        for k, v in overrides.items():
            setattr(cp, k, v)
        ll._ctx, ll._ctx_shape = L.llama_init_from_model(ll._model, cp), (len(idx), 128)
        try:
            lg = ll._decode([(ctx[i] + tgt[i][:-1], j, len(ctx[i]) - 1) for j, i in enumerate(idx)])
        finally:
            L.llama_free(ll._ctx)
            ll._ctx, ll._ctx_shape = None, (0, 0)
        return [_lsm(np.stack([lg[(j, len(ctx[i]) - 1 + s)] for s in range(len(tgt[i]))])) for j, i in enumerate(idx)]

    # 1. batching
    first3 = windows[:3]
    alone = [llama([i])[0] for i in first3]
    for unified in (True, False):
        together = llama(first3, kv_unified=unified)
        worst = max(float(np.abs(a - b).max()) for a, b in zip(together[1:], alone[1:]))
        print(f"1. {len(first3)} windows in one decode, kv_unified={unified}: windows 2..n vs alone, "
              f"max |Δ log p| = {worst:.4f}")

    # 2. weights
    reader = gguf.GGUFReader(path)
    tensors = {t.name: t for t in reader.tensors}
    sd = tf.lm.model.state_dict()

    def hf(suffix: str) -> Any:
        return sd[min((k for k in sd if k == suffix or k.endswith("." + suffix)), key=len)].float().numpy()

    def gg(name: str) -> Any:
        t = tensors[name]
        return dequantize(t.data, t.tensor_type).reshape([int(x) for x in reversed(t.shape)])

    checks = [("norm.weight", "output_norm.weight", -1.0), ("layers.0.input_layernorm.weight", "blk.0.attn_norm.weight", -1.0),
              ("layers.0.self_attn.q_proj.weight", "blk.0.attn_q.weight", 0.0),
              ("layers.0.self_attn.v_proj.weight", "blk.0.attn_v.weight", 0.0),
              ("layers.3.self_attn.o_proj.weight", "blk.3.attn_output.weight", 0.0),
              ("layers.0.mlp.down_proj.weight", "blk.0.ffn_down.weight", 0.0),
              ("embed_tokens.weight", "token_embd.weight", 0.0)]
    for h, g, offset in checks:  # Gemma's norm weights are stored +1 in GGUF
        diff = float(np.abs(hf(h) - (gg(g) + offset)).max())
        print(f"2. {h:36s} ({tensors[g].tensor_type.name}) transformers vs gguf dequantized: max |diff| {diff:.3g}")

    # 3. numerics
    qtype = {t.name: t.tensor_type.name for t in reader.tensors}
    hooks: list[Any] = []

    def emulate(on: bool) -> None:
        for h in hooks:
            h.remove()
        hooks.clear()
        for name, mod in tf.lm.model.named_modules() if on else ():
            if not isinstance(mod, torch.nn.Linear):
                continue
            if name.endswith("lm_head"):
                g = "token_embd.weight"
            else:
                parts = name.split(".")
                g = f"blk.{parts[parts.index('layers') + 1]}.{HF_TO_GGUF['.'.join(parts[-2:])]}.weight"
            fn = ACTIVATION_QUANT[qtype[g]]
            hooks.append(mod.register_forward_pre_hook(lambda m, a, fn=fn: (fn(a[0].float()),)))

    def tf_lp() -> dict[int, Any]:
        with torch.no_grad():
            return {i: _lsm(tf.lm.model(input_ids=torch.tensor([ctx[i] + tgt[i][:-1]])).logits[0].float().numpy()
                            [len(ctx[i]) - 1:]) for i in windows}

    def gap(a: dict[int, Any], b: dict[int, Any]) -> str:
        d = np.concatenate([np.abs(a[i][np.arange(len(tgt[i])), tgt[i]] - b[i][np.arange(len(tgt[i])), tgt[i]])
                            for i in windows])
        flips = sum(int((a[i].argmax(-1) != b[i].argmax(-1)).sum()) for i in windows)
        return f"mean |Δ log p| {d.mean():.4f}, max {d.max():.3f}, argmax differs at {flips} of {len(d)} steps"

    ref = tf_lp()
    emulate(True)
    quantized = tf_lp()
    emulate(False)
    print(f"3. transformers float32 vs itself with llama.cpp's 8-bit activations emulated: {gap(ref, quantized)}")
    for label, o in (("default context (f16 KV, flash attention auto)", {}),
                     ("float32 KV cache", {"type_k": 0, "type_v": 0}), ("flash attention off", {"flash_attn_type": 0})):
        runs = {i: llama([i], **o)[0] for i in windows}
        print(f"3. transformers float32 vs llama.cpp, {label}: {gap(ref, runs)}")
    tf.close()
    ll.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
