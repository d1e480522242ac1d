"""Engines: how a model is run (transformers, llama.cpp, OpenAI-compatible servers).

The protocol is in :mod:`memoview.core.engines.base`. This module is the
registry: engine name -> module path, imported lazily (importing
``memoview.core.engines`` loads neither torch nor llama_cpp). Adding an
engine is one line in :data:`ENGINES`; its module provides
``unavailable_reason()`` and ``open_engine(path, settings, *, allow_pickle, cancel)``
(see the base module's docstring).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Optional

from memoview.core.engines.base import ENGINE_AUTO, Capabilities, CapabilityError

# name -> module. The order is the order shown to users.
ENGINES: dict[str, str] = {
    "transformers": "memoview.core.engines.transformers_engine",
    "llama.cpp": "memoview.core.engines.llamacpp",
    "openai": "memoview.core.engines.openai",  # OpenAI-compatible servers (vLLM, llama.cpp's server, APIs)
}
# Other spellings accepted on the command line.
ALIASES: dict[str, str] = {"hf": "transformers", "torch": "transformers", "llama_cpp": "llama.cpp",
                           "llamacpp": "llama.cpp", "llama-cpp": "llama.cpp",
                           "vllm": "openai", "server": "openai"}


def canonical_name(name: str) -> str:
    """The registry name for ``name`` (aliases resolved); CapabilityError for an unknown engine."""
    key = (name or ENGINE_AUTO).strip().lower()
    key = ALIASES.get(key, key)
    if key != ENGINE_AUTO and key not in ENGINES:
        raise CapabilityError(f"Unknown engine '{name}'.", f"Use one of: {', '.join(ENGINES)} (or auto).")
    return key


def engine_module(name: str) -> ModuleType:
    """The engine's module, imported now (cheap: engine modules import their libraries lazily)."""
    return importlib.import_module(ENGINES[canonical_name(name)])


def unavailable_reason(name: str) -> Optional[str]:
    """None when the engine can run on this machine, else why not (one sentence a user can act on)."""
    try:
        module = engine_module(name)
    except ImportError as exc:  # pragma: no cover - a broken install
        return f"memoview's {name} engine module cannot be imported ({exc})"
    return module.unavailable_reason()  # type: ignore[no-any-return]


def declared_capabilities(name: str) -> Capabilities:
    """An engine's capabilities before any model is opened (an opened engine's own are authoritative)."""
    module = engine_module(name)
    probe = getattr(module, "declared_capabilities", None)
    return probe() if probe is not None else Capabilities()


def available_engines() -> dict[str, Optional[str]]:
    """Every registered engine with None (available) or the reason it is not."""
    return {name: unavailable_reason(name) for name in ENGINES}


def default_engine(model_format: str) -> str:
    """The engine ``auto`` means: llama.cpp for a GGUF file when it is installed, else transformers.

    Served models (format ``openai`` or ``served``) use the server engine.
    """
    if model_format in ("openai", "served") and "openai" in ENGINES:
        return "openai"
    if model_format == "gguf" and unavailable_reason("llama.cpp") is None:
        return "llama.cpp"
    return "transformers"


__all__ = ["ALIASES", "ENGINES", "available_engines", "declared_capabilities", "canonical_name", "default_engine", "engine_module",
           "unavailable_reason"]
