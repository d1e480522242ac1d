"""Alignment engine: near-exact spans between a source and a model output.

``align`` lives in :mod:`.engine`, records in :mod:`.types`; corpus
attribution in :mod:`.attribution`, control baselines in :mod:`.baseline`.
``align`` is imported lazily, so that importing the record types
(:mod:`.types`) does not load the engine and rapidfuzz.
"""

from __future__ import annotations

from typing import Any

__all__ = ["align"]


def __getattr__(name: str) -> Any:
    if name == "align":
        from memoview.core.alignment.engine import align

        return align
    raise AttributeError(name)
