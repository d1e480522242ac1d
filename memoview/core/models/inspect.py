"""Facts about a model without loading its weights: format, architecture, size, tokenizer, fingerprint.

Everything that can make loading fail is checked here first, with an error
that names the file and the reason (missing config or tokenizer, truncated
safetensors or GGUF, pickle weights, an architecture transformers cannot
run without remote code, too little memory), because a failure deep inside
transformers after a minute of loading helps nobody.
"""

from __future__ import annotations

import json
import os
import platform
import struct
from collections import Counter
from dataclasses import dataclass, replace
from importlib import metadata as importlib_metadata
from math import prod
from pathlib import Path
from typing import Any, Optional

from memoview import __version__
from memoview.core import errors
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.core.models.fingerprint import fingerprint_files
from memoview.core.models.gguf_header import GGUFHeader, read_gguf_header
from memoview.core.records import ModelInfo

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
# Any one of these makes a tokenizer loadable (with tokenizer_config.json where needed).
TOKENIZER_MAIN = ("tokenizer.json", "tokenizer.model", "spiece.model", "sentencepiece.bpe.model", "vocab.txt",
                  "tokenizer.tiktoken")
TOKENIZER_AUX = ("tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.json",
                 "merges.txt")
CHAT_TEMPLATE_FILES = ("chat_template.jinja", "chat_template.json")
MEMORY_ENV = "MEMOVIEW_MEMORY_LIMIT_BYTES"
GIB = 1024 ** 3
# Runtime, tokenizer and activations on top of the weights (a rough but safe margin for small models).
LOAD_OVERHEAD_BYTES = 512 * 1024 ** 2
_ST_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
             "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "U32": 4, "U64": 8}


@dataclass(frozen=True)
class ModelLayout:
    """Which files of a model the loader reads, and how."""

    format: str  # hf | gguf
    root: Path  # folder the relpaths are relative to
    path: Path  # what the user gave, resolved (folder or .gguf file)
    files: tuple[tuple[str, str], ...]  # (relpath, role)
    uses_pickle: bool = False
    ignored: tuple[str, ...] = ()


def library_versions() -> dict[str, str]:
    """Versions of everything that shapes a model's numbers (read from package metadata, nothing imported)."""
    out = {"python": platform.python_version(), "memoview": __version__}
    for name in ("torch", "transformers", "tokenizers", "safetensors", "gguf", "accelerate", "numpy"):
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


# ---------------------------------------------------------------------------------------------- layout
def _role(name: str) -> str:
    if name == "config.json":
        return "config"
    if name == "generation_config.json":
        return "generation_config"
    if name in CHAT_TEMPLATE_FILES:
        return "chat_template"
    if name in TOKENIZER_MAIN or name in TOKENIZER_AUX:
        return "tokenizer"
    if name.endswith(".safetensors") or name.endswith(".safetensors.index.json") or name.endswith(".gguf"):
        return "weights"
    if name.endswith(PICKLE_SUFFIXES) or name.endswith(".bin.index.json"):
        return "weights"
    return "other"


def _pickle_refusal(names: list[str], where: Path) -> errors.PickleRefusedError:
    shown = ", ".join(sorted(names)[:4]) + (" …" if len(names) > 4 else "")
    return errors.PickleRefusedError(
        f"{where} holds its weights only as pickle files ({shown}). Loading a pickle can run arbitrary code "
        "on this computer, so memoview refuses it by default.",
        "Convert the weights to safetensors, or, if you trust the file's origin, pass --allow-pickle "
        "(the choice is recorded).",
    )


