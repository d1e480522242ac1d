"""The tiny memorizing fixture model every area's tests use.

A real transformers causal LM (Llama architecture, 2 layers, hidden 128)
with a byte-level BPE tokenizer trained here with the ``tokenizers`` library.
It is trained, deterministically, on the *memorized* texts of
``tests/data/fixture_corpus`` only, until greedy decoding reproduces them
verbatim from any window of context (BOS + a crop of the text, which is what
a sweep feeds it). The *control* texts are never shown to it, so they are
honest negative controls.

The model ships a deliberately unhelpful ``generation_config.json``
(sampling, repetition penalty) so that tests catch any code path that relies
on a model's shipped decoding defaults instead of passing them explicitly.

The build is cached under ``cache_root/<hash of this file + corpus>/`` and a
``COMPLETE`` marker is written last, so a killed build is redone; concurrent
builders each build in a private folder and atomically rename it into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

CORPUS_DIR = Path(__file__).resolve().parents[1] / "data" / "fixture_corpus"
MARKER = "COMPLETE"
SEED = 1234
# Positions with at least this many tokens of context (after BOS) must be
# predicted exactly by argmax for the build to count as memorized.
MIN_CONTEXT = 16
MAX_STEPS = 800
CROP = 100  # BOS + 100 tokens: a 50/50 sweep window


def corpus_manifest() -> dict[str, Any]:
    return json.loads((CORPUS_DIR / "corpus.json").read_text(encoding="utf-8"))


def corpus_texts(role: str | None = None) -> dict[str, str]:
    """``{file name: text}`` of the fixture corpus, optionally only one role (memorized/control)."""
    out: dict[str, str] = {}
    for entry in corpus_manifest()["documents"]:
        if role is None or entry["role"] == role:
            out[entry["file"]] = (CORPUS_DIR / entry["file"]).read_text(encoding="utf-8")
    return out


def _build_key() -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in sorted(CORPUS_DIR.iterdir()):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_fixture_model(cache_root: Path) -> Path:
    """Build (or reuse) the fixture model; return its Hugging Face folder."""
    cache_root = Path(cache_root)
    cache_root.mkdir(parents=True, exist_ok=True)
    final = cache_root / _build_key()
    if (final / MARKER).exists():
        return final
    work = Path(tempfile.mkdtemp(prefix="build-", dir=cache_root))
    try:
        _build_into(work)
        (work / MARKER).write_text(f"built {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
        if final.exists() and not (final / MARKER).exists():
            shutil.rmtree(final, ignore_errors=True)  # a killed earlier build
        try:
            os.rename(work, final)
        except OSError:
            if not (final / MARKER).exists():
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return final


def _train_tokenizer(texts: list[str]) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=2000,  # about one token per word on this small corpus
        min_frequency=1,
        special_tokens=["<pad>", "<s>", "</s>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    bos = tok.token_to_id("<s>")
    # Adds BOS with add_special_tokens=True (so the BOS policy is exercised);
    # trim_offsets=False keeps each token's offsets on exactly its characters.
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)]),
    ])
    return tok


def _build_into(out: Path) -> None:
    import torch
    from memoview.core.models.offline import enforce_offline

    enforce_offline()
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # on a loaded 2-core machine 1 thread is several times faster than 2
    try:
        texts = list(corpus_texts("memorized").values())
        raw_tok = _train_tokenizer(texts)
        tokenizer = PreTrainedTokenizerFast(
            tokenizer_object=raw_tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
        )
        tokenizer.model_max_length = 512
        bos_id = tokenizer.bos_token_id
        seqs = [tokenizer(t, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id] for t in texts]

        torch.manual_seed(SEED)
        config = LlamaConfig(
            vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=512,
            bos_token_id=bos_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
            tie_word_embeddings=True, rms_norm_eps=1e-5,
        )
        model = LlamaForCausalLM(config)
        _train(model, seqs, bos_id, tokenizer.pad_token_id)
        model.eval()
        model.generation_config = GenerationConfig(
            do_sample=True, temperature=0.7, top_k=5, repetition_penalty=1.5,
            bos_token_id=bos_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        )
        model.save_pretrained(out, safe_serialization=True)
        tokenizer.save_pretrained(out)
        (out / "fixture_corpus.json").write_text(json.dumps(corpus_manifest(), indent=2))
    finally:
        torch.set_num_threads(threads)


def _windows(seqs: list[list[int]], bos: int, length: int, stride: int) -> list[list[int]]:
    out = []
    for seq in seqs:
        for start in range(0, max(1, len(seq) - MIN_CONTEXT), stride):
            out.append([bos] + seq[start:start + length])
    return out


def _pad(batch: list[list[int]], pad: int) -> tuple[Any, Any, Any]:
    import torch

    width = max(len(s) for s in batch)
    ids = torch.full((len(batch), width), pad, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for i, s in enumerate(batch):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    labels = ids.masked_fill(mask == 0, -100)
    return ids, mask, labels


def _memorized(model: Any, seqs: list[list[int]], bos: int, pad: int) -> bool:
    """Argmax equals the next token at every position with enough context, for every crop."""
    import torch

    checks = _windows(seqs, bos, CROP, 7) + [[bos] + s for s in seqs]
    with torch.no_grad():
        for i in range(0, len(checks), 32):
            ids, mask, _ = _pad(checks[i:i + 32], pad)
            pred = model(input_ids=ids, attention_mask=mask).logits.argmax(-1)
            ok = (pred[:, :-1] == ids[:, 1:]) | (mask[:, 1:] == 0)
            if not bool(ok[:, MIN_CONTEXT:].all()):
                return False
    return True


def _train(model: Any, seqs: list[list[int]], bos: int, pad: int) -> None:
    import torch

    gen = torch.Generator().manual_seed(SEED)
    full = [[bos] + s for s in seqs]
    crops = _windows(seqs, bos, CROP, 1)
    base_lr = 1e-2
    opt = torch.optim.AdamW(model.parameters(), lr=base_lr, weight_decay=0.0)
    model.train()
    for step in range(1, MAX_STEPS + 1):
        # Every step sees the whole texts from BOS plus random crops (BOS + mid-text),
        # which is what a sweep window looks like.
        pick = torch.randint(len(crops), (9,), generator=gen).tolist()
        ids, mask, labels = _pad(full + [crops[j] for j in pick], pad)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        for group in opt.param_groups:
            group["lr"] = base_lr * max(0.1, 1 - step / 300)
        if step >= 100 and step % 25 == 0:
            model.eval()
            done = _memorized(model, seqs, bos, pad)
            model.train()
            if done:
                # A few more steps so the memorized continuations are near-certain (p_z near 1), not just argmax.
                for _ in range(60):
                    pick = torch.randint(len(crops), (9,), generator=gen).tolist()
                    ids, mask, labels = _pad(full + [crops[j] for j in pick], pad)
                    loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                model.eval()
                if not _memorized(model, seqs, bos, pad):  # pragma: no cover - determinism guard
                    raise RuntimeError("the fixture model lost its memorization while sharpening")
                return
    raise RuntimeError("the fixture model did not memorize its corpus within the step budget")


def load_fixture_model(path: Path) -> Any:
    """A ``LoadedModel`` for the fixture folder: through ``open_model`` when the models area provides it."""
    try:
        from memoview.core.models.load import open_model  # type: ignore[import-not-found]
    except ImportError:
        open_model = None
    if open_model is not None:
        from memoview.core.jobs import run_job

        return run_job(open_model(Path(path)))
    return _load_directly(Path(path))


def _load_directly(path: Path) -> Any:
    """Fallback until ``open_model`` exists: build the LoadedModel by hand (same neutralising rules)."""
    import torch
    from memoview.core.models.base import LoadedModel
    from memoview.core.models.offline import enforce_offline
    from memoview.core.records import ModelFile, ModelInfo

    enforce_offline()
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32)
    model.eval()
    shipped = model.generation_config.to_dict() if model.generation_config is not None else {}
    model.generation_config = GenerationConfig()
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    files = []
    for f in sorted(p for p in path.iterdir() if p.is_file() and p.name != MARKER):
        role = ("weights" if f.suffix == ".safetensors" else "generation_config" if f.name == "generation_config.json"
                else "config" if f.name == "config.json" else "tokenizer" if "token" in f.name else "other")
        files.append(ModelFile(f.name, f.stat().st_size, hashlib.sha256(f.read_bytes()).hexdigest(), role))
    fingerprint = hashlib.sha256("".join(f"{f.relpath}\0{f.sha256}\n" for f in files).encode()).hexdigest()
    import transformers

    info = ModelInfo(
        path=str(path), format="hf", architecture="LlamaForCausalLM",
        parameter_count=sum(p.numel() for p in model.parameters()), fingerprint=fingerprint, files=tuple(files),
        dtype="float32", device="cpu", context_length=512, bos_token="<s>", eos_token="</s>", adds_bos=True,
        has_chat_template=False, shipped_generation_config=shipped,
        library_versions={"torch": torch.__version__, "transformers": transformers.__version__},
        name="fixture-tiny-llama",
    )
    return LoadedModel(info=info, model=model, tokenizer=tokenizer)
