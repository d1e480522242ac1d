"""The model backend: inspect, fingerprint, open (HF folder and GGUF), errors, CLI.

Real parts only: tiny models built here with transformers / tokenizers /
gguf.GGUFWriter, real safetensors and GGUF files, real SQLite case files.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import pytest

from memoview.core import errors
from memoview.core.jobs import CancelToken, run_job
from memoview.core.models.fingerprint import HashCache, combined_fingerprint, fingerprint_files, reverify
from memoview.core.models.inspect import inspect_model, model_layout
from memoview.core.models.load import gguf_cache_dir, open_model
from tests.core.models_support import build_gguf_model, build_hf_model


@pytest.fixture(scope="session")
def hf_model_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    torch.set_num_threads(1)
    return build_hf_model(tmp_path_factory.mktemp("tiny-hf") / "tiny-llama")


@pytest.fixture(scope="session")
def gguf_model_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_gguf_model(tmp_path_factory.mktemp("tiny-gguf") / "tiny-llama.gguf")


@pytest.fixture()
def hf_model(hf_model_src: Path, tmp_path: Path) -> Path:
    """A private copy each test may damage."""
    return Path(shutil.copytree(hf_model_src, tmp_path / "model"))


@pytest.fixture()
def gguf_model(gguf_model_src: Path, tmp_path: Path) -> Path:
    target = tmp_path / "gguf" / gguf_model_src.name
    target.parent.mkdir()
    shutil.copy2(gguf_model_src, target)
    return target


@pytest.fixture()
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh user cache folder (hash cache, GGUF cache) for this test alone."""
    cache = tmp_path / "user-cache"
    monkeypatch.setenv("MEMOVIEW_CACHE_DIR", str(cache))
    return cache


def _inspect(path: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    return run_job(inspect_model(path, **kwargs))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ inspect / open
def test_inspect_hf_folder_records_everything(hf_model: Path) -> None:
    info = _inspect(hf_model)
    assert info.format == "hf"
    assert info.architecture == "llama"
    from safetensors import safe_open

    with safe_open(str(hf_model / "model.safetensors"), "pt") as f:
        expected_params = sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())
    assert info.parameter_count == expected_params > 0
    assert info.context_length == 128
    assert info.bos_token == "<s>" and info.eos_token == "</s>"
    assert info.adds_bos is True
    assert info.has_chat_template is True
    assert info.stored_dtype == "F32"
    assert info.shipped_generation_config["top_k"] == 5
    assert info.shipped_generation_config["repetition_penalty"] == 1.3
    roles = {f.relpath: f.role for f in info.files}
    assert roles["model.safetensors"] == "weights"
    assert roles["config.json"] == "config"
    assert roles["tokenizer.json"] == "tokenizer"
    assert roles["generation_config.json"] == "generation_config"
    assert roles["chat_template.jinja"] == "chat_template"
    assert info.fingerprint == combined_fingerprint((f.relpath, f.sha256) for f in info.files)
    assert {"torch", "transformers", "tokenizers", "gguf", "python"} <= set(info.library_versions)


def test_open_hf_neutralises_shipped_generation_config(hf_model: Path) -> None:
    import torch

    lm = run_job(open_model(hf_model))
    assert lm is not None and lm.report is not None and lm.report.source == "hf"
    assert lm.info.dtype == "float32" and lm.info.device == "cpu"
    assert not lm.model.training
    gc = lm.model.generation_config
    assert not gc.do_sample
    assert gc.repetition_penalty in (None, 1.0)
    assert lm.info.shipped_generation_config["do_sample"] is True  # recorded...
    assert "shipped generation config recorded, not applied" in lm.info.notes
    # ...and not applied: generate() with no arguments equals manual argmax decoding.
    prompt = lm.encode("The quick brown")
    ids = torch.tensor([[lm.bos_token_id] + prompt])
    steps = 12
    manual = ids.clone()
    with torch.no_grad():
        for _ in range(steps):
            nxt = lm.model(manual).logits[0, -1].argmax()
            manual = torch.cat([manual, nxt.view(1, 1)], dim=1)
        generated = lm.model.generate(ids, max_new_tokens=steps, min_new_tokens=steps,
                                      attention_mask=torch.ones_like(ids))
    assert generated[0].tolist() == manual[0].tolist()
    # The shipped settings, had they applied, would have changed the output (so the check above can fail).
    from transformers import GenerationConfig

    shipped_config = GenerationConfig(**lm.info.shipped_generation_config)
    outputs = []
    with torch.no_grad():
        for seed in range(3):
            torch.manual_seed(seed)
            outputs.append(lm.model.generate(ids, generation_config=shipped_config, max_new_tokens=steps,
                                             min_new_tokens=steps, attention_mask=torch.ones_like(ids))[0].tolist())
    assert any(o != manual[0].tolist() for o in outputs), "test model too weak to tell the configs apart"


