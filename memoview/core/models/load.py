"""Opening a model for forward passes: transformers, float32 on CPU, offline, no remote code.

Two rules matter for evidence:

* The shipped ``generation_config`` is recorded (``ModelInfo.shipped_generation_config``)
  and then replaced by a plain ``GenerationConfig`` carrying only the BOS/EOS/PAD
  ids, so no hidden top-k, top-p, temperature or repetition penalty can shape an
  output; every attempt passes its decoding settings explicitly.
* A GGUF file is dequantized by transformers the first time (slow: minutes for a
  small model on a small machine) and the dense result is saved with
  ``save_pretrained`` (safetensors) under ``user_cache_dir()/gguf/<gguf sha256>/``.
  Later opens use that cache only after :func:`verify_gguf_cache` passes.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

from memoview.core import errors
from memoview.core.jobs import CancelToken, Job, Progress, run_job
from memoview.core.models.base import LoadedModel, LoadReport
from memoview.core.models.fingerprint import fingerprint_files
from memoview.core.models.inspect import inspect_model, library_versions, model_layout, tokenizer_facts
from memoview.core.records import ModelInfo
from memoview.core.timeutil import utc_now
from memoview.paths import user_cache_dir

MANIFEST = "memoview-cache.json"
CACHE_FORMAT = 1
PROBE_TEXT = "We the People of the United States, in Order to form a more perfect Union, 1787 — ünïcödé."


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def neutral_generation_config(model: Any, tokenizer: Any) -> Any:
    """A GenerationConfig with only the special-token ids: greedy unless a caller says otherwise."""
    from transformers import GenerationConfig as _GenerationConfig

    GenerationConfig: Any = _GenerationConfig  # transformers' constructor is untyped
    shipped = getattr(model, "generation_config", None)

    def pick(name: str) -> Any:
        value = getattr(tokenizer, name, None)
        if value is None and shipped is not None:
            value = getattr(shipped, name, None)
        return value

    return GenerationConfig(bos_token_id=pick("bos_token_id"), eos_token_id=pick("eos_token_id"),
                            pad_token_id=pick("pad_token_id"))


def _prepare(model: Any, tokenizer: Any) -> Any:
    model.eval()
    model.generation_config = neutral_generation_config(model, tokenizer)
    return model


def _imports() -> tuple[Any, Any, Any]:
    from memoview.core.models.offline import enforce_offline

    enforce_offline()
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    hf_logging: Any = transformers.utils.logging  # untyped functions
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    return torch, AutoModelForCausalLM, AutoTokenizer


def _load_hf_folder(root: Path, *, use_safetensors: bool = True, dtype: str = "float32",
                    device_map: Optional[str] = None) -> tuple[Any, Any]:
    torch, auto_model, auto_tokenizer = _imports()
    extra: dict[str, Any] = {"device_map": device_map} if device_map else {}
    try:
        model = auto_model.from_pretrained(str(root), local_files_only=True, trust_remote_code=False,
                                           dtype=getattr(torch, dtype), use_safetensors=use_safetensors, **extra)
    except errors.MemoviewError:
        raise
    except Exception as exc:
        raise errors.ModelError(f"transformers could not load the weights in {root}: {_first_line(exc)}.",
                                "Check that the folder holds one complete model.") from exc
    try:
        tokenizer = auto_tokenizer.from_pretrained(str(root), local_files_only=True, trust_remote_code=False)
    except Exception as exc:
        raise errors.MissingTokenizerError(f"The tokenizer in {root} cannot be loaded: {_first_line(exc)}.") from exc
    return model, tokenizer


def _load_gguf_file(path: Path) -> tuple[Any, Any]:
    torch, auto_model, auto_tokenizer = _imports()
    kwargs: dict[str, Any] = {}
    try:
        from transformers import GgufConfig

        # Dense float32 weights always: no packed kernels whose numbers could differ between machines.
        kwargs["quantization_config"] = GgufConfig(dequantize=True)
    except ImportError:  # pragma: no cover - older transformers dequantize anyway
        pass
    # transformers' GGUF converter draws its own tqdm bar on stderr; memoview reports progress itself.
    # (tqdm reads TQDM_DISABLE only when it is imported, so the module's name is swapped for the call.)
    gguf_utils: Any = None
    try:
        import transformers.modeling_gguf_pytorch_utils as gguf_module

        gguf_utils = gguf_module
    except ImportError:  # pragma: no cover
        pass
    saved = getattr(gguf_utils, "tqdm", None)
    if saved is not None:
        gguf_utils.tqdm = lambda iterable=None, *args, **kwargs: iterable
    try:
        model = auto_model.from_pretrained(str(path.parent), gguf_file=path.name, local_files_only=True,
                                           trust_remote_code=False, dtype=torch.float32, **kwargs)
        tokenizer = auto_tokenizer.from_pretrained(str(path.parent), gguf_file=path.name, local_files_only=True,
                                                   trust_remote_code=False)
    except Exception as exc:
        raise errors.InvalidGGUFError(f"transformers could not load {path.name}: {_first_line(exc)}.",
                                      "Check the file's SHA-256 against the publisher's.") from exc
    finally:
        if saved is not None:
            gguf_utils.tqdm = saved
    return model, tokenizer


# ---------------------------------------------------------------------------------------------- GGUF cache
def gguf_cache_root() -> Path:
    return user_cache_dir() / "gguf"


def gguf_cache_dir(gguf_sha256: str) -> Path:
    return gguf_cache_root() / gguf_sha256


def verify_gguf_cache(cache: Path, gguf_sha256: str) -> Optional[str]:
    """Return None if the cache may be used, else the reason it may not. Runs before any cached byte is loaded.

    Checked: the manifest is readable and names this GGUF's SHA-256 and the
    running transformers version (a different version may dequantize or
    convert the tokenizer differently); the folder holds exactly the files the
    manifest lists, each with its recorded size and SHA-256. The SHA-256s come
    through the per-user hash cache, keyed by (path, size, mtime, ctime,
    inode): a cached file that was rewritten, truncated or replaced is re-read
    in full, while an untouched one costs a stat, which is what keeps the second
    open fast. After loading, the tokenizer must reproduce the probe token ids
    recorded at build time (checked by the caller).
    """
    manifest_path = cache / MANIFEST
    if not manifest_path.is_file():
        return "no manifest (an interrupted build?)"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = {f["relpath"]: f for f in manifest["files"]}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        return f"unreadable manifest ({exc})"
    if manifest.get("format") != CACHE_FORMAT or manifest.get("gguf_sha256") != gguf_sha256:
        return "the manifest belongs to another file or cache format"
    if manifest.get("transformers") != library_versions()["transformers"]:
        return f"built with transformers {manifest.get('transformers')}, running {library_versions()['transformers']}"
    present = sorted(p.name for p in cache.iterdir() if p.is_file() and p.name != MANIFEST)
    if present != sorted(files):
        return f"files differ from the manifest (present: {', '.join(present)})"
    for rel, entry in files.items():
        size = (cache / rel).stat().st_size
        if size != entry["size"]:
            return f"{rel} is {size:,} bytes, the manifest says {entry['size']:,}"
    try:
        fp = run_job(fingerprint_files(cache, [(rel, "cache") for rel in sorted(files)]))
    except OSError as exc:
        return f"a cached file cannot be read ({exc})"
    if fp is None:  # only a cancelled hash gives None, and no cancel token is passed here
        return "the cached files could not be hashed"
    for f in fp.files:
        if f.sha256 != files[f.relpath]["sha256"]:
            return f"{f.relpath} has SHA-256 {f.sha256[:16]}…, the manifest says {files[f.relpath]['sha256'][:16]}…"
    return None


def _probe_ids(tokenizer: Any) -> list[int]:
    return [int(i) for i in tokenizer(PROBE_TEXT, add_special_tokens=True)["input_ids"]]


def _build_gguf_cache(model: Any, tokenizer: Any, gguf: Path, gguf_sha256: str) -> Job[Path]:
    """Save the dequantized model into a private folder, hash it, write the manifest last, rename into place."""
    root = gguf_cache_root()
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".build-{gguf_sha256[:16]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        yield Progress(0, None, "Saving the dequantized model to the cache")
        # A dequantized GGUF model can still carry its quantizer, which refuses to save; it holds dense weights.
        if getattr(model, "hf_quantizer", None) is not None:
            model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))
        names = sorted(p.name for p in tmp.iterdir() if p.is_file())
        fp = yield from fingerprint_files(tmp, [(n, "cache") for n in names])
        manifest = {
            "format": CACHE_FORMAT,
            "gguf_sha256": gguf_sha256,
            "gguf_file": str(gguf),
            "created_at": utc_now(),
            "transformers": library_versions()["transformers"],
            "torch": library_versions()["torch"],
            "files": [{"relpath": f.relpath, "size": f.size, "sha256": f.sha256} for f in fp.files],  # type: ignore[union-attr]
            "probe": {"text": PROBE_TEXT, "ids": _probe_ids(tokenizer)},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        final = gguf_cache_dir(gguf_sha256)
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        try:
            os.rename(tmp, final)
        except OSError:
            # Another process finished the same build first; its cache is as good as ours.
            shutil.rmtree(tmp, ignore_errors=True)
        # Hashes were cached under the build path; re-key them under the final path (cheap: files are hot).
        if final.exists():
            yield from fingerprint_files(final, [(n, "cache") for n in names])
        return final
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _open_gguf(info: ModelInfo, cancel: Optional[CancelToken], dtype: str = "float32",
               device_map: Optional[str] = None) -> Job[Optional[tuple[Any, Any, LoadReport]]]:
    start = time.perf_counter()
    gguf = Path(info.path)
    sha = info.files[0].sha256
    cache = gguf_cache_dir(sha)
    problem = ""
    if cache.exists():
        yield Progress(0, None, "Verifying the GGUF cache")
        problem = verify_gguf_cache(cache, sha) or ""
        if not problem:
            try:
                model, tokenizer = _load_hf_folder(cache, dtype=dtype, device_map=device_map)
                manifest = json.loads((cache / MANIFEST).read_text(encoding="utf-8"))
                if _probe_ids(tokenizer) != manifest["probe"]["ids"]:
                    problem = "the cached tokenizer no longer reproduces the recorded probe tokens"
                else:
                    return model, tokenizer, LoadReport("gguf-cache", time.perf_counter() - start, str(cache))
            except (errors.MemoviewError, OSError, KeyError, ValueError, RuntimeError) as exc:
                problem = f"loading it failed ({_first_line(exc)})"
        shutil.rmtree(cache, ignore_errors=True)
    if cancel is not None and cancel.cancelled:
        return None
    yield Progress(0, None, f"Dequantizing {gguf.name} (first open; later opens use a cache)")
    model, tokenizer = _load_gguf_file(gguf)
    if cancel is not None and cancel.cancelled:
        return None
    try:
        built = yield from _build_gguf_cache(model, tokenizer, gguf, sha)
        cache_dir = str(built)
    except (OSError, ValueError, RuntimeError) as exc:  # a full disk must not stop the open itself
        cache_dir = ""
        problem = (problem + "; " if problem else "") + f"the cache could not be written ({_first_line(exc)})"
    return model, tokenizer, LoadReport("gguf", time.perf_counter() - start, cache_dir, problem)


def open_model(path: str | os.PathLike[str], *, allow_pickle: bool = False,
               cancel: Optional[CancelToken] = None, dtype: str = "float32",
               device: str = "cpu") -> Job[Optional[LoadedModel]]:
    """Inspect (with the memory check for this dtype and device), then load; None if cancelled.

    ``dtype``: float32 (the reference), bfloat16 or float16. ``device``: cpu,
    mps, cuda:N, or cuda (every visible GPU, through ``device_map="auto"``).
    ``LoadedModel.info`` is the inspected record with what loading settled:
    dtype, device, library versions, and the tokenizer's actual BOS behaviour.
    """
    from memoview.core.engines import memory

    if dtype not in memory.BYTES_PER_PARAM:
        raise errors.ValidationError(f"Unknown dtype '{dtype}'.", "Use float32, bfloat16 or float16.")
    info = yield from inspect_model(path, allow_pickle=allow_pickle, check_memory_fit=False, cancel=cancel,
                                    engine="transformers")
    if info is None or (cancel is not None and cancel.cancelled):
        return None
    memory.check(info, memory.weight_file_bytes(info), "transformers", device, dtype)
    device_map = "auto" if device == "cuda" else None
    start = time.perf_counter()
    if info.format == "gguf":
        loaded = yield from _open_gguf(info, cancel, dtype, device_map)
        if loaded is None:
            return None
        model, tokenizer, report = loaded
    else:
        yield Progress(0, None, f"Loading {Path(info.path).name}")
        layout = model_layout(path, allow_pickle=allow_pickle)
        model, tokenizer = _load_hf_folder(layout.root, use_safetensors=not layout.uses_pickle, dtype=dtype,
                                           device_map=device_map)
        report = LoadReport("hf", time.perf_counter() - start)
    import torch

    if next(model.parameters()).dtype != getattr(torch, dtype):  # a first GGUF open dequantizes to float32
        model = model.to(getattr(torch, dtype))
    if device != "cpu" and next(model.parameters()).device.type == "cpu":  # no device_map, or a first GGUF open
        model = model.to(device)
    _prepare(model, tokenizer)
    param = next(model.parameters())
    facts = tokenizer_facts(tokenizer)
    notes = info.notes + ("shipped generation config recorded, not applied",)
    if report.source == "gguf-cache":
        notes += (f"weights from the verified dequantization cache {report.cache_dir}",)
    updates: dict[str, Any] = {
        "dtype": str(param.dtype).removeprefix("torch."),
        "device": str(param.device),
        "library_versions": library_versions(),
        "notes": notes,
        **facts,
    }
    if info.parameter_count == 0 or any("estimated from file size" in n for n in info.notes):
        updates["parameter_count"] = int(sum(p.numel() for p in model.parameters()))
    yield Progress(1, 1, f"Opened {Path(info.path).name}")
    return LoadedModel(replace(info, **updates), model, tokenizer, report)


__all__ = ["PROBE_TEXT", "gguf_cache_dir", "gguf_cache_root", "neutral_generation_config", "open_model",
           "verify_gguf_cache"]