def model_layout(path: str | os.PathLike[str], *, allow_pickle: bool = False) -> ModelLayout:
    """Find the model's files; raise the specific error for a path that cannot be a model."""
    given = Path(path).expanduser()
    if not given.exists():
        raise errors.ModelNotFoundError(f"No model at {given}: the path does not exist.",
                                        "Give a Hugging Face model folder or a .gguf file.")
    target = given.resolve()
    if target.is_file():
        if target.suffix.lower() == ".gguf":
            return ModelLayout("gguf", target.parent, target, ((target.name, "weights"),))
        if target.name.endswith(PICKLE_SUFFIXES) and not allow_pickle:
            raise _pickle_refusal([target.name], target.parent)
        raise errors.ModelFormatError(
            f"{target.name} is a single file but not a .gguf model.",
            f"Give the folder that holds it with config.json and the tokenizer ({target.parent}).",
        )
    if not target.is_dir():
        raise errors.ModelFormatError(f"{target} is neither a folder nor a file.")
    try:
        names = sorted(p.name for p in target.iterdir() if p.is_file() and not p.name.startswith("."))
    except OSError as exc:
        raise errors.ModelError(f"Cannot read the folder {target}: {exc.strerror or exc}.",
                                "Check the folder's permissions.") from exc
    if "config.json" not in names:
        ggufs = [n for n in names if n.lower().endswith(".gguf")]
        if len(ggufs) == 1:
            gguf = target / ggufs[0]
            return ModelLayout("gguf", target, gguf, ((gguf.name, "weights"),))
        extra = f" It holds {len(ggufs)} .gguf files; give one of them." if ggufs else ""
        raise errors.MissingConfigError(
            f"{target} has no config.json, so it is not a Hugging Face model folder.{extra}",
            "Give the folder that holds config.json, the tokenizer files and the *.safetensors weights, "
            "or a .gguf file.",
        )
    if not any(n in names for n in TOKENIZER_MAIN) and not ("vocab.json" in names and "merges.txt" in names):
        raise errors.MissingTokenizerError(
            f"{target} has no tokenizer files (none of tokenizer.json, tokenizer.model, vocab.json + merges.txt, "
            "vocab.txt).",
            "Copy the tokenizer files that came with the model into the folder.",
        )
    safetensors = [n for n in names if n.endswith(".safetensors")]
    pickles = [n for n in names if n.endswith(PICKLE_SUFFIXES) and n not in ("training_args.bin",)]
    ignored: list[str] = []
    uses_pickle = False
    if safetensors:
        weights = safetensors + [n for n in names if n.endswith(".safetensors.index.json")]
        ignored = pickles
    elif pickles:
        if not allow_pickle:
            raise _pickle_refusal(pickles, target)
        weights = pickles + [n for n in names if n.endswith(".bin.index.json")]
        uses_pickle = True
    else:
        raise errors.NoWeightsError(
            f"{target} has config.json but no weights (no *.safetensors file).",
            "Copy the model's *.safetensors files into the folder.",
        )
    chosen = set(weights)
    for name in names:
        role = _role(name)
        if role in ("config", "generation_config", "chat_template", "tokenizer"):
            chosen.add(name)
    files = tuple((n, _role(n)) for n in sorted(chosen))
    return ModelLayout("hf", target, target, files, uses_pickle, tuple(ignored))


# ---------------------------------------------------------------------------------------------- safetensors
def read_safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header; TruncatedWeightsError if the file is shorter than the header says."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise errors.TruncatedWeightsError(f"{path.name} is only {size} bytes: it is cut short or empty.",
                                               "Copy or download the model again.")
        (length,) = struct.unpack("<Q", head)
        if length > 100 * 1024 ** 2:
            raise errors.ModelFormatError(f"{path.name} is not a safetensors file (header length {length:,}).")
        if 8 + length > size:
            raise errors.TruncatedWeightsError(
                f"{path.name} is truncated: it ends inside its header ({size:,} bytes, header needs {8 + length:,}).",
                "Copy or download the model again and compare the SHA-256 with the publisher's.",
            )
        try:
            header = json.loads(handle.read(length))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise errors.ModelFormatError(f"{path.name} has an unreadable safetensors header ({exc}).",
                                          "Copy or download the model again.") from exc
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    declared = max((int(v["data_offsets"][1]) for v in tensors.values()), default=0)
    if 8 + length + declared > size:
        raise errors.TruncatedWeightsError(
            f"{path.name} is truncated: its header declares {declared:,} bytes of tensor data but the file holds "
            f"{size - 8 - length:,} ({8 + length + declared - size:,} bytes missing).",
            "Copy or download the model again and compare the SHA-256 with the publisher's.",
        )
    return tensors


