"""Add a served model (an OpenAI-compatible server: vLLM, llama.cpp's server, a deployed API) to the case.

The user gives the server's address, the model id and, for scoring and
sweeps, the model's tokenizer. **Test connection** probes the server on the
worker (never on the UI thread) and lists what it can do in plain words;
**Add to case** registers the model and stores the probe's requests and
responses in the case. The API key is never typed here or shown: it is read
from an environment variable (named here) or the OS keyring when a request is
sent, and never stored.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from memoview.core.remote.endpoint import DEFAULT_KEY_ENV

Submit = Callable[..., Any]


def _probe_job(urls: list[str], model_id: str, tokenizer: str, key_env: str, token: Any) -> Any:
    """Connect (probe) and return (engine, probe exchanges); runs on the worker."""
    from memoview.core.engines.openai import connect
    from memoview.core.jobs import Progress
    from memoview.core.remote import evidence
    from memoview.core.remote.endpoint import Endpoint

    yield Progress(0, None, f"Testing {model_id} at {urls[0]}")
    col = evidence.Collector()
    endpoints = [Endpoint(base_url=u, model_id=model_id, api_key_env=key_env or DEFAULT_KEY_ENV, max_retries=1)
                 for u in urls]
    engine = connect(endpoints, tokenizer or None, col)
    return engine, col.drain()


def _add_job(case: Any, engine: Any, exchanges: list[Any], token: Any) -> Any:
    from memoview.core.jobs import Progress

    yield Progress(0, None, "Registering the served model")
    info = case.add_model(engine.info)
    case.record_server_exchanges(info.id, exchanges, "capability probe when the served model was added")
    engine.close()
    return info


class ServerModelDialog(QDialog):
    """URL, model id, tokenizer, key variable; Test connection; Add to case."""

    def __init__(self, parent: Optional[QWidget], case: Any, submit: Submit,
                 on_added: Optional[Callable[[Any], None]] = None) -> None:
        super().__init__(parent)
        self.setObjectName("serverModelDialog")
        self.setWindowTitle("Add a served model")
        self.case = case
        self.submit = submit
        self.on_added = on_added
        self.engine: Any = None
        self.exchanges: list[Any] = []
        self.added: Any = None

        intro = QLabel(
            "A model running on a server (vLLM, llama.cpp's server, or a deployed system's API) is examined "
            "through its OpenAI-compatible API. It is identified by its address, model id and the date; its "
            "weights are not available to the examiner, and every record and exhibit says so. Every request "
            "and response is kept in the case.")
        intro.setWordWrap(True)

        self.url = QLineEdit()
        self.url.setObjectName("serverUrl")
        self.url.setPlaceholderText("http://gpu-node-1:8000/v1   (several replicas: separate with spaces)")
        self.model_id = QLineEdit()
        self.model_id.setObjectName("serverModelId")
        self.model_id.setPlaceholderText("the id the server lists under /v1/models, e.g. meta-llama/Llama-3.1-70B")
        self.tokenizer = QLineEdit()
        self.tokenizer.setObjectName("serverTokenizer")
        self.tokenizer.setPlaceholderText("optional: the model's tokenizer (HF folder or GGUF) — needed for scoring")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        tok_row = QHBoxLayout()
        tok_row.addWidget(self.tokenizer, 1)
        tok_row.addWidget(browse)
        self.key_env = QLineEdit(DEFAULT_KEY_ENV)
        self.key_env.setObjectName("serverKeyEnv")
        self.key_status = QLabel()
        self.key_status.setObjectName("serverKeyStatus")
        self.key_env.textChanged.connect(self._update_key_status)

        form = QFormLayout()
        form.addRow("Server address", self.url)
        form.addRow("Model id", self.model_id)
        form.addRow("Tokenizer", tok_row)
        form.addRow("API key variable", self.key_env)
        form.addRow("", self.key_status)

        self.test_button = QPushButton("Test connection")
        self.test_button.setObjectName("serverTestButton")
        self.test_button.clicked.connect(self.test_connection)
        self.capabilities_text = QPlainTextEdit()
        self.capabilities_text.setObjectName("serverCapabilities")
        self.capabilities_text.setReadOnly(True)
        self.capabilities_text.setPlaceholderText("Test the connection to see what this server can do.")
        self.capabilities_text.setMinimumHeight(190)

        self.buttons = QDialogButtonBox()
        self.add_button = self.buttons.addButton("Add to case", QDialogButtonBox.ButtonRole.AcceptRole)
        self.add_button.setObjectName("serverAddButton")
        self.add_button.setEnabled(False)
        self.add_button.clicked.connect(self.add_to_case)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.capabilities_text, 1)
        layout.addWidget(self.buttons)
        self.resize(720, 560)
        self._update_key_status()

    # ------------------------------------------------------------------ helpers
    def _browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "The served model's tokenizer (GGUF or tokenizer.json)", "",
                                              "Tokenizer (*.gguf tokenizer.json)")
        if name:
            self.tokenizer.setText(name if name.endswith(".gguf") else os.path.dirname(name))

    def _update_key_status(self) -> None:
        var = self.key_env.text().strip() or DEFAULT_KEY_ENV
        if os.environ.get(var):
            self.key_status.setText(f"A key is set in {var} (it is sent to the server, never stored or shown).")
        else:
            self.key_status.setText(f"{var} is not set: requests go without a key (or with one from the OS "
                                    "keyring, if installed).")

    def _urls(self) -> list[str]:
        return [u for u in self.url.text().split() if u]

    # ------------------------------------------------------------------ actions
    def test_connection(self) -> None:
        urls, model_id = self._urls(), self.model_id.text().strip()
        if not urls or not model_id:
            self.capabilities_text.setPlainText("Give the server address and the model id first.")
            return
        self.add_button.setEnabled(False)
        self.test_button.setEnabled(False)
        self.capabilities_text.setPlainText(f"Testing {model_id} at {urls[0]} …")
        tokenizer, key_env = self.tokenizer.text().strip(), self.key_env.text().strip()
        self.submit(lambda token: _probe_job(urls, model_id, tokenizer, key_env, token),
                    label=f"Testing {urls[0]}", on_result=self._tested, on_error=self._failed)

    def _tested(self, result: Any) -> None:
        self.test_button.setEnabled(True)
        if result is None:
            return
        if self.engine is not None:
            self.engine.close()
        self.engine, self.exchanges = result
        lines = ["Connected. This server can:", ""] + [f"  {line}" for line in self.engine.server_caps.lines()]
        caps = self.engine.capabilities
        lines += ["", "In memoview:"]
        for method, label in (("prefix", "Prefix continuation"), ("sweep", "Whole-work sweep"),
                              ("pz", "Exact-continuation probability p_z"), ("prompt", "Free prompts"),
                              ("chat", "Chat prompts"),
                              ("membership", "Membership signals")):
            reason = caps.method_refusal(method)
            if method == "chat" and self.engine.server_caps.chat:
                reason = None  # chat goes to the server's chat completions (its own template)
            if method == "prompt" and self.engine.server_caps.completions:
                reason = None
            lines.append(f"  {label}: {'available' if reason is None else 'not available — ' + reason}")
        lines += ["", f"({len(self.exchanges)} probe requests; they are stored in the case when you add it.)"]
        self.capabilities_text.setPlainText("\n".join(lines))
        self.add_button.setEnabled(True)

    def _failed(self, exc: BaseException, details: str) -> None:
        from memoview.gui.dialogs.errors import describe

        self.test_button.setEnabled(True)
        message, hint = describe(exc)
        self.capabilities_text.setPlainText(f"The connection test failed.\n\n{message}\n\n{hint}")

    def add_to_case(self) -> None:
        if self.engine is None:
            return
        engine, exchanges = self.engine, self.exchanges
        self.engine = None
        self.add_button.setEnabled(False)

        def done(info: Any) -> None:
            self.added = info
            if self.on_added is not None:
                self.on_added(info)
            self.accept()

        self.submit(lambda token: _add_job(self.case, engine, exchanges, token), label="Adding the served model",
                    on_result=done)

    def reject(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None
        super().reject()


__all__ = ["ServerModelDialog"]
