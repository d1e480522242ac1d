"""The layers and the static checks are enforced, not hoped for.

Each check runs the real tool, configured in pyproject.toml, over the whole
tree, exactly as a developer would by hand (see ARCHITECTURE.md):

    ruff check .        pyflakes, real pycodestyle errors, bugbear
    mypy                strict for the core modules listed in pyproject, the rest checked normally
    lint-imports        the import contracts (core never imports gui/cli/Qt; documents never
                        import alignment or the case facade; storage never imports the case facade)

A tool that is not installed skips its test with the reason (they are in the
``test`` extra, so CI always has them).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)


def _require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e '.[test]')")


def test_ruff() -> None:
    _require("ruff")
    result = _run(["-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."], timeout=300)
    assert result.returncode == 0, f"ruff check found problems:\n{result.stdout}{result.stderr}"


@pytest.mark.slow
def test_mypy() -> None:
    _require("mypy")
    # The incremental cache (.mypy_cache) makes a second run take seconds; the first takes about a minute.
    result = _run(["-m", "mypy"], timeout=900)
    assert result.returncode == 0, f"mypy found problems:\n{result.stdout}{result.stderr}"


def test_import_contracts() -> None:
    _require("importlinter")
    result = _run(["-c", "from importlinter.cli import lint_imports_command; lint_imports_command()", "--no-cache"],
                  timeout=300)
    assert result.returncode == 0, f"an import contract is broken:\n{result.stdout}{result.stderr}"
    assert "0 broken" in result.stdout
