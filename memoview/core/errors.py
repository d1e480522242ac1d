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
    """An architecture transformers cannot run as a causal LM without remote code."""


class ExtractionError(MemoviewError):
    pass


class ExportError(MemoviewError):
    pass