# ---------------------------------------------------------------------------------------------- memory
def available_memory_bytes() -> int:
    override = os.environ.get(MEMORY_ENV)
    if override:
        try:
            return int(override)
        except ValueError:
            raise errors.ValidationError(f"{MEMORY_ENV}={override!r} is not a whole number of bytes.") from None
    import psutil

    return int(psutil.virtual_memory().available)


def estimate_load_bytes(parameter_count: int, file_bytes: int, fmt: str) -> int:
    """float32 weights (4 bytes a parameter) + overhead; a GGUF's file is mapped too while it is dequantized."""
    extra = file_bytes if fmt == "gguf" else 0
    return parameter_count * 4 + extra + LOAD_OVERHEAD_BYTES


def check_memory(info: ModelInfo, file_bytes: int) -> int:
    need = estimate_load_bytes(info.parameter_count, file_bytes, info.format)
    have = available_memory_bytes()
    if need > have:
        raise errors.InsufficientMemoryError(
            f"Not enough memory to open {Path(info.path).name}: it needs about {need / GIB:.2f} GiB "
            f"({info.parameter_count:,} parameters × 4 bytes in float32, plus overhead) and "
            f"{have / GIB:.2f} GiB is available.",
            "Close other programs, or use a smaller model. (Tests can set "
            f"{MEMORY_ENV}.)",
        )
    return need


# ---------------------------------------------------------------------------------------------- tokenizer facts
def tokenizer_facts(tokenizer: Any) -> dict[str, Any]:
    """BOS/EOS strings, whether encoding adds BOS, chat template presence, from a loaded tokenizer."""
    bos_id = getattr(tokenizer, "bos_token_id", None)
    with_special = list(tokenizer("a", add_special_tokens=True)["input_ids"])
    without = list(tokenizer("a", add_special_tokens=False)["input_ids"])
    adds_bos = bool(bos_id is not None and with_special and with_special[0] == bos_id
                    and (not without or without[0] != bos_id))
    return {
        "bos_token": getattr(tokenizer, "bos_token", None),
        "eos_token": getattr(tokenizer, "eos_token", None),
        "adds_bos": adds_bos,
        "has_chat_template": bool(getattr(tokenizer, "chat_template", None)),
    }


def load_hf_tokenizer(root: Path) -> Any:
    from memoview.core.models.offline import enforce_offline

    enforce_offline()
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(root), local_files_only=True, trust_remote_code=False)
    except Exception as exc:  # transformers raises many types here; the message is what matters
        raise errors.MissingTokenizerError(
            f"The tokenizer in {root} cannot be loaded: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}.",
            "Check that the tokenizer files belong to this model and are complete; memoview never runs "
            "tokenizer code shipped with a model.",
        ) from exc


# ---------------------------------------------------------------------------------------------- architecture
def _check_hf_architecture(config: dict[str, Any], root: Path) -> tuple[str, str]:
    if config.get("auto_map"):
        raise errors.UnsupportedArchitectureError(
            f"{root.name} needs its own Python code (config.json has 'auto_map'); memoview never runs code "
            "shipped with a model (no trust_remote_code).",
            "Use a model whose architecture is built into transformers.",
        )
    model_type = str(config.get("model_type", ""))
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    if not model_type or model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        archs = ", ".join(config.get("architectures") or []) or "none given"
        raise errors.UnsupportedArchitectureError(
            f"{root.name}: model type '{model_type or '(missing)'}' (architectures: {archs}) is not a causal "
            "language model that transformers can run.",
            "memoview opens text-generation (causal LM) models supported by the installed transformers "
            f"{library_versions()['transformers']}.",
        )
    declared = config.get("architectures") or [str(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES[model_type])]
    return model_type, str(declared[0])


