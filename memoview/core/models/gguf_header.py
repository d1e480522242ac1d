"""Reading a GGUF file's metadata and tensor table without torch and without tensor data.

``gguf.GGUFReader`` builds a numpy object for every vocabulary string (262,144
of them for Gemma 3), which takes ~20 s on a small machine; ``model info``
must answer in a second. This reader walks the header with ``struct`` over a
memory map, skips large string arrays (remembering where the vocabulary
starts, so the BOS/EOS strings can be looked up), and takes the block sizes
of the quantization types from the ``gguf`` package, so it stays in step
with the format.
"""

from __future__ import annotations

import mmap
import struct
from collections import Counter
from dataclasses import dataclass, field
from math import prod
from pathlib import Path
from typing import Any, Optional

from memoview.core import errors

_FIXED = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
_KEEP_STRING_ARRAYS_UNDER = 64  # small string arrays (tags) are kept; vocabularies are skipped


@dataclass(frozen=True)
class GGUFTensor:
    name: str
    shape: tuple[int, ...]
    type_name: str
    offset: int
    nbytes: int

    @property
    def n_elements(self) -> int:
        return int(prod(self.shape)) if self.shape else 1


@dataclass
class GGUFHeader:
    path: Path
    version: int
    metadata: dict[str, Any]
    tensors: list[GGUFTensor]
    data_start: int
    file_size: int
    token_strings: dict[int, str] = field(default_factory=dict)

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", ""))

    @property
    def parameter_count(self) -> int:
        return sum(t.n_elements for t in self.tensors)

    @property
    def data_end(self) -> int:
        return self.data_start + max((t.offset + t.nbytes for t in self.tensors), default=0)

    def type_counts(self) -> dict[str, int]:
        return dict(Counter(t.type_name for t in self.tensors).most_common())

    def file_type_name(self) -> str:
        """llama.cpp's overall quantization label (general.file_type), e.g. Q4_K_M."""
        value = self.metadata.get("general.file_type")
        if value is None:
            return ""
        try:
            import gguf

            name = gguf.LlamaFileType(int(value)).name
            return name.removeprefix("MOSTLY_").removeprefix("ALL_")
        except (ImportError, ValueError):
            return f"file_type {value}"


def _quant_sizes() -> dict[int, tuple[str, int, int]]:
    import gguf

    return {int(t): (t.name, *gguf.GGML_QUANT_SIZES[t]) for t in gguf.GGMLQuantizationType
            if t in gguf.GGML_QUANT_SIZES}


class _Cursor:
    def __init__(self, buf: mmap.mmap, path: Path) -> None:
        self.buf = buf
        self.pos = 0
        self.path = path

    def need(self, n: int) -> None:
        if self.pos + n > len(self.buf):
            raise errors.TruncatedGGUFError(
                f"{self.path.name} ends inside its GGUF header (at byte {len(self.buf):,}); the file is cut short.",
                "Copy or download the file again and compare its SHA-256 with the publisher's.",
            )

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        self.need(size)
        value = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return value[0] if len(value) == 1 else value

    def string(self) -> str:
        length = self.unpack("<Q")
        self.need(length)
        raw = self.buf[self.pos:self.pos + length]
        self.pos += length
        return raw.decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        length = self.unpack("<Q")
        self.need(length)
        self.pos += length