def test_fingerprint_is_stable_and_changes_when_one_byte_changes(hf_model: Path, own_cache: Path) -> None:
    first = _inspect(hf_model, load_tokenizer=False)
    again = _inspect(hf_model, load_tokenizer=False)
    assert first.fingerprint == again.fingerprint
    weights = hf_model / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x01
    weights.write_bytes(bytes(data))
    changed = _inspect(hf_model, load_tokenizer=False)
    assert changed.fingerprint != first.fingerprint
    before = {f.relpath: f.sha256 for f in first.files}
    after = {f.relpath: f.sha256 for f in changed.files}
    assert [k for k in before if before[k] != after[k]] == ["model.safetensors"]


def test_hash_cache_skips_unchanged_files_and_reverify_ignores_it(hf_model: Path, own_cache: Path) -> None:
    layout = model_layout(hf_model)
    fp1 = run_job(fingerprint_files(layout.root, layout.files))
    assert fp1.files_read == len(layout.files) and fp1.bytes_read > 0
    fp2 = run_job(fingerprint_files(layout.root, layout.files))
    assert fp2.files_read == 0 and fp2.bytes_read == 0
    assert fp2.combined == fp1.combined
    # A rewritten file is read again even with its old mtime put back (ctime/inode are in the key).
    config = hf_model / "config.json"
    st = config.stat()
    config.write_text(config.read_text(encoding="utf-8").replace("128", "129"), encoding="utf-8")
    os.utime(config, ns=(st.st_atime_ns, st.st_mtime_ns))
    fp3 = run_job(fingerprint_files(layout.root, layout.files))
    assert fp3.files_read == 1 and fp3.combined != fp1.combined
    # Poison the cache: the fast path believes it, the export-time re-verification does not.
    info = _inspect(hf_model, load_tokenizer=False)
    weights = hf_model / "model.safetensors"
    from memoview.core.models.fingerprint import _stat_key

    HashCache().put(weights, "0" * 64, _stat_key(weights))
    poisoned = run_job(fingerprint_files(layout.root, layout.files))
    assert {f.relpath: f.sha256 for f in poisoned.files}["model.safetensors"] == "0" * 64
    result = run_job(reverify(info))
    assert result.ok, result.problems
    assert result.fingerprint == info.fingerprint
    fake = type(info)(**{**info.__dict__, "files": tuple(
        type(f)(f.relpath, f.size, "0" * 64 if f.relpath == "model.safetensors" else f.sha256, f.role)
        for f in info.files)})
    bad = run_job(reverify(fake))
    assert not bad.ok and "model.safetensors" in bad.problems[0]


def test_fingerprint_job_reports_progress_and_stops_on_cancel(hf_model: Path, own_cache: Path) -> None:
    layout = model_layout(hf_model)
    events = []
    run_job(fingerprint_files(layout.root, layout.files), events.append)
    assert events and events[-1].done == events[-1].total == sum(f.stat().st_size for f in
                                                                 (hf_model / r for r, _ in layout.files))
    token = CancelToken()
    token.cancel()
    assert run_job(fingerprint_files(layout.root, layout.files, use_cache=False, cancel=token)) is None


# ------------------------------------------------------------------------------------------ errors
def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(errors.ModelNotFoundError, match="does not exist"):
        _inspect(tmp_path / "nowhere")


def test_folder_without_config(hf_model: Path) -> None:
    (hf_model / "config.json").unlink()
    with pytest.raises(errors.MissingConfigError, match="no config.json"):
        _inspect(hf_model)


def test_folder_without_tokenizer(hf_model: Path) -> None:
    (hf_model / "tokenizer.json").unlink()
    with pytest.raises(errors.MissingTokenizerError, match="no tokenizer files"):
        _inspect(hf_model)


def test_folder_without_weights(hf_model: Path) -> None:
    (hf_model / "model.safetensors").unlink()
    with pytest.raises(errors.NoWeightsError, match="no weights"):
        _inspect(hf_model)


