"""The engine dialog for a served model: what it is and what it can do, instead of device and precision.

A served model (registered with File > Add served model… or ``memoview server
add``) runs on someone else's server: there is no device or precision to
choose and no memory to estimate. The dialog shows its endpoint, model id,
server, tokenizer, the environment variable its API key is read from (never
the key), the deployed-system statement and the capabilities found when it
was added; **Test connection** probes the server again on the worker (the
probe's requests and responses are stored in the case, as when it was added).
The only engine offered is ``openai``, the OpenAI-compatible one.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QPlainTextEdit,
                               QPushButton, QVBoxLayout)

from memoview.core.records import ModelInfo

ENGINE_LABEL = "openai (OpenAI-compatible server over HTTP: vLLM, llama.cpp's server, a deployed API)"


def served_details(info: ModelInfo) -> list[tuple[str, str]]:
    """(label, value) rows for a served model's record; no network."""
    from memoview.core.engines.openai import DEPLOYED_STATEMENT, key_env_from_info, parse_served_path, \
        tokenizer_from_info

    url, model_id = parse_served_path(info.path)
    server = (info.library_versions or {}).get("server", "") or "not reported"
    return [("Endpoint", url), ("Model id", model_id), ("Server", server),
            ("Tokenizer", tokenizer_from_info(info) or "none given (scoring and sweeps need one)"),
            ("API key", f"read from ${key_env_from_info(info) or 'MEMOVIEW_API_KEY'} or the OS keyring when a request "
                        "is sent; never stored or shown"),
            ("Identity", f"{DEPLOYED_STATEMENT}; identity hash {info.fingerprint[:16]}… (not a hash of weights)")]


def capability_text(info: ModelInfo) -> str:
    from memoview.core.engines.openai import capabilities_from_info

    lines = capabilities_from_info(info)
    if not lines:
        return ("The capabilities were not recorded with this model (it was added by an older memoview). "
                "Press Test connection to ask the server now.")
    return "Found when the model was added:\n" + "\n".join(f"  {line}" for line in lines)


def build_served(dialog: Any, info: ModelInfo) -> None:
    """Fill ``dialog`` (an EngineDialog) for a served model: details, capabilities, Test connection, OK."""
    dialog.engine = QComboBox()
    dialog.engine.setObjectName("engineChoice")
    dialog.engine.addItem(ENGINE_LABEL, "openai")
    dialog.device = dialog.dtype = None
    intro = QLabel(f"<b>{info.name}</b> — a served model. It runs on its server: there is no device or precision "
                   "to choose here, and every request and response is stored in the case.")
    intro.setWordWrap(True)
    form = QFormLayout()
    form.addRow("Engine", dialog.engine)
    for label, value in served_details(info):
        text = QLabel(value)
        text.setWordWrap(True)
        text.setObjectName(f"served{label.replace(' ', '')}")
        form.addRow(label, text)
    dialog.capabilities_text = QPlainTextEdit(capability_text(info))
    dialog.capabilities_text.setObjectName("servedCapabilities")
    dialog.capabilities_text.setReadOnly(True)
    dialog.test_button = QPushButton("Test connection")
    dialog.test_button.setObjectName("servedTestConnection")
    dialog.test_button.clicked.connect(lambda: test_connection(dialog, info))
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    dialog.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
    dialog.estimate = QLabel("")
    layout = QVBoxLayout(dialog)
    layout.addWidget(intro)
    layout.addLayout(form)
    layout.addWidget(QLabel("Capabilities"))
    layout.addWidget(dialog.capabilities_text, 1)
    layout.addWidget(dialog.test_button)
    layout.addWidget(buttons)
    dialog.resize(760, 560)


def test_connection(dialog: QDialog, info: ModelInfo) -> None:
    """Probe the server again on the window's worker; show what it can do now."""
    from memoview.core.engines.openai import key_env_from_info, parse_served_path, tokenizer_from_info
    from memoview.gui.dialogs.server_model import _probe_job

    window = dialog.parent()
    submit = getattr(window, "submit", None)
    if submit is None:
        return
    url, model_id = parse_served_path(info.path)
    tokenizer, key_env = tokenizer_from_info(info) or "", key_env_from_info(info) or ""
    dialog.test_button.setEnabled(False)  # type: ignore[attr-defined]
    dialog.capabilities_text.setPlainText(f"Testing {model_id} at {url} …")  # type: ignore[attr-defined]

    def tested(result: Any) -> None:
        dialog.test_button.setEnabled(True)  # type: ignore[attr-defined]
        if result is None:
            return
        engine, exchanges = result
        lines = [f"  {line}" for line in engine.server_caps.lines()]
        engine.close()
        case = getattr(window, "case", None)
        if case is not None and info.id is not None:
            case.record_server_exchanges(info.id, exchanges, "capability probe from the engine dialog")
        dialog.capabilities_text.setPlainText(  # type: ignore[attr-defined]
            "Connected now. This server can:\n" + "\n".join(lines)
            + f"\n\n({len(exchanges)} probe requests, stored in the case.)")

    def failed(exc: BaseException, details: str) -> None:
        from memoview.gui.dialogs.errors import describe

        dialog.test_button.setEnabled(True)  # type: ignore[attr-defined]
        message, hint = describe(exc)
        dialog.capabilities_text.setPlainText(  # type: ignore[attr-defined]
            f"The connection test failed.\n\n{message}\n\n{hint}")

    submit(lambda token: _probe_job([url], model_id, tokenizer, key_env, token), label=f"Testing {url}",
           on_result=tested, on_error=failed)


__all__ = ["ENGINE_LABEL", "build_served", "capability_text", "served_details", "test_connection"]