def read_gguf_header(path: Path) -> GGUFHeader:
    """Parse the header; raise InvalidGGUFError / TruncatedGGUFError with the reason."""
    size = path.stat().st_size
    if size < 24:
        raise errors.TruncatedGGUFError(
            f"{path.name} is only {size} bytes; a GGUF file starts with a 24-byte header.",
            "Copy or download the file again.",
        )
    with path.open("rb") as handle:
        buf = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        if buf[:4] != b"GGUF":
            raise errors.InvalidGGUFError(
                f"{path.name} is not a GGUF file (it does not start with the bytes 'GGUF').",
                "Give a .gguf model file or a Hugging Face model folder.",
            )
        cur = _Cursor(buf, path)
        cur.pos = 4
        version, tensor_count, kv_count = cur.unpack("<IQQ")
        if version not in (2, 3):
            raise errors.InvalidGGUFError(f"{path.name} is GGUF version {version}; memoview reads versions 2 and 3.",
                                          "Convert the model with a current llama.cpp.")
        if tensor_count > 1_000_000 or kv_count > 1_000_000:
            raise errors.InvalidGGUFError(f"{path.name} has an implausible GGUF header "
                                          f"({tensor_count} tensors, {kv_count} metadata keys).")
        metadata: dict[str, Any] = {}
        tokens_at: Optional[tuple[int, int]] = None
        for _ in range(kv_count):
            key = cur.string()
            vtype = cur.unpack("<I")
            if vtype in _FIXED:
                metadata[key] = cur.unpack(_FIXED[vtype])
            elif vtype == _STRING:
                metadata[key] = cur.string()
            elif vtype == _ARRAY:
                etype, count = cur.unpack("<IQ")
                if etype in _FIXED:
                    width = struct.calcsize(_FIXED[etype])
                    cur.need(width * count)
                    if count <= _KEEP_STRING_ARRAYS_UNDER:
                        metadata[key] = list(struct.unpack_from(f"<{count}{_FIXED[etype][1]}", buf, cur.pos))
                    else:
                        metadata[key] = f"<array of {count}>"
                    cur.pos += width * count
                elif etype == _STRING:
                    if key == "tokenizer.ggml.tokens":
                        tokens_at = (cur.pos, count)
                    if count <= _KEEP_STRING_ARRAYS_UNDER:
                        metadata[key] = [cur.string() for _ in range(count)]
                    else:
                        for _ in range(count):
                            cur.skip_string()
                        metadata[key] = f"<array of {count}>"
                else:
                    raise errors.InvalidGGUFError(f"{path.name}: metadata key {key} holds an array of type {etype}, "
                                                  "which is not part of the GGUF format.")
            else:
                raise errors.InvalidGGUFError(f"{path.name}: metadata key {key} has value type {vtype}, "
                                              "which is not part of the GGUF format.")
        sizes = _quant_sizes()
        raw_tensors = []
        for _ in range(tensor_count):
            name = cur.string()
            ndim = cur.unpack("<I")
            if ndim > 8:
                raise errors.InvalidGGUFError(f"{path.name}: tensor {name} claims {ndim} dimensions.")
            dims = cur.unpack(f"<{ndim}Q") if ndim else ()
            dims = (dims,) if isinstance(dims, int) else tuple(dims)
            ttype, offset = cur.unpack("<IQ")
            raw_tensors.append((name, tuple(reversed(dims)), ttype, offset))
        alignment = int(metadata.get("general.alignment", 32) or 32)
        data_start = (cur.pos + alignment - 1) // alignment * alignment
        tensors: list[GGUFTensor] = []
        for name, shape, ttype, offset in raw_tensors:
            if ttype not in sizes:
                raise errors.InvalidGGUFError(f"{path.name}: tensor {name} has ggml type {ttype}, "
                                              "which this gguf package does not know.",
                                              "Upgrade the gguf package, or use a file with common quantization types.")
            type_name, block, type_size = sizes[ttype]
            elements = int(prod(shape)) if shape else 1
            tensors.append(GGUFTensor(name, shape, type_name, int(offset), elements // block * type_size))
        token_strings: dict[int, str] = {}
        if tokens_at is not None:
            wanted = {int(metadata[k]) for k in ("tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                                 "tokenizer.ggml.padding_token_id") if k in metadata}
            pos, count = tokens_at
            saved = cur.pos
            cur.pos = pos
            for index in range(min(count, max(wanted, default=-1) + 1)):
                if index in wanted:
                    token_strings[index] = cur.string()
                else:
                    cur.skip_string()
            cur.pos = saved
        header = GGUFHeader(path, int(version), metadata, tensors, data_start, size, token_strings)
    finally:
        buf.close()
    if header.data_end > size:
        missing = header.data_end - size
        raise errors.TruncatedGGUFError(
            f"{path.name} is truncated: its tensors need {header.data_end:,} bytes but the file has {size:,} "
            f"({missing:,} bytes missing).",
            "Copy or download the file again and compare its SHA-256 with the publisher's.",
        )
    return header
