"""`memoview case new|info` as a user runs them (a real process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "memoview", *args], capture_output=True, text=True, timeout=120)


def test_cli_case_commands(tmp_path: Path) -> None:
    path = tmp_path / "cli.memoview"
    created = _run("case", "new", str(path))
    assert created.returncode == 0, created.stderr
    info = _run("case", "info", str(path))
    assert info.returncode == 0 and "0 documents" in info.stdout
    bad = tmp_path / "bad.memoview"
    bad.write_bytes(b"\x00" * 100)
    refused = _run("case", "info", str(bad))
    assert refused.returncode != 0
    assert "not a memoview case" in refused.stderr
    assert "Traceback" not in refused.stderr
