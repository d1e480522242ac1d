"""Which engine can open a GGUF file, decided from the file's own header (``general.architecture``).

Why: a GGUF file belongs to llama.cpp's format, not to transformers. transformers
can dequantize only a short list of GGUF architectures; llama.cpp runs many more.
Registering a GGUF model must therefore not be refused because transformers
cannot read it: a file that llama.cpp supports is accepted for the llama.cpp
engine (with a note that the transformers engine cannot open it), and only a
file that neither engine supports is refused, with an error naming its
architecture.

Where the lists come from:

* transformers: the keys of its GGUF config mapping
  (:func:`memoview.core.models.inspect.gguf_supported_architectures`);
* llama.cpp: the architecture names of the ``gguf`` package (``gguf.MODEL_ARCH_NAMES``),
  which is llama.cpp's own Python GGUF library (gguf-py, maintained in the
  llama.cpp repository), so its list is llama.cpp's list of architectures.
  The installed llama.cpp build still checks the file when it opens it; a
  build older than the ``gguf`` package refuses a newer architecture there,
  with its own clear message (``InvalidGGUFError``).

Nothing heavy is imported here (no torch, no llama_cpp).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from memoview.core import errors

TRANSFORMERS = "transformers"
LLAMACPP = "llama.cpp"
ANY = "auto"  # register/inspect: any engine that can open the file


def llamacpp_gguf_architectures() -> list[str]:
    """GGUF architectures llama.cpp defines (from its gguf-py package); empty when ``gguf`` is missing."""
    try:
        import gguf
    except ImportError:  # pragma: no cover - gguf is a dependency of memoview
        return []
    return sorted(str(name) for name in gguf.MODEL_ARCH_NAMES.values())


def transformers_gguf_architectures() -> list[str]:
    from memoview.core.models.inspect import gguf_supported_architectures

    return gguf_supported_architectures()


@dataclass(frozen=True)
class GGUFSupport:
    """Per engine: ``None`` when it can open the architecture, else a sentence saying why not."""

    architecture: str
    transformers: Optional[str]
    llamacpp: Optional[str]

    def refusal(self, engine: str) -> Optional[str]:
        if engine == TRANSFORMERS:
            return self.transformers
        if engine == LLAMACPP:
            return self.llamacpp
        if self.transformers is not None and self.llamacpp is not None:
            return f"{self.transformers}; {self.llamacpp}"
        return None

    def engines(self) -> tuple[str, ...]:
        """The engines that can open it, llama.cpp first (the default engine for GGUF)."""
        return tuple(name for name, why in ((LLAMACPP, self.llamacpp), (TRANSFORMERS, self.transformers))
                     if why is None)

    def notes(self) -> tuple[str, ...]:
        out = []
        if self.transformers is not None and self.llamacpp is None:
            out.append(f"the transformers engine cannot open this file ({self.transformers}); "
                       "use the llama.cpp engine")
        if self.llamacpp is not None and self.transformers is None:
            out.append(f"the llama.cpp engine cannot open this file ({self.llamacpp})")
        return tuple(out)


def gguf_support(architecture: str) -> GGUFSupport:
    """Which engines can open a GGUF file of this ``general.architecture``."""
    from memoview.core.models.inspect import library_versions

    arch = architecture or ""
    shown = arch or "(missing)"
    tf = None
    if arch not in transformers_gguf_architectures():
        tf = (f"transformers {library_versions().get('transformers', '?')} cannot dequantize GGUF "
              f"architecture '{shown}'")
    llama = None
    if arch not in llamacpp_gguf_architectures():
        llama = f"llama.cpp does not know GGUF architecture '{shown}'"
    return GGUFSupport(arch, tf, llama)


def check_gguf_support(architecture: str, engine: str, file_name: str) -> GGUFSupport:
    """The support facts, or UnsupportedArchitectureError when ``engine`` (or, for ``auto``, every engine)
    cannot open the file. The message names the architecture; the hint names the engine that can."""
    support = gguf_support(architecture)
    why = support.refusal(engine)
    if why is None:
        return support
    shown = architecture or "(missing)"
    others = [e for e in support.engines() if e != engine]
    if others:
        hint = f"Open it with --engine {others[0]} (that engine supports '{shown}')."
    else:
        hint = ("Neither memoview engine supports it. Check that the file is a language model; a newer "
                "llama-cpp-python or transformers may add the architecture. llama.cpp's architectures: "
                + ", ".join(llamacpp_gguf_architectures()[:12]) + ", …")
    raise errors.UnsupportedArchitectureError(
        f"{file_name}: GGUF architecture '{shown}' cannot be opened ({why}).", hint)


__all__ = ["ANY", "GGUFSupport", "LLAMACPP", "TRANSFORMERS", "check_gguf_support", "gguf_support",
           "llamacpp_gguf_architectures", "transformers_gguf_architectures"]
