"""How long opening a model will take, and on what basis: for a progress bar that does not lie.

A first open of a GGUF file with transformers dequantizes it into torch (one
library call that reports no progress), so the GUI can only show time against
an estimate. The estimate is seconds per MB of model files for the kind of
open (``gguf-llama``: llama.cpp maps the GGUF file as stored, no conversion;
``gguf-first``: dequantize and build the cache; ``gguf-cache``: load the
verified cache; ``hf``: load safetensors), taken from this machine's own
previous opens when there are any (median of the last five), else from
memoview's benchmarks (``bench/model_open.py``: 230 s first open vs 13.5 s
cached for the 253 MB demo model on a loaded 2-core machine;
``bench/engines.py``: 1.49 s for llama.cpp's first open of it). Each open the
GUI times is recorded, so the second estimate on a machine is its own.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass

from memoview.core.records import ModelInfo
from memoview.paths import user_cache_dir

TIMES_FILE = "open_times.json"
KEEP = 5
# seconds per MB from bench/model_open.py (README "Benchmarks"), used until this machine has its own
BENCH_SECONDS_PER_MB = {"gguf-first": 230.0 / 253.0, "gguf-cache": 13.5 / 253.0, "hf": 13.5 / 253.0,
                        "gguf-llama": 1.49 / 253.0}
BENCH_BASIS = "memoview's benchmark on a 2-core machine; later estimates use this computer's own times"


@dataclass(frozen=True)
class OpenEstimate:
    kind: str  # gguf-llama | gguf-first | gguf-cache | hf
    seconds: float
    basis: str  # said next to the number
    size_mb: float

    def describe(self) -> str:
        what = {"gguf-llama": "llama.cpp reads the GGUF file as stored (no conversion)",
                "gguf-first": "first open: dequantizing into a cache (later opens are faster)",
                "gguf-cache": "loading the verified cache", "hf": "loading the weights"}[self.kind]
        amount = format_duration(self.seconds)
        return f"{what}; {'' if self.seconds < 1 else 'about '}{amount} (estimate from {self.basis})"


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return "under 1 s"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest:02d} s" if rest else f"{minutes} min"


def open_kind(info: ModelInfo, engine: str | None = None) -> str:
    """The kind of open ``engine`` (default: the engine ``auto`` picks for this model) will do."""
    if info.format != "gguf":
        return "hf"
    from memoview.core.engines import canonical_name, default_engine
    from memoview.core.engines.base import ENGINE_AUTO

    name = canonical_name(engine or ENGINE_AUTO)
    if (default_engine(info.format) if name == ENGINE_AUTO else name) == "llama.cpp":
        return "gguf-llama"
    from memoview.core.models.load import gguf_cache_dir

    return "gguf-cache" if gguf_cache_dir(info.files[0].sha256).exists() else "gguf-first"


def _load() -> dict[str, list[float]]:
    try:
        data = json.loads((user_cache_dir() / TIMES_FILE).read_text(encoding="utf-8"))
        return {k: [float(x) for x in v] for k, v in data.items() if isinstance(v, list)}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def estimate_open(info: ModelInfo, engine: str | None = None) -> OpenEstimate:
    kind = open_kind(info, engine)
    size_mb = sum(f.size for f in info.files) / 1e6
    own = _load().get(kind, [])
    if own:
        rate = statistics.median(own)
        basis = f"this computer's last {len(own)} open{'s' if len(own) > 1 else ''}"
    else:
        rate, basis = BENCH_SECONDS_PER_MB[kind], BENCH_BASIS
    return OpenEstimate(kind, rate * size_mb, basis, size_mb)


def record_open(estimate: OpenEstimate, seconds: float) -> None:
    """Remember how long an open of this kind took here (per MB), for the next estimate."""
    if estimate.size_mb <= 0 or seconds <= 0:
        return
    data = _load()
    data[estimate.kind] = (data.get(estimate.kind, []) + [seconds / estimate.size_mb])[-KEEP:]
    try:
        (user_cache_dir() / TIMES_FILE).write_text(json.dumps(data), encoding="utf-8")
    except OSError:
        pass


__all__ = ["OpenEstimate", "estimate_open", "format_duration", "open_kind", "record_open"]
