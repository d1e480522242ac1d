"""The contract between the model backend and its users (extraction, CLI, GUI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from memoview.core.records import ModelInfo


@dataclass
class LoadedModel:
    """An opened model, ready for forward passes.

    ``model`` is a transformers causal LM (torch ``nn.Module``) in eval mode,
    with its shipped ``generation_config`` neutralised: extraction passes every
    decoding parameter explicitly. ``tokenizer`` is the matching transformers
    tokenizer. ``info`` is what the case stores about it.
    """

    info: ModelInfo
    model: Any
    tokenizer: Any
    report: "Optional[LoadReport]" = None

    @property
    def adds_bos(self) -> bool:
        return self.info.adds_bos

    @property
    def bos_token_id(self) -> int | None:
        return getattr(self.tokenizer, "bos_token_id", None)

    @property
    def eos_token_id(self) -> int | None:
        return getattr(self.tokenizer, "eos_token_id", None)

    def encode(self, text: str) -> list[int]:
        """Tokens of the text itself, without special tokens (BOS is a policy, added by the caller)."""
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode_with_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Token ids and each token's character range in ``text``."""
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]

    def decode(self, ids: list[int]) -> str:
        return str(self.tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False))


@dataclass(frozen=True)
class LoadReport:
    """How an open went: where the weights came from and how long it took (for the status bar and benchmarks)."""

    source: str  # "hf" | "gguf" (dequantized now) | "gguf-cache" (verified cache)
    seconds: float
    cache_dir: str = ""
    cache_problem: str = ""  # why an existing GGUF cache was discarded, if it was
