"""Version report, diagnostics and desktop integration (issue 15, items 4 and 6). No Qt here."""

from __future__ import annotations

import configparser
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from memoview import __version__
from memoview.cli import main
from tests.packaging.support import REPO


def test_version_report_names_engine_libraries_without_importing_them() -> None:
    script = ("import sys; from memoview.support import version_report; print(version_report()); "
              "print('HEAVY=' + ','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
              "('torch', 'transformers', 'llama_cpp', 'PySide6'))))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         cwd=REPO, check=True).stdout
    lines = out.splitlines()
    assert lines[0] == f"memoview {__version__}"
    assert lines[1].startswith("Python ")
    from importlib.metadata import version

    assert any(line.split() == ["torch", version("torch")] for line in lines), out
    assert any(line.split()[:1] == ["llama-cpp-python"] for line in lines), out
    assert lines[-1] == "HEAVY=", lines[-1]


def test_cli_version_prints_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"memoview {__version__}\n") and "transformers" in out


def test_version_single_source(tmp_path: Path) -> None:
    """pyproject reads the version from memoview/__init__.py; nothing else hard-codes it."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in text and 'version = { attr = "memoview.__version__" }' in text
    hard = subprocess.run(["grep", "-rn", "--include=*.py", f'"{__version__}"', "memoview"], cwd=REPO,
                          capture_output=True, text=True).stdout
    assert hard.strip().splitlines() == [f'memoview/__init__.py:6:__version__ = "{__version__}"'], hard


def test_diagnostics_hold_versions_and_errors_but_no_case_content() -> None:
    from memoview.core.errors import CaseError
    from memoview.support import diagnostics_text, record_error

    try:
        raise CaseError("Cannot read '/home/expert/NYT v OpenAI/evidence.memoview': 'Snowfall' is damaged.",
                        "Restore it from a backup.")
    except CaseError as exc:
        record_error(exc)
    text = diagnostics_text({"Qt platform": "offscreen"})
    assert f"memoview {__version__}" in text and "Python " in text and "Qt platform: offscreen" in text
    assert "CaseError" in text and "Cannot read" in text and "is damaged" in text
    assert "expert" not in text and "NYT" not in text and "Snowfall" not in text
    assert "test_support_and_desktop.py:" in text  # where it happened, for the developers


@pytest.fixture()
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    data, config = tmp_path / "data", tmp_path / "config"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return data, config


def test_desktop_integration_install_and_uninstall(xdg: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    data, config = xdg
    config.mkdir()
    (config / "mimeapps.list").write_text("[Default Applications]\ntext/plain=gedit.desktop\n", encoding="utf-8")
    assert main(["desktop-integration", "install"]) == 0
    entry = configparser.RawConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(data / "applications" / "memoview.desktop", encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["MimeType"] == "application/x-memoview-case;"
    assert section["Icon"] == "memoview"
    exe = section["Exec"].split(" ")
    assert exe[-2:] == ["gui", "%f"] and Path(exe[0]).is_absolute() and Path(exe[0]).exists(), section["Exec"]
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / "memoview.svg").read_bytes().startswith(b"<svg")
    mime = (data / "mime" / "packages" / "memoview.xml").read_text(encoding="utf-8")
    assert 'type="application/x-memoview-case"' in mime and 'pattern="*.memoview"' in mime
    apps = (config / "mimeapps.list").read_text(encoding="utf-8")
    assert "application/x-memoview-case=memoview.desktop" in apps and "text/plain=gedit.desktop" in apps
    if shutil.which("update-mime-database"):  # the real shared-mime-info database maps the glob to our type
        globs = (data / "mime" / "globs2").read_text(encoding="utf-8")
        assert "application/x-memoview-case:*.memoview" in globs, globs
    if shutil.which("desktop-file-validate"):
        subprocess.run(["desktop-file-validate", str(data / "applications" / "memoview.desktop")], check=True)
    assert "launcher runs:" in capsys.readouterr().out

    assert main(["desktop-integration", "uninstall"]) == 0
    assert not (data / "applications" / "memoview.desktop").exists()
    assert not (data / "mime" / "packages" / "memoview.xml").exists()
    apps = (config / "mimeapps.list").read_text(encoding="utf-8")
    assert "memoview" not in apps and "text/plain=gedit.desktop" in apps


def test_desktop_exec_quotes_paths_with_spaces() -> None:
    from memoview.desktop import desktop_entry

    _, line = desktop_entry(["/opt/My Apps/memoview"])
    assert line == '"/opt/My Apps/memoview" gui %f'


def test_open_estimate_uses_this_machines_own_times() -> None:
    from memoview.core.models.open_estimate import estimate_open, record_open
    from memoview.core.records import ModelFile, ModelInfo

    info = ModelInfo(path="/m/x.gguf", format="gguf", architecture="gemma3", parameter_count=1, fingerprint="f" * 64,
                     files=(ModelFile("x.gguf", 100_000_000, "e" * 64, "weights"),), name="x")
    first = estimate_open(info, "transformers")
    assert first.kind == "gguf-first" and "benchmark" in first.basis
    assert first.seconds == pytest.approx(100 * 230 / 253)
    record_open(first, 30.0)
    second = estimate_open(info, "transformers")
    assert second.seconds == pytest.approx(30.0) and "this computer's last 1 open" in second.basis
    assert json.loads((Path(__import__("os").environ["MEMOVIEW_CACHE_DIR"]) / "open_times.json")
                      .read_text())["gguf-first"] == [pytest.approx(0.3)]


def test_open_estimate_with_llama_cpp_is_not_a_dequantization() -> None:
    """llama.cpp maps a GGUF file as stored: its estimate must not be the minutes of a transformers first open
    (a new user of the bundle saw "dequantizing ... about 3 min 50 s" while llama.cpp opened the model)."""
    from memoview.core.engines import default_engine
    from memoview.core.models.open_estimate import estimate_open
    from memoview.core.records import ModelFile, ModelInfo

    info = ModelInfo(path="/m/x.gguf", format="gguf", architecture="gemma3", parameter_count=1, fingerprint="f" * 64,
                     files=(ModelFile("x.gguf", 253_000_000, "e" * 64, "weights"),), name="x")
    llama = estimate_open(info, "llama.cpp")
    assert llama.kind == "gguf-llama" and llama.seconds == pytest.approx(1.49)
    assert "dequantiz" not in llama.describe() and "no conversion" in llama.describe()
    assert estimate_open(info, "llama_cpp").kind == "gguf-llama"  # an alias
    assert estimate_open(info).kind == ("gguf-llama" if default_engine("gguf") == "llama.cpp" else "gguf-first")
