"""Memory estimates per engine, device and dtype, and the refusal that names what would fit.

A 7B model needs about 28 GB in float32, 14 GB in bfloat16/float16, and
about 4–5 GB as a Q4_K_M GGUF under llama.cpp (memory-mapped, no
dequantization). The estimate is refused *before* any weight is loaded, with
both figures and the engine/dtype that would fit. On a CPU, bfloat16/float16
are refused as a recommendation only when they would not fit; they are
allowed but flagged as slow (stock torch's bf16 CPU kernels are several
times slower than float32).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from memoview.core import errors
from memoview.core.engines.base import MemoryEstimate
from memoview.core.records import ModelInfo

GIB = 1024 ** 3
BYTES_PER_PARAM = {"float32": 4, "bfloat16": 2, "float16": 2}
TRANSFORMERS_OVERHEAD = 512 * 1024 ** 2  # activations, tokenizer, Python
LLAMACPP_OVERHEAD = 256 * 1024 ** 2  # KV cache at memoview's context sizes, scratch buffers
CPU_HALF_PRECISION_NOTE = ("bfloat16/float16 on a CPU halve the memory, but on CPUs without bfloat16 matrix units "
                           "stock torch runs them several times slower than float32; float32 is the reference, "
                           "and llama.cpp suits a GGUF file")


def device_memory_bytes(device: str) -> tuple[int, str]:
    """Free memory on ``device`` (bytes) and what it is: GPU memory for cuda, system memory otherwise."""
    from memoview.core.models.inspect import available_memory_bytes

    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise errors.ModelError("No CUDA GPU is available to this torch build.",
                                    "Use --device cpu, or install a CUDA build of torch on a machine with a GPU.")
        if ":" in device:
            free, _total = torch.cuda.mem_get_info(int(device.split(":", 1)[1]))
            return int(free), f"free memory of {device}"
        free = sum(int(torch.cuda.mem_get_info(i)[0]) for i in range(torch.cuda.device_count()))
        return free, f"free memory of {torch.cuda.device_count()} GPU(s)"
    return available_memory_bytes(), "available system memory"


def estimate(info: ModelInfo, file_bytes: int, engine: str, device: str, dtype: str,
             available: Optional[int] = None, *, recommend: bool = True) -> MemoryEstimate:
    """What opening ``info`` with these settings needs (no weight is read)."""
    if available is None:
        available, where = device_memory_bytes(device)
    else:
        where = "given"
    params = int(info.parameter_count or 0)
    if engine == "llama.cpp":
        need = file_bytes + LLAMACPP_OVERHEAD
        basis = f"the GGUF file ({file_bytes / GIB:.2f} GiB, memory-mapped in its own quantization) plus KV cache"
    else:
        per = BYTES_PER_PARAM.get(dtype, 4)
        # A GGUF's file is mapped too while transformers dequantizes it.
        extra = file_bytes if info.format == "gguf" else 0
        need = params * per + extra + TRANSFORMERS_OVERHEAD
        basis = f"{params:,} parameters × {per} bytes in {dtype}, plus overhead"
    fits = need <= available
    rec = ""
    if not fits and recommend:
        rec = recommendation(info, file_bytes, engine, device, dtype, available)
    elif engine == "transformers" and device == "cpu" and dtype in ("bfloat16", "float16"):
        rec = CPU_HALF_PRECISION_NOTE
    return MemoryEstimate(engine=engine, device=device, dtype=dtype, needed_bytes=need, available_bytes=available,
                          fits=fits, basis=f"{basis}; {where}", recommendation=rec)


def recommendation(info: ModelInfo, file_bytes: int, engine: str, device: str, dtype: str, available: int) -> str:
    """The first choice that would fit, in the order a careful examiner would prefer."""
    options: list[tuple[str, str]] = []
    if engine != "transformers" or dtype != "float32":
        options.append(("transformers", "float32"))
    options += [("transformers", "bfloat16")]
    if info.format == "gguf":
        from memoview.core.engines import unavailable_reason

        if unavailable_reason("llama.cpp") is None:
            options.append(("llama.cpp", info.quantization or "its own quantization"))
    for eng, dt in options:
        if (eng, dt) == (engine, dtype):
            continue
        e = estimate(info, file_bytes, eng, device, dt if eng == "transformers" else "", available, recommend=False)
        if e.fits:
            extra = " (a GPU is where bfloat16 is fast)" if eng == "transformers" and dt != "float32" and device == "cpu" else ""
            what = f"{eng} in {dt}" if eng == "transformers" else f"{eng} (the file's own {dt})"
            flags = f"--engine {eng}" + (f" --dtype {dt}" if eng == "transformers" else "")
            return f"{what} would need about {e.needed_bytes / GIB:.2f} GiB and fits{extra} ({flags})"
    if info.format != "gguf":
        return "a quantized GGUF of the same model run with llama.cpp, or a machine with more memory"
    return ("llama.cpp on the GGUF file (install it: pip install 'memoview[llama]'), a machine with more memory, "
            "or a smaller quantization of the GGUF")


def check(info: ModelInfo, file_bytes: int, engine: str, device: str, dtype: str) -> MemoryEstimate:
    """Refuse (InsufficientMemoryError) with both figures and a recommendation when the model will not fit."""
    est = estimate(info, file_bytes, engine, device, dtype)
    if not est.fits:
        raise errors.InsufficientMemoryError(
            f"Not enough memory to open {Path(info.path).name} with {engine} on {device}"
            f"{' in ' + dtype if dtype else ''}: it needs about {est.needed_bytes / GIB:.2f} GiB "
            f"({est.basis}) and {est.available_bytes / GIB:.2f} GiB is available.",
            f"Try {est.recommendation}. (Tests can set MEMOVIEW_MEMORY_LIMIT_BYTES.)",
        )
    return est


def weight_file_bytes(info: ModelInfo) -> int:
    return sum(int(f.size) for f in info.files if f.role == "weights")


__all__ = ["BYTES_PER_PARAM", "CPU_HALF_PRECISION_NOTE", "check", "device_memory_bytes", "estimate",
           "recommendation", "weight_file_bytes"]