def test_missing_shard_named(hf_model: Path) -> None:
    (hf_model / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {
        "a": "model.safetensors", "b": "model-00002-of-00002.safetensors"}}))
    with pytest.raises(errors.NoWeightsError, match="model-00002-of-00002.safetensors"):
        _inspect(hf_model)


def test_unreadable_model_file_is_a_clear_error(hf_model: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions")
    (hf_model / "config.json").chmod(0)
    with pytest.raises(errors.ModelError, match="Cannot read"):
        _inspect(hf_model, load_tokenizer=False)


def test_truncated_safetensors(hf_model: Path) -> None:
    weights = hf_model / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(errors.TruncatedWeightsError, match=r"model\.safetensors is truncated.*bytes missing"):
        _inspect(hf_model)
    weights.write_bytes(data[:100])  # cut inside the header
    with pytest.raises(errors.TruncatedWeightsError, match="ends inside its header"):
        _inspect(hf_model)


def test_pickle_weights_refused_unless_allowed(hf_model: Path, hf_model_src: Path) -> None:
    import torch
    from safetensors.torch import load_file

    state = load_file(str(hf_model / "model.safetensors"))
    (hf_model / "model.safetensors").unlink()
    torch.save(state, hf_model / "pytorch_model.bin")
    with pytest.raises(errors.PickleRefusedError, match="can run arbitrary code") as exc:
        _inspect(hf_model)
    assert "--allow-pickle" in exc.value.hint
    with pytest.raises(errors.PickleRefusedError):
        _inspect(hf_model / "pytorch_model.bin")
    lm = run_job(open_model(hf_model, allow_pickle=True))
    assert lm is not None
    assert any("pickle" in n for n in lm.info.notes)
    assert lm.info.parameter_count == sum(t.numel() for t in state.values())
    reference = run_job(open_model(hf_model_src))
    ids = torch.tensor([[1, 40, 41, 42]])
    with torch.no_grad():
        assert torch.equal(lm.model(ids).logits, reference.model(ids).logits)


def test_unsupported_architecture(hf_model: Path) -> None:
    config_path = hf_model / "config.json"
    config = json.loads(config_path.read_text())
    config["model_type"], config["architectures"] = "vit", ["ViTModel"]
    config_path.write_text(json.dumps(config))
    with pytest.raises(errors.UnsupportedArchitectureError, match="model type 'vit'.*ViTModel"):
        _inspect(hf_model)
    config["model_type"], config["architectures"] = "llama", ["LlamaForCausalLM"]
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_evil.EvilForCausalLM"}
    config_path.write_text(json.dumps(config))
    with pytest.raises(errors.UnsupportedArchitectureError, match="trust_remote_code"):
        _inspect(hf_model)


def test_too_little_memory_is_refused_with_both_figures(hf_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMOVIEW_MEMORY_LIMIT_BYTES", str(64 * 1024 ** 2))
    with pytest.raises(errors.InsufficientMemoryError, match=r"needs about 0\.\d\d GiB.*and 0\.06 GiB is available"):
        run_job(open_model(hf_model))
    monkeypatch.setenv("MEMOVIEW_MEMORY_LIMIT_BYTES", str(8 * 1024 ** 3))
    assert run_job(open_model(hf_model)) is not None


def test_truncated_and_invalid_gguf(gguf_model: Path) -> None:
    data = gguf_model.read_bytes()
    cut = gguf_model.with_name("cut.gguf")
    cut.write_bytes(data[: len(data) - 1000])
    with pytest.raises(errors.TruncatedGGUFError, match=r"cut\.gguf is truncated: its tensors need [\d,]+ bytes but the file has [\d,]+ \(\d+ bytes missing\)"):
        _inspect(cut)
    cut.write_bytes(data[:2000])  # inside the metadata (the vocabulary)
    with pytest.raises(errors.TruncatedGGUFError, match="ends inside its GGUF header"):
        _inspect(cut)
    bogus = gguf_model.with_name("bogus.gguf")
    bogus.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(errors.InvalidGGUFError, match="not a GGUF file"):
        _inspect(bogus)


def test_unsupported_gguf_architecture(tmp_path: Path) -> None:
    path = build_gguf_model(tmp_path / "odd.gguf", arch="rwkv-unheard-of")
    with pytest.raises(errors.UnsupportedArchitectureError, match="'rwkv-unheard-of'"):
        _inspect(path)


# ------------------------------------------------------------------------------------------ GGUF
def test_inspect_gguf(gguf_model: Path) -> None:
    info = _inspect(gguf_model)
    assert info.format == "gguf" and info.architecture == "llama"
    assert info.context_length == 128
    assert info.quantization == "F32"
    assert "Q8_0×1" in info.stored_dtype
    assert info.bos_token == "<s>" and info.eos_token == "</s>" and info.adds_bos
    assert not info.has_chat_template
    assert [f.relpath for f in info.files] == [gguf_model.name]
    import gguf
    import hashlib

    reader = gguf.GGUFReader(str(gguf_model))  # the reference reader, independent of memoview's header parser
    assert info.parameter_count == sum(int(t.n_elements) for t in reader.tensors) > 0

    assert info.files[0].sha256 == hashlib.sha256(gguf_model.read_bytes()).hexdigest()
    # A folder holding exactly one .gguf (and no config.json) opens as that file.
    assert _inspect(gguf_model.parent).fingerprint == info.fingerprint


def test_gguf_second_open_uses_verified_cache_and_corrupt_cache_is_rebuilt(gguf_model: Path, own_cache: Path) -> None:
    import torch

    first = run_job(open_model(gguf_model))
    assert first is not None and first.report.source == "gguf"
    cache = gguf_cache_dir(first.info.files[0].sha256)
    assert (cache / "memoview-cache.json").is_file() and (cache / "model.safetensors").is_file()
    second = run_job(open_model(gguf_model))
    assert second.report.source == "gguf-cache"
    assert second.info.fingerprint == first.info.fingerprint
    assert second.encode("The quick brown fox") == first.encode("The quick brown fox")
    ids = torch.tensor([[1] + first.encode("We hold these truths")])
    with torch.no_grad():
        assert torch.equal(first.model(ids).logits, second.model(ids).logits)
    assert not second.model.generation_config.do_sample
    # Damage the cache three ways; each is detected, discarded and rebuilt, never used.
    weights = cache / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-64])
    third = run_job(open_model(gguf_model))
    assert third.report.source == "gguf" and "bytes" in third.report.cache_problem
    with torch.no_grad():
        assert torch.equal(third.model(ids).logits, first.model(ids).logits)
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0xFF  # same size, different bytes
    weights.write_bytes(bytes(data))
    fourth = run_job(open_model(gguf_model))
    assert fourth.report.source == "gguf" and "SHA-256" in fourth.report.cache_problem
    (cache / "memoview-cache.json").unlink()
    fifth = run_job(open_model(gguf_model))
    assert fifth.report.source == "gguf" and "manifest" in fifth.report.cache_problem
    assert run_job(open_model(gguf_model)).report.source == "gguf-cache"


