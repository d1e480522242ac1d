"""Session fixtures around llama.cpp's real server (registered for all tests by tests/conftest.py).

``demo_gguf``: the demo GGUF (skip with the reason when llama-cpp-python[server]
or the demo model package is missing). ``server``: one llama.cpp server for the
whole session on 127.0.0.1 with an API key. ``engine``: the server engine
connected to it, with the GGUF's own vocabulary as the tokenizer. ``key``:
puts the API key in the environment variable the engine reads.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest

from memoview.core.remote.endpoint import Endpoint
from tests.support import llama_server

API_KEY = "sk-memoview-test-9c1f4e2b77a0"
KEY_ENV = "MEMOVIEW_TEST_SERVER_KEY"


def served_endpoint(url: str, **kw: Any) -> Endpoint:
    return Endpoint(base_url=url, model_id="demo-gemma3-270m", api_key_env=KEY_ENV, use_keyring=False, **kw)


@pytest.fixture(scope="session")
def demo_gguf() -> Path:
    reason = llama_server.why_unavailable()
    if reason:
        pytest.skip(reason)
    from memoview.core.models.demo import demo_model_path

    return demo_model_path()


@pytest.fixture(scope="session")
def server(demo_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[llama_server.LlamaServer]:
    srv = llama_server.start(demo_gguf, tmp_path_factory.mktemp("llama-server"), api_key=API_KEY, n_ctx=256)
    print(f"\nllama.cpp server started in {srv.startup_s:.1f} s")
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def engine(server: llama_server.LlamaServer, demo_gguf: Path) -> Iterator[Any]:
    from memoview.core.engines.openai import connect

    os.environ[KEY_ENV] = API_KEY
    eng = connect([served_endpoint(server.url)], tokenizer=demo_gguf)
    yield eng
    eng.close()


@pytest.fixture()
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, API_KEY)
