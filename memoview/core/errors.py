"""One exception tree for everything the user can cause.

Each error carries a plain ``message`` (what went wrong, naming the thing)
and a ``hint`` (what the user can do). The CLI prints both and exits
non-zero; the GUI shows both in its one error dialog.
"""

from __future__ import annotations


class MemoviewError(Exception):
    """Base of every error meant for the user."""

    exit_code: int = 2

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\nHint: {self.hint}"


class ValidationError(MemoviewError):
    """A request whose parameters cannot work (e.g. top-k 0)."""


class NotFoundError(MemoviewError):
    """A document, model or attempt that the case does not hold."""


class CaseError(MemoviewError):
    """Problems with a case file."""


class NotACaseError(CaseError):
    pass


class CaseTooNewError(CaseError):
    pass


class CorruptCaseError(CaseError):
    pass


class ReadOnlyCaseError(CaseError):
    """A write to a case opened read-only (read-only medium or permissions): nothing was recorded."""


class DiskFullError(CaseError):
    """The disk (or the file-size limit) ran out while writing; the transaction was rolled back."""


class IntegrityError(CaseError):
    """Verification found a broken hash chain or a changed document."""

    exit_code = 3


class DocumentError(MemoviewError):
    """A source document that cannot be imported."""


class DuplicateDocumentError(DocumentError):
    def __init__(self, message: str, hint: str = "", existing_id: int | None = None) -> None:
        super().__init__(message, hint)
        self.existing_id = existing_id


class ModelError(MemoviewError):
    """A model that cannot be opened or used."""


class ModelFormatError(ModelError):
    pass


class PickleRefusedError(ModelError):
    pass


class InsufficientMemoryError(ModelError):
    pass


class ModelNotFoundError(ModelError):
    """The model path does not exist."""


class MissingConfigError(ModelFormatError):
    """A model folder without config.json."""


class MissingTokenizerError(ModelFormatError):
    """A model folder without (loadable) tokenizer files."""


class NoWeightsError(ModelFormatError):
    """A model folder without weight files (or with shards missing)."""


class TruncatedWeightsError(ModelFormatError):
    """A safetensors file shorter than its header declares."""


class InvalidGGUFError(ModelFormatError):
    """A file that is not a readable GGUF model."""


class TruncatedGGUFError(InvalidGGUFError):
    """A GGUF file cut short (tensor data beyond the end of the file)."""


class UnsupportedArchitectureError(ModelError):
    """An architecture the engine asked for cannot run (transformers: not a native causal LM; GGUF: see gguf_support)."""


class ExtractionError(MemoviewError):
    pass


class ExportError(MemoviewError):
    pass


# --------------------------------------------------------------------------- served models (OpenAI-compatible HTTP)
class ServerError(ModelError):
    """A model served over HTTP that cannot be reached or used (never carries the API key)."""


class ServerUnreachableError(ServerError):
    """No connection (refused, DNS, reset) after the retries."""


class ServerAuthError(ServerError):
    """401/403: the API key is missing, wrong or lacks access."""


class ServerModelNotFoundError(ServerError):
    """The server does not serve the model id given."""


class ServerContextTooLongError(ServerError):
    """The request is longer than the served model's context."""


class ServerFeatureError(ServerError):
    """The server lacks what a method needs (prompt log-probs, chat template, enough top log-probs)."""


class ServerResponseError(ServerError):
    """The server answered, but not with something memoview can read (garbage, wrong shape, 4xx)."""


class ServerBusyError(ServerError):
    """429 or 5xx after every retry."""


class ServerTimeoutError(ServerError):
    """No answer within the timeout, after every retry."""


class TokenizationMismatchError(ServerError):
    """The server tokenized a text into other tokens than the local tokenizer: scores cannot be mapped."""