# ------------------------------------------------------------------------------------------ CLI
def test_cli_model_info_and_add(hf_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from memoview.cli import main
    from memoview.core.case import Case

    assert main(["model", "info", str(hf_model), "-q"]) == 0
    out = capsys.readouterr().out
    for needle in ("architecture    llama", "parameters", "context length  128 tokens", "tokenizer adds BOS",
                   "chat template   yes", "recorded, not applied", "fingerprint", "model.safetensors"):
        assert needle in out, needle
    assert main(["model", "info", str(hf_model), "-q", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["format"] == "hf" and len(data["fingerprint"]) == 64

    case_path = tmp_path / "c.memoview"
    Case.create(case_path).close()
    assert main(["model", "add", str(case_path), str(hf_model), "--name", "tiny", "-q"]) == 0
    out = capsys.readouterr().out
    assert "registered model 1 (tiny)" in out and data["fingerprint"] in out
    assert main(["model", "add", str(case_path), str(hf_model), "-q"]) == 0
    assert "already registered: model 1" in capsys.readouterr().out
    with Case.open(case_path) as case:
        models = case.models()
        assert len(models) == 1 and models[0].fingerprint == data["fingerprint"]
        assert models[0].shipped_generation_config["top_k"] == 5
        assert any(e.event == "model.add" for e in case.audit_entries())


def test_cli_errors_are_messages_not_tracebacks(hf_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from memoview.cli import main

    (hf_model / "model.safetensors").write_bytes(b"\x08\x00\x00")
    assert main(["model", "info", str(hf_model), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: model.safetensors") and "hint:" in err and "Traceback" not in err
