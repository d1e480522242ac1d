"""The core is headless and cheap to import: no Qt ever, torch/transformers/llama_cpp only when a model is used."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_importing_every_core_module_loads_neither_qt_nor_torch() -> None:
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        import memoview.core
        names = ["memoview", "memoview.paths", "memoview.cli"]
        for info in pkgutil.walk_packages(memoview.core.__path__, "memoview.core."):
            names.append(info.name)
        for name in names:
            importlib.import_module(name)
        heavy = sorted(m for m in sys.modules
                       if m.split(".")[0] in ("PySide6", "shiboken6", "torch", "transformers", "llama_cpp"))
        print(len(names))
        print(",".join(heavy))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    count, heavy = result.stdout.strip().split("\n") + [""] * (2 - len(result.stdout.strip().split("\n")))
    assert int(count) >= 10
    assert heavy == "", f"core imports loaded heavy modules: {heavy}"
