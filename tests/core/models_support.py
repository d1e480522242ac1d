"""Tiny real models for the model-backend tests, built here (nothing is downloaded).

``build_hf_model`` saves a 2-layer Llama (hidden 32) with a byte-level BPE
tokenizer trained on a few sentences, and a deliberately hostile
``generation_config.json`` (sampling, top-k 5, repetition penalty 1.3) that
must be recorded and never applied. ``build_gguf_model`` writes a tiny Llama
GGUF with ``gguf.GGUFWriter`` (float32 tensors plus one Q8_0 tensor, byte-level
BPE vocabulary and merges in its metadata), which transformers can load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "We hold these truths to be self-evident, that all men are created equal.",
    "Four score and seven years ago our fathers brought forth on this continent a new nation.",
    "Permission is hereby granted, free of charge, to any person obtaining a copy of this software.",
    "A lighthouse keeper counts the ships that pass in the night and writes them in a ledger.",
]
SPECIALS = ["<unk>", "<s>", "</s>", "<pad>"]
CHAT_TEMPLATE = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"


def _train_bpe(vocab_size: int = 300) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(SENTENCES * 4, trainer)
    return tok


def build_hf_model(folder: Path, *, seed: int = 0) -> Path:
    import torch
    from tokenizers import processors
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    backend = _train_bpe()
    bos_id = backend.token_to_id("<s>")
    backend.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                           special_tokens=[("<s>", bos_id)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>",
                                        unk_token="<unk>", pad_token="<pad>")
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=backend.get_vocab_size(), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=128, bos_token_id=bos_id, eos_token_id=backend.token_to_id("</s>"),
                         pad_token_id=backend.token_to_id("<pad>"), tie_word_embeddings=False)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():  # larger weights so argmax decoding is far from ties
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.5)
    model.generation_config = GenerationConfig(do_sample=True, top_k=5, repetition_penalty=1.3, temperature=0.7,
                                               bos_token_id=bos_id, eos_token_id=config.eos_token_id)
    model.save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    return folder


def build_gguf_model(path: Path, *, arch: str = "llama", seed: int = 0) -> Path:
    import gguf
    import numpy as np

    rng = np.random.default_rng(seed)
    backend = _train_bpe()
    data = json.loads(backend.to_str())
    vocab: dict[str, int] = data["model"]["vocab"]
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    merges = [m if isinstance(m, str) else " ".join(m) for m in data["model"]["merges"]]
    n_vocab, hidden, ff, heads, kv_heads, layers = len(tokens), 32, 64, 4, 2, 2
    head_dim = hidden // heads
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_name("memoview tiny test model")
    writer.add_context_length(128)
    writer.add_embedding_length(hidden)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(ff)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_dimension_count(head_dim)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType.CONTROL if t in SPECIALS else gguf.TokenType.NORMAL for t in tokens])
    writer.add_token_merges(merges)
    writer.add_bos_token_id(vocab["<s>"])
    writer.add_eos_token_id(vocab["</s>"])
    writer.add_pad_token_id(vocab["<pad>"])
    writer.add_add_bos_token(True)

    def t(*shape: int) -> Any:
        return (rng.standard_normal(shape) * 0.5).astype(np.float32)

    writer.add_tensor("token_embd.weight", t(n_vocab, hidden))
    for i in range(layers):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(hidden, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.attn_q.weight", t(heads * head_dim, hidden))
        writer.add_tensor(f"blk.{i}.attn_k.weight", t(kv_heads * head_dim, hidden))
        writer.add_tensor(f"blk.{i}.attn_v.weight", t(kv_heads * head_dim, hidden))
        writer.add_tensor(f"blk.{i}.attn_output.weight", t(hidden, heads * head_dim))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(hidden, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", t(ff, hidden))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", t(ff, hidden))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", t(hidden, ff))
    writer.add_tensor("output_norm.weight", np.ones(hidden, dtype=np.float32))
    # One quantized tensor, so the file exercises dequantization like a real one.
    out = t(n_vocab, hidden)
    q = gguf.quants.quantize(out, gguf.GGMLQuantizationType.Q8_0)
    writer.add_tensor("output.weight", q, raw_shape=q.shape, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