def gguf_supported_architectures() -> list[str]:
    """GGUF architectures transformers can load: the keys of its GGUF config mapping.

    ``transformers.modeling_gguf_pytorch_utils.GGUF_SUPPORTED_ARCHITECTURES`` is
    built from the same mapping but imports torch (seconds); this does not.
    """
    try:
        from transformers.integrations.ggml import GGUF_CONFIG_MAPPING
    except ImportError:  # pragma: no cover - other transformers layouts
        from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

        return [a for a in GGUF_SUPPORTED_ARCHITECTURES if a not in ("general", "tokenizer")]
    return [k for k in GGUF_CONFIG_MAPPING if k not in ("general", "tokenizer")]


def _context_length(config: dict[str, Any]) -> int:
    for source in (config, config.get("text_config") or {}):
        for key in ("max_position_embeddings", "n_positions", "n_ctx", "max_sequence_length", "seq_length"):
            if isinstance(source.get(key), int):
                return int(source[key])
    return 0


# ---------------------------------------------------------------------------------------------- inspect
def _hf_info(layout: ModelLayout, load_tokenizer: bool) -> ModelInfo:
    root = layout.root
    try:
        config = json.loads((root / "config.json").read_text(encoding="utf-8"))
    except OSError as exc:
        raise errors.ModelError(f"Cannot read {root / 'config.json'}: {exc.strerror or exc}.",
                                "Check the file's permissions.") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise errors.ModelFormatError(f"{root / 'config.json'} is not valid JSON ({exc}).",
                                      "Copy the model's config.json again.") from exc
    if not isinstance(config, dict):
        raise errors.ModelFormatError(f"{root / 'config.json'} does not hold a JSON object.")
    model_type, arch_class = _check_hf_architecture(config, root)
    notes: list[str] = [f"transformers class {arch_class}"]
    params = 0
    dtypes: Counter[str] = Counter()
    index_files = [r for r, _ in layout.files if r.endswith(".safetensors.index.json")]
    for index_name in index_files:
        try:
            index = json.loads((root / index_name).read_text(encoding="utf-8"))
            shards = sorted(set(index.get("weight_map", {}).values()))
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
            raise errors.ModelFormatError(f"{index_name} is not a valid shard index ({exc}).") from exc
        missing = [s for s in shards if not (root / s).is_file()]
        if missing:
            raise errors.NoWeightsError(f"{root.name}: {index_name} lists {len(missing)} shard(s) that are missing: "
                                        f"{', '.join(missing[:3])}.", "Copy every *.safetensors shard of the model.")
    if not layout.uses_pickle:
        for rel, _ in layout.files:
            if rel.endswith(".safetensors"):
                for tensor in read_safetensors_header(root / rel).values():
                    count = int(prod(tensor.get("shape") or [1]))
                    params += count
                    dtypes[str(tensor.get("dtype"))] += count
    else:
        notes.append("weights are pickle files, loaded because --allow-pickle was given")
    if layout.ignored:
        notes.append(f"ignored pickle files (safetensors used instead): {', '.join(layout.ignored)}")
    shipped: dict[str, Any] = {}
    if (root / "generation_config.json").is_file():
        try:
            shipped = json.loads((root / "generation_config.json").read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            notes.append(f"generation_config.json is unreadable ({exc}); it is never applied anyway")
    facts: dict[str, Any] = {"bos_token": None, "eos_token": None, "adds_bos": False,
                             "has_chat_template": any((root / n).is_file() for n in CHAT_TEMPLATE_FILES)}
    if load_tokenizer:
        facts = tokenizer_facts(load_hf_tokenizer(root))
    stored = "/".join(k for k, _ in dtypes.most_common()) if dtypes else str(config.get("dtype")
                                                                             or config.get("torch_dtype") or "")
    quant = config.get("quantization_config") or {}
    return ModelInfo(
        path=str(layout.path), format="hf", architecture=model_type, parameter_count=params, fingerprint="",
        files=(), dtype="float32", device="cpu", quantization=str(quant.get("quant_method", "")) if quant else "",
        context_length=_context_length(config), shipped_generation_config=shipped,
        library_versions=library_versions(), name=layout.path.name, stored_dtype=stored, notes=tuple(notes),
        **facts,
    )


def _gguf_info(layout: ModelLayout, engine: str = "auto") -> ModelInfo:
    from memoview.core.models.gguf_support import check_gguf_support

    header: GGUFHeader = read_gguf_header(layout.path)
    arch = header.architecture
    # Decided from the file's own header: llama.cpp reads far more GGUF architectures than transformers.
    support = check_gguf_support(arch, engine, layout.path.name)
    md = header.metadata
    tok = header.token_strings

    def token(key: str) -> Optional[str]:
        value = md.get(key)
        return tok.get(int(value)) if value is not None else None

    shipped = {k.removeprefix("general.sampling."): v for k, v in md.items() if k.startswith("general.sampling.")}
    counts = header.type_counts()
    return ModelInfo(
        path=str(layout.path), format="gguf", architecture=arch, parameter_count=header.parameter_count,
        fingerprint="", files=(), dtype="float32", device="cpu", quantization=header.file_type_name(),
        context_length=int(md.get(f"{arch}.context_length", 0) or 0),
        bos_token=token("tokenizer.ggml.bos_token_id"), eos_token=token("tokenizer.ggml.eos_token_id"),
        adds_bos=bool(md.get("tokenizer.ggml.add_bos_token", False)),
        has_chat_template="tokenizer.chat_template" in md, shipped_generation_config=shipped,
        library_versions=library_versions(), name=layout.path.name,
        stored_dtype=", ".join(f"{k}×{v}" for k, v in counts.items()),
        notes=(f"GGUF v{header.version}, {len(header.tensors)} tensors"
               + ("; dequantized to float32 when opened with transformers" if support.transformers is None else ""),
               f"model name in file: {md.get('general.name', '?')}") + support.notes(),
    )


def inspect_model(path: str | os.PathLike[str], *, allow_pickle: bool = False, check_memory_fit: bool = False,
                  load_tokenizer: bool = True, cancel: Optional[CancelToken] = None,
                  engine: str = "auto") -> Job[Optional[ModelInfo]]:
    """Describe and fingerprint a model without loading its weights; None if cancelled.

    ``check_memory_fit`` refuses (InsufficientMemoryError) a model that would
    not fit in the available memory; ``open_model`` sets it. ``load_tokenizer``
    loads an HF folder's tokenizer (not its weights) to learn how it treats
    BOS; a GGUF's tokenizer facts come from its metadata. ``engine``: the engine
    that will open it (``transformers``, ``llama.cpp``), or ``auto`` (registering
    a model): a GGUF file is refused only when that engine (for ``auto``: every
    engine) cannot open its architecture (see :mod:`memoview.core.models.gguf_support`).
    """
    yield Progress(0, None, f"Inspecting {Path(path).name}")
    layout = model_layout(path, allow_pickle=allow_pickle)
    info = _hf_info(layout, load_tokenizer) if layout.format == "hf" else _gguf_info(layout, engine)
    weight_bytes = sum((layout.root / rel).stat().st_size for rel, role in layout.files if role == "weights")
    if info.parameter_count == 0 and layout.uses_pickle:
        # Unknown until loaded; assume 2 bytes a parameter so the memory check errs on the safe side.
        info = replace(info, parameter_count=weight_bytes // 2,
                       notes=info.notes + ("parameter count estimated from file size until the model is opened",))
    if check_memory_fit:
        check_memory(info, weight_bytes)
    fp = yield from fingerprint_files(layout.root, layout.files, cancel=cancel)
    if fp is None:
        return None
    return replace(info, fingerprint=fp.combined, files=fp.files)


__all__ = [
    "ModelLayout",
    "available_memory_bytes",
    "check_memory",
    "estimate_load_bytes",
    "inspect_model",
    "library_versions",
    "model_layout",
    "read_safetensors_header",
    "tokenizer_facts",
]
